// WordPiece vocabulary learning: word counts, then greedy merges by pair frequency or likelihood
// score, found with a lazily revalidated max-heap instead of rescanning every pair after each
// merge.
#include "data/vocab_trainer.hpp"

#include <algorithm>
#include <fstream>
#include <queue>
#include <unordered_set>

#include "data/basic_tokenizer.hpp"
#include "data/wordpiece.hpp"
#include "engine/error.hpp"

namespace electra {
namespace {

const char* const kSpecialTokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

using PairKey = std::uint64_t;  // (left symbol << 32) | right symbol
PairKey pair_key(std::int32_t left, std::int32_t right) {
  return (static_cast<std::uint64_t>(left) << 32) | static_cast<std::uint32_t>(right);
}
std::int32_t left_of(PairKey key) { return static_cast<std::int32_t>(key >> 32); }
std::int32_t right_of(PairKey key) { return static_cast<std::int32_t>(key & 0xFFFFFFFFu); }

struct Candidate {
  double score;
  std::int64_t count;
  PairKey key;
};
// Best score first; ties go to the more frequent pair, then to the older symbols.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.score != b.score) return a.score < b.score;
    if (a.count != b.count) return a.count < b.count;
    return a.key > b.key;
  }
};

// The merge state: every distinct word as a sequence of symbol ids, with pair and symbol counts.
class MergeState {
 public:
  explicit MergeState(VocabScoring scoring) : scoring(scoring) {}
  VocabScoring scoring;
  std::vector<std::string> symbols;
  std::unordered_map<std::string, std::int32_t> symbol_ids;
  std::vector<std::int64_t> symbol_counts;
  std::vector<std::vector<std::int32_t>> words;
  std::vector<std::int64_t> word_counts;
  std::unordered_map<PairKey, std::int64_t> pair_counts;
  std::unordered_map<PairKey, std::vector<std::uint32_t>> pair_words;  // may hold stale entries
  std::vector<std::vector<PairKey>> pairs_with_symbol;                 // may hold stale entries
  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> heap;

  std::int32_t symbol_id(const std::string& text) {
    const auto [it, inserted] =
        symbol_ids.try_emplace(text, static_cast<std::int32_t>(symbols.size()));
    if (inserted) {
      symbols.push_back(text);
      symbol_counts.push_back(0);
      pairs_with_symbol.emplace_back();
    }
    return it->second;
  }

  double score(PairKey key) const {
    if (scoring == VocabScoring::frequency) return static_cast<double>(pair_counts.at(key));
    return static_cast<double>(pair_counts.at(key)) /
           (static_cast<double>(symbol_counts[left_of(key)]) *
            static_cast<double>(symbol_counts[right_of(key)]));
  }

  void push(PairKey key) {
    const auto it = pair_counts.find(key);
    if (it != pair_counts.end() && it->second > 0) heap.push({score(key), it->second, key});
  }

  // Adds (sign = +1) or removes (sign = -1) word `index`'s contribution to the counts.
  void account(std::uint32_t index, int sign) {
    const std::vector<std::int32_t>& word = words[index];
    const std::int64_t count = sign * word_counts[index];
    for (std::size_t i = 0; i < word.size(); ++i) {
      symbol_counts[word[i]] += count;
      if (i + 1 == word.size()) continue;
      const PairKey key = pair_key(word[i], word[i + 1]);
      std::int64_t& pair_count = pair_counts[key];
      if (pair_count == 0 && sign > 0) {
        pairs_with_symbol[word[i]].push_back(key);
        pairs_with_symbol[word[i + 1]].push_back(key);
      }
      pair_count += count;
      if (sign > 0) {
        std::vector<std::uint32_t>& holders = pair_words[key];
        if (holders.empty() || holders.back() != index) holders.push_back(index);
      }
      if (pair_count == 0) pair_counts.erase(key);
    }
  }

  void merge(PairKey key, std::int32_t merged) {
    const std::int32_t left = left_of(key), right = right_of(key);
    std::vector<std::uint32_t> holders = std::move(pair_words[key]);
    pair_words.erase(key);
    std::sort(holders.begin(), holders.end());
    holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
    for (const std::uint32_t index : holders) {
      std::vector<std::int32_t>& word = words[index];
      bool present = false;
      for (std::size_t i = 0; i + 1 < word.size() && !present; ++i)
        present = word[i] == left && word[i + 1] == right;
      if (!present) continue;
      account(index, -1);
      std::vector<std::int32_t> rebuilt;
      rebuilt.reserve(word.size());
      for (std::size_t i = 0; i < word.size(); ++i) {
        if (i + 1 < word.size() && word[i] == left && word[i + 1] == right) {
          rebuilt.push_back(merged);
          ++i;
        } else {
          rebuilt.push_back(word[i]);
        }
      }
      word = std::move(rebuilt);
      account(index, +1);
      for (std::size_t i = 0; i + 1 < word.size(); ++i) push(pair_key(word[i], word[i + 1]));
    }
    // Likelihood only: fewer a's and b's raise the score of every other pair holding them, so
    // re-queue those. A pair's frequency changes only in the words rebuilt above.
    if (scoring != VocabScoring::likelihood) return;
    for (const std::int32_t symbol : {left, right}) {
      std::vector<PairKey>& pairs = pairs_with_symbol[symbol];
      std::erase_if(pairs, [&](PairKey other) { return !pair_counts.contains(other); });
      std::sort(pairs.begin(), pairs.end());
      pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
      for (const PairKey other : pairs) push(other);
    }
  }
};

}  // namespace

