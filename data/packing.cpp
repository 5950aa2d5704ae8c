#include "data/packing.hpp"

#include <algorithm>
#include <limits>

#include "engine/error.hpp"
#include "engine/philox.hpp"

namespace electra {
namespace {
// Philox stream of the packing draws (other streams belong to masking, dropout, shuffling).
constexpr std::uint32_t packing_stream = 0x5041434bu;  // "PACK"
constexpr std::int64_t shortest_random_target = 5;
constexpr double single_segment_probability = 0.1;
constexpr double short_target_probability = 0.05;
}  // namespace

SequencePacker::SequencePacker(const SpecialTokens& special, std::int64_t seq_len,
                               std::uint64_t seed, std::vector<std::int32_t> sentence_end_ids)
    : special_(special),
      seq_len_(seq_len),
      seed_(seed),
      sentence_end_ids_(std::move(sentence_end_ids)),
      target_length_(seq_len) {
  check(seq_len >= 8, "SequencePacker: seq_len ", seq_len, " is below 8");
}

double SequencePacker::next_uniform() { return philox::uniform(seed_, packing_stream, draws_++); }

void SequencePacker::add_passage(std::span<const std::int32_t> ids,
                                 std::vector<PackedSequence>& out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const bool ends_sentence = std::find(sentence_end_ids_.begin(), sentence_end_ids_.end(),
                                         ids[i]) != sentence_end_ids_.end();
    // "..." or "?!" stay with their sentence: cut only before a token that is not an end mark.
    const bool next_is_end =
        i + 1 < ids.size() && std::find(sentence_end_ids_.begin(), sentence_end_ids_.end(),
                                        ids[i + 1]) != sentence_end_ids_.end();
    if (ends_sentence && !next_is_end) {
      add_sentence(ids.subspan(start, i + 1 - start), out);
      start = i + 1;
    }
  }
  if (start < ids.size()) add_sentence(ids.subspan(start), out);
}

void SequencePacker::add_sentence(std::span<const std::int32_t> sentence,
                                  std::vector<PackedSequence>& out) {
  if (sentence.empty()) return;
  sentences_.emplace_back(sentence.begin(), sentence.end());
  accumulated_ += static_cast<std::int64_t>(sentence.size());
  if (accumulated_ >= target_length_) make_sequence(out);
}

void SequencePacker::end_document(std::vector<PackedSequence>& out) {
  if (accumulated_ > 0) make_sequence(out);
}

void SequencePacker::make_sequence(std::vector<PackedSequence>& out) {
  const bool single_segment = next_uniform() < single_segment_probability;
  // −3 leaves room for [CLS] and the two [SEP]s.
  const std::int64_t first_target =
      single_segment ? std::numeric_limits<std::int64_t>::max() : (target_length_ - 3) / 2;
  std::vector<std::int32_t> first, second;
  for (const std::vector<std::int32_t>& sentence : sentences_) {
    const auto first_size = static_cast<std::int64_t>(first.size());
    const auto sentence_size = static_cast<std::int64_t>(sentence.size());
    // The draw happens only when the first two conditions fail, as in ELECTRA.
    const bool to_first = first.empty() || first_size + sentence_size < first_target ||
                          (second.empty() && first_size < first_target && next_uniform() < 0.5);
    std::vector<std::int32_t>& segment = to_first ? first : second;
    segment.insert(segment.end(), sentence.begin(), sentence.end());
  }
  const std::int64_t before_cut = static_cast<std::int64_t>(first.size() + second.size());
  first.resize(std::min<std::size_t>(first.size(), static_cast<std::size_t>(seq_len_ - 2)));
  const std::int64_t room_for_second = std::max<std::int64_t>(0, seq_len_ - first.size() - 3);
  second.resize(std::min<std::size_t>(second.size(), static_cast<std::size_t>(room_for_second)));

  PackedSequence sequence;
  sequence.ids.reserve(first.size() + second.size() + 3);
  sequence.ids.push_back(special_.cls);
  sequence.ids.insert(sequence.ids.end(), first.begin(), first.end());
  sequence.ids.push_back(special_.sep);
  sequence.segment_a_end = static_cast<std::int32_t>(sequence.ids.size());
  if (!second.empty()) {
    sequence.ids.insert(sequence.ids.end(), second.begin(), second.end());
    sequence.ids.push_back(special_.sep);
  }
  stats_.sequences += 1;
  stats_.single_segment += second.empty() ? 1 : 0;
  stats_.single_segment_drawn += single_segment ? 1 : 0;
  stats_.short_targets += target_is_short_ ? 1 : 0;
  stats_.tokens += static_cast<std::int64_t>(sequence.ids.size());
  stats_.dropped_tokens += before_cut - static_cast<std::int64_t>(first.size() + second.size());
  out.push_back(std::move(sequence));

  sentences_.clear();
  accumulated_ = 0;
  target_is_short_ = next_uniform() < short_target_probability;
  if (target_is_short_) {
    const std::int64_t span = seq_len_ - shortest_random_target + 1;
    target_length_ =
        shortest_random_target +
        std::min<std::int64_t>(span - 1, static_cast<std::int64_t>(next_uniform() * span));
  } else {
    target_length_ = seq_len_;
  }
}

}  // namespace electra
