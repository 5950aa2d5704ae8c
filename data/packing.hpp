#pragma once
// Packs tokenised text into fixed-length pre-training sequences `[CLS] A [SEP] B [SEP]`, the way
// google-research/electra's build_pretraining_dataset.py (ExampleBuilder) does (DESIGN §2 step 1):
//
//   * Input is a stream of documents; a document is a list of sentences (token-id runs). Our text
//     files hold one passage per line with a blank line between documents (the BERT/ELECTRA
//     format); a passage is cut into sentences after ".", "!" or "?" tokens, so A and B can be
//     split at sentence boundaries even when a passage is long.
//   * Sentences accumulate until they reach the target length; then one sequence is made and the
//     next starts empty (the overflow of the last sentence is cut, as in ELECTRA). A document's end
//     flushes what has accumulated (so a sequence never spans two documents).
//   * 10% of sequences are single-segment; otherwise A aims at (target − 3) / 2 tokens: a sentence
//     joins A while A is empty or stays under that, or — while B is still empty and A is short —
//     with probability ½; the rest goes to B. A is cut to L − 2 tokens, B to L − |A| − 3.
//   * After each sequence, the next target is L, or with probability 5% a random length in [5, L].
// The randomness is Philox (engine/philox.hpp) on a running draw counter, so the packing is a
// pure function of (token stream, seed): identical whatever the thread count of tokenisation.
#include <cstdint>
#include <span>
#include <vector>

#include "data/batch.hpp"

namespace electra {

// One packed sequence without padding: ids = [CLS] A [SEP] (B [SEP]), size ≤ L.
// segment_a_end = index just after A's [SEP]: token type 1 on [segment_a_end, size).
struct PackedSequence {
  std::vector<std::int32_t> ids;
  std::int32_t segment_a_end = 0;
};

struct PackingStats {
  std::int64_t sequences = 0;
  std::int64_t single_segment = 0;        // sequences with no B (drawn, or A alone filled L)
  std::int64_t single_segment_drawn = 0;  // the 10% draw: A may take everything
  std::int64_t short_targets = 0;         // sequences built towards a random shorter target
  std::int64_t tokens = 0;                // non-pad tokens written, specials included
  std::int64_t dropped_tokens = 0;        // cut by the length limits
};

class SequencePacker {
 public:
  // sentence_end_ids: the ids after which a passage is cut into sentences (may be empty).
  SequencePacker(const SpecialTokens& special, std::int64_t seq_len, std::uint64_t seed,
                 std::vector<std::int32_t> sentence_end_ids);

  // Adds one passage of the current document; completed sequences are appended to `out`.
  void add_passage(std::span<const std::int32_t> ids, std::vector<PackedSequence>& out);
  // Ends the current document (a blank line, or the end of a file).
  void end_document(std::vector<PackedSequence>& out);

  const PackingStats& stats() const { return stats_; }
  std::int64_t seq_len() const { return seq_len_; }

 private:
  void add_sentence(std::span<const std::int32_t> sentence, std::vector<PackedSequence>& out);
  void make_sequence(std::vector<PackedSequence>& out);
  double next_uniform();  // [0, 1), the next Philox draw

  SpecialTokens special_;
  std::int64_t seq_len_;
  std::uint64_t seed_;
  std::uint64_t draws_ = 0;
  std::vector<std::int32_t> sentence_end_ids_;
  std::int64_t target_length_;
  bool target_is_short_ = false;
  std::vector<std::vector<std::int32_t>> sentences_;
  std::int64_t accumulated_ = 0;
  PackingStats stats_;
};

}  // namespace electra