const char* vocab_scoring_name(VocabScoring scoring) {
  return scoring == VocabScoring::frequency ? "frequency" : "likelihood";
}

VocabScoring parse_vocab_scoring(std::string_view name) {
  if (name == "frequency") return VocabScoring::frequency;
  if (name == "likelihood") return VocabScoring::likelihood;
  throw_error("vocab: unknown scoring '", name, "' (expected frequency or likelihood)");
}

std::size_t VocabTrainer::TransparentHash::operator()(std::string_view text) const {
  return std::hash<std::string_view>{}(text);
}

VocabTrainer::VocabTrainer(VocabTrainerSettings settings) : settings_(settings) {}

void VocabTrainer::count_word(std::string_view word) {
  ++word_occurrences_;
  const auto it = word_counts_.find(word);
  if (it != word_counts_.end())
    ++it->second;
  else
    word_counts_.emplace(std::string(word), 1);
}

void VocabTrainer::add_text(std::string_view text) {
  thread_local BasicWords words;
  basic_tokenize(text, words);
  invalid_utf8_ += words.invalid_utf8;
  for (std::size_t i = 0; i < words.size(); ++i) count_word(words.word(i));
}

void VocabTrainer::add_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "vocab: cannot open corpus '", path, "'");
  std::string line;
  while (std::getline(in, line)) add_text(line);
  check(!in.bad(), "vocab: cannot read corpus '", path, "'");
}

std::vector<std::string> VocabTrainer::train(VocabTrainerReport* report) const {
  // Words in a fixed order (by text) so the result does not depend on hash-map iteration.
  std::vector<std::pair<std::string_view, std::int64_t>> sorted_words;
  sorted_words.reserve(word_counts_.size());
  for (const auto& [word, count] : word_counts_) {
    std::size_t code_points = 0;
    for (const char byte : word) code_points += (static_cast<unsigned char>(byte) & 0xC0) != 0x80;
    if (code_points <= kMaxWordCodePoints) sorted_words.emplace_back(word, count);  // else [UNK]
  }
  std::sort(sorted_words.begin(), sorted_words.end());

  // Characters, split into word-initial and "##" forms, counted over occurrences.
  std::unordered_map<std::string, std::int64_t> character_counts;
  std::vector<std::vector<std::string>> split_words;
  split_words.reserve(sorted_words.size());
  for (const auto& [word, count] : sorted_words) {
    std::vector<std::string> pieces;
    for (std::size_t i = 0; i < word.size();) {
      std::size_t length = 1;
      while (i + length < word.size() &&
             (static_cast<unsigned char>(word[i + length]) & 0xC0) == 0x80)
        ++length;
      pieces.emplace_back((i == 0 ? "" : "##") + std::string(word.substr(i, length)));
      i += length;
    }
    for (const std::string& piece : pieces)
      character_counts[piece.starts_with("##") ? piece.substr(2) : piece] += count;
    split_words.push_back(std::move(pieces));
  }
  std::vector<std::pair<std::string, std::int64_t>> characters(character_counts.begin(),
                                                               character_counts.end());
  std::sort(characters.begin(), characters.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });

  std::vector<std::string> vocab(std::begin(kSpecialTokens), std::end(kSpecialTokens));
  for (const auto& [character, count] : characters) vocab.push_back(character);
  for (const auto& [character, count] : characters) vocab.push_back("##" + character);
  check(settings_.vocab_size >= vocab.size(), "vocab: --size ", settings_.vocab_size,
        " is too small: the special tokens and the ", characters.size(),
        " characters of the corpus (with their ## forms) need ", vocab.size());
  std::unordered_set<std::string> in_vocab(vocab.begin(), vocab.end());

  MergeState state(settings_.scoring);
  for (std::size_t w = 0; w < split_words.size(); ++w) {
    std::vector<std::int32_t> ids;
    for (const std::string& piece : split_words[w]) ids.push_back(state.symbol_id(piece));
    state.words.push_back(std::move(ids));
    state.word_counts.push_back(sorted_words[w].second);
    state.account(static_cast<std::uint32_t>(w), +1);
  }
  for (const auto& [key, count] : state.pair_counts) state.push(key);

  std::int64_t merges = 0;
  while (vocab.size() < settings_.vocab_size && !state.heap.empty()) {
    const Candidate top = state.heap.top();
    state.heap.pop();
    const auto it = state.pair_counts.find(top.key);
    if (it == state.pair_counts.end() || it->second <= 0) continue;
    const double current = state.score(top.key);
    if (current != top.score || it->second != top.count) {  // stale: re-queue as it is now
      state.heap.push({current, it->second, top.key});
      continue;
    }
    const std::string& right = state.symbols[right_of(top.key)];
    const std::string merged_text =
        state.symbols[left_of(top.key)] + (right.starts_with("##") ? right.substr(2) : right);
    const std::int32_t merged = state.symbol_id(merged_text);
    state.merge(top.key, merged);
    if (in_vocab.insert(merged_text).second) {
      vocab.push_back(merged_text);
      ++merges;
    }
  }
  if (report) {
    report->words = word_occurrences_;
    report->distinct_words = static_cast<std::int64_t>(word_counts_.size());
    report->characters = static_cast<std::int64_t>(characters.size());
    report->merges = merges;
    report->invalid_utf8 = invalid_utf8_;
  }
  return vocab;
}

}  // namespace electra
