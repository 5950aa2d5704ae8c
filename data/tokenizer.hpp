#pragma once
// BERT's uncased tokenizer (google-research/bert tokenization.py FullTokenizer with
// do_lower_case=True; the same ids as HF's BertTokenizer for bert-base-uncased): the basic
// tokenizer (data/basic_tokenizer.hpp) then greedy WordPiece (data/wordpiece.hpp).
// All methods are const and thread-safe; each thread keeps its own scratch buffers.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/vocab.hpp"

namespace electra {

// A model input: [CLS] A [SEP] (B [SEP]), all three vectors of the same length.
struct Encoding {
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;  // 0 for [CLS], A and its [SEP]; 1 for B and its [SEP]
  std::vector<std::int32_t> attention_mask;  // 1 for tokens, 0 for padding
};

// What encoding met on the way, summed over calls that pass the same stats.
struct TokenizeStats {
  std::int64_t invalid_utf8 = 0;   // malformed byte sequences, each dropped like U+FFFD
  std::int64_t unknown_words = 0;  // words that became [UNK] (too long or no WordPiece split)
};

class Tokenizer {
 public:
  static Tokenizer from_file(const std::string& vocab_path);
  explicit Tokenizer(Vocab vocab);

  // Word-piece ids of `text` (UTF-8, invalid bytes dropped), without [CLS]/[SEP].
  std::vector<std::int32_t> encode(std::string_view text) const;
  // The same, appended to `ids`: the allocation-free form for corpus preparation.
  void encode_append(std::string_view text, std::vector<std::int32_t>& ids,
                     TokenizeStats* stats = nullptr) const;
  // The word pieces themselves ("un", "##aff", "##able").
  std::vector<std::string> tokens(std::string_view text) const;

  // [CLS] a [SEP] or [CLS] a [SEP] b [SEP], truncated to max_length like BERT: while too long,
  // drop the last token of the longer segment (of b on a tie). Throws when max_length cannot
  // hold the special tokens. With pad_to_max_length the vectors are padded with [PAD] / 0.
  Encoding encode_pair(std::string_view a, std::optional<std::string_view> b,
                       std::size_t max_length, bool pad_to_max_length = false) const;

  // Pieces joined by spaces with "##" continuations glued to the piece before (HF's
  // convert_tokens_to_string). Throws on an id outside the vocabulary.
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = false) const;

  const Vocab& vocab() const { return vocab_; }
  const SpecialTokens& special_tokens() const { return vocab_.special(); }

 private:
  Vocab vocab_;
};

}  // namespace electra
