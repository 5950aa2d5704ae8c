#pragma once
// Learns a WordPiece vocabulary from raw text. Words come from BERT's basic tokenizer (so the
// result fits data/tokenizer.hpp); each word starts as its characters ("w", "##o", "##r") and the
// best-scoring adjacent pair (VocabScoring) is merged until the vocabulary has the requested
// size. Output order: [PAD] [UNK] [CLS] [SEP] [MASK], every character seen (most frequent first),
// then every "##" character, then the merges in the order they were made.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace electra {

// How the next merge is chosen.
enum class VocabScoring {
  // The most frequent pair, count(ab) (BPE-style, as Hugging Face's WordPiece trainer does).
  // Frequent words become single tokens early, so a small vocabulary holds "the", "me", "years"
  // whole and a small generator can learn to predict them.
  frequency,
  // Google's WordPiece likelihood count(ab) / (count(a) · count(b)). It favours pairs whose
  // parts rarely occur apart, i.e. rare words, so with a small vocabulary common words stay
  // split into characters ("years" -> y ##e ##a ##r ##s).
  likelihood,
};

struct VocabTrainerSettings {
  std::size_t vocab_size = 30522;
  VocabScoring scoring = VocabScoring::frequency;
};

// "frequency" / "likelihood"; parse_vocab_scoring throws electra::Error naming any other text.
const char* vocab_scoring_name(VocabScoring scoring);
VocabScoring parse_vocab_scoring(std::string_view name);

struct VocabTrainerReport {
  std::int64_t words = 0;  // word occurrences counted
  std::int64_t distinct_words = 0;
  std::int64_t characters = 0;    // distinct characters (each gives two tokens)
  std::int64_t merges = 0;        // merges that added a token
  std::int64_t invalid_utf8 = 0;  // malformed sequences dropped from the corpus
};

class VocabTrainer {
 public:
  explicit VocabTrainer(VocabTrainerSettings settings);

  // Counts the words of `text` (any amount, any number of calls).
  void add_text(std::string_view text);
  // Reads a corpus file line by line; throws electra::Error naming it when it cannot be read.
  void add_file(const std::string& path);

  // The vocabulary, ids in order. Throws when vocab_size cannot hold the special tokens and
  // the characters of the corpus (the message says how many are needed).
  std::vector<std::string> train(VocabTrainerReport* report = nullptr) const;

 private:
  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const;
  };
  VocabTrainerSettings settings_;
  // word → occurrences; lookups by string_view do not allocate.
  std::unordered_map<std::string, std::int64_t, TransparentHash, std::equal_to<>> word_counts_;
  std::int64_t word_occurrences_ = 0;
  std::int64_t invalid_utf8_ = 0;
  void count_word(std::string_view word);
};

}  // namespace electra
