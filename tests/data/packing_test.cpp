// SequencePacker: ELECTRA's packing statistics and the [CLS] A [SEP] B [SEP] structure.
#include "data/packing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "engine/philox.hpp"

using namespace electra;

namespace {

constexpr std::int32_t period_id = 7;

// Documents of sentences of 6–25 tokens (ids 10..59, each sentence ending in period_id).
std::vector<PackedSequence> pack_synthetic(std::int64_t seq_len, std::int64_t documents,
                                           PackingStats* stats, std::uint64_t seed = 5) {
  SequencePacker packer(SpecialTokens{}, seq_len, seed, {period_id});
  std::vector<PackedSequence> out;
  std::uint64_t draw = 0;
  for (std::int64_t d = 0; d < documents; ++d) {
    const auto passages = 3 + static_cast<int>(philox::uniform(99, 1, draw++) * 10);
    for (int p = 0; p < passages; ++p) {
      std::vector<std::int32_t> passage;
      for (int s = 0; s < 4; ++s) {
        const auto length = 5 + static_cast<int>(philox::uniform(99, 2, draw++) * 20);
        for (int t = 0; t < length; ++t) passage.push_back(10 + (t % 50));
        passage.push_back(period_id);
      }
      packer.add_passage(passage, out);
    }
    packer.end_document(out);
  }
  *stats = packer.stats();
  return out;
}

void check_structure(const PackedSequence& sequence, std::int64_t seq_len) {
  const SpecialTokens special;
  const auto& ids = sequence.ids;
  REQUIRE(ids.size() >= 2);
  REQUIRE(static_cast<std::int64_t>(ids.size()) <= seq_len);
  CHECK(ids.front() == special.cls);
  CHECK(ids.back() == special.sep);
  REQUIRE(sequence.segment_a_end >= 2);
  REQUIRE(sequence.segment_a_end <= static_cast<std::int32_t>(ids.size()));
  CHECK(ids[sequence.segment_a_end - 1] == special.sep);
  const auto seps = std::count(ids.begin(), ids.end(), special.sep);
  const bool single = sequence.segment_a_end == static_cast<std::int32_t>(ids.size());
  CHECK(seps == (single ? 1 : 2));
  CHECK(std::count(ids.begin(), ids.end(), special.cls) == 1);
}

}  // namespace

TEST_CASE("packing: every sequence is CLS A SEP (B SEP) within L") {
  PackingStats stats;
  const auto sequences = pack_synthetic(64, 300, &stats);
  REQUIRE(sequences.size() > 500);
  for (const PackedSequence& sequence : sequences) check_structure(sequence, 64);
  const auto tokens = std::accumulate(sequences.begin(), sequences.end(), std::int64_t{0},
                                      [](std::int64_t sum, const PackedSequence& s) {
                                        return sum + static_cast<std::int64_t>(s.ids.size());
                                      });
  CHECK(stats.tokens == tokens);
  CHECK(stats.sequences == static_cast<std::int64_t>(sequences.size()));
}

TEST_CASE("packing: 10% single-segment draws and 5% shorter targets") {
  PackingStats stats;
  const auto sequences = pack_synthetic(128, 3000, &stats);
  const double n = static_cast<double>(stats.sequences);
  REQUIRE(n > 8000);
  // Binomial standard deviation at n ≈ 9000: 0.3% for p = 0.1, 0.23% for p = 0.05.
  CHECK(stats.single_segment_drawn / n == doctest::Approx(0.10).epsilon(0.015 / 0.10));
  // Sequences built towards a shorter target: the draw happens after each sequence.
  CHECK(stats.short_targets / n == doctest::Approx(0.05).epsilon(0.012 / 0.05));
  // Outcome: drawn single-segment ones, plus those whose sentences all went to A (document ends).
  CHECK(stats.single_segment >= stats.single_segment_drawn);
  CHECK(stats.single_segment / n < 0.25);
  // Full-length sequences fill most of L: short ones are the 5% and document ends.
  std::int64_t full = 0;
  for (const PackedSequence& sequence : sequences) full += sequence.ids.size() >= 120 ? 1 : 0;
  CHECK(full / n > 0.6);
}

TEST_CASE("packing: the same seed gives the same sequences and another seed differs") {
  PackingStats a_stats, b_stats, c_stats;
  const auto a = pack_synthetic(64, 50, &a_stats, 5);
  const auto b = pack_synthetic(64, 50, &b_stats, 5);
  const auto c = pack_synthetic(64, 50, &c_stats, 6);
  REQUIRE(a.size() == b.size());
  bool all_same = true, any_different = a.size() != c.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    all_same &= a[i].ids == b[i].ids && a[i].segment_a_end == b[i].segment_a_end;
    if (i < c.size()) any_different |= a[i].ids != c[i].ids;
  }
  CHECK(all_same);
  CHECK(any_different);
}

TEST_CASE("packing: a sentence longer than L is cut to L and a document end flushes") {
  SequencePacker packer(SpecialTokens{}, 16, 1, {period_id});
  std::vector<PackedSequence> out;
  std::vector<std::int32_t> long_sentence(100, 42);
  packer.add_passage(long_sentence, out);
  REQUIRE(out.size() == 1);
  check_structure(out[0], 16);
  CHECK(out[0].ids.size() == 16);
  CHECK(packer.stats().dropped_tokens == 100 - 14);

  const std::vector<std::int32_t> short_sentence = {11, 12, period_id};
  packer.add_passage(short_sentence, out);
  CHECK(out.size() == 1);  // still accumulating
  packer.end_document(out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].ids ==
        std::vector<std::int32_t>{SpecialTokens{}.cls, 11, 12, period_id, SpecialTokens{}.sep});
  packer.end_document(out);  // nothing accumulated: no empty sequence
  CHECK(out.size() == 2);
}

TEST_CASE("packing: A and B split at sentence boundaries") {
  // Two sentences of 20 tokens at L = 64: (64 − 3) / 2 = 30, so the second cannot join A
  // except by the ½ draw while A is short; whichever way, the cut is at a sentence end.
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    SequencePacker packer(SpecialTokens{}, 64, seed, {period_id});
    std::vector<PackedSequence> out;
    std::vector<std::int32_t> passage;
    for (int s = 0; s < 4; ++s) {
      for (int t = 0; t < 19; ++t) passage.push_back(20 + s);
      passage.push_back(period_id);
    }
    packer.add_passage(passage, out);
    packer.end_document(out);
    REQUIRE(!out.empty());
    const PackedSequence& first = out[0];
    check_structure(first, 64);
    if (first.segment_a_end < static_cast<std::int32_t>(first.ids.size())) {
      CHECK(first.ids[first.segment_a_end - 2] == period_id);  // A ends with its sentence's "."
    }
  }
}
