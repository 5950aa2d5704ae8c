// WordPiece vocabulary learning: layout, hand-computed merges, errors, and a round trip
// through the tokenizer.
#include "data/vocab_trainer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "data/basic_tokenizer.hpp"
#include "data/tokenizer.hpp"
#include "engine/error.hpp"

using electra::VocabScoring;
using electra::VocabTrainer;
using electra::VocabTrainerSettings;
using Strings = std::vector<std::string>;

namespace {
VocabTrainerSettings settings_of(std::size_t size, VocabScoring scoring) {
  VocabTrainerSettings settings;
  settings.vocab_size = size;
  settings.scoring = scoring;
  return settings;
}
}  // namespace

TEST_CASE("vocab_trainer: specials, characters by frequency, then merges by likelihood score") {
  // Words: "ab" ×3, "ac" ×1. Symbols a (4), ##b (3), ##c (1).
  // (a,##b): 3/(4·3) = 0.25 and (a,##c): 1/(4·1) = 0.25 tie; the more frequent pair wins.
  // After it, a has count 1, so (a,##c) scores 1/(1·1) = 1 and is next.
  VocabTrainer trainer(settings_of(13, VocabScoring::likelihood));
  trainer.add_text("ab AB ab ac");
  electra::VocabTrainerReport report;
  const Strings vocab = trainer.train(&report);
  CHECK(vocab == Strings{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "##a", "##b",
                         "##c", "ab", "ac"});
  CHECK(report.words == 4);
  CHECK(report.distinct_words == 2);
  CHECK(report.characters == 3);
  CHECK(report.merges == 2);

  VocabTrainer smaller(settings_of(12, VocabScoring::likelihood));
  smaller.add_text("ab AB ab ac");
  CHECK(smaller.train().back() == "ab");
}

TEST_CASE(
    "vocab_trainer: frequency scoring merges the most frequent pair, likelihood the rarest parts") {
  // Words: "abc" ×3, "xbc" ×2, "yz" ×1. Characters by count: b 5, c 5, a 3, x 2, y 1, z 1.
  // Frequency: (##b,##c) 5 -> "##bc"; then (a,##bc) 3 -> "abc"; (x,##bc) 2 -> "xbc"; (y,##z) 1.
  // Likelihood: (y,##z) scores 1/(1·1) = 1; every other pair scores 0.2 (3/(3·5), 5/(5·5),
  // 2/(2·5)) and ties go to the more frequent, so "yz" comes first and the rest keep their order.
  const std::string text = "abc abc abc xbc xbc yz";
  const Strings characters = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "b",   "c",   "a",  "x",
                              "y",     "z",     "##b",   "##c",   "##a",    "##x", "##y", "##z"};
  auto trained = [&](std::size_t size, VocabScoring scoring) {
    VocabTrainer trainer(settings_of(size, scoring));
    trainer.add_text(text);
    const Strings vocab = trainer.train();
    REQUIRE(vocab.size() == size);
    REQUIRE(Strings(vocab.begin(), vocab.begin() + 17) == characters);
    return Strings(vocab.begin() + 17, vocab.end());
  };
  CHECK(trained(21, VocabScoring::frequency) == Strings{"##bc", "abc", "xbc", "yz"});
  CHECK(trained(21, VocabScoring::likelihood) == Strings{"yz", "##bc", "abc", "xbc"});
  CHECK(trained(18, VocabScoring::frequency) == Strings{"##bc"});
  CHECK(trained(18, VocabScoring::likelihood) == Strings{"yz"});
  // Frequency is the default: whole frequent words in a small vocabulary.
  CHECK(VocabTrainerSettings{}.scoring == VocabScoring::frequency);

  CHECK(electra::parse_vocab_scoring("likelihood") == VocabScoring::likelihood);
  CHECK(std::string(electra::vocab_scoring_name(VocabScoring::frequency)) == "frequency");
  CHECK_THROWS_WITH_AS(electra::parse_vocab_scoring("bpe"), doctest::Contains("'bpe'"),
                       electra::Error);
}

TEST_CASE("vocab_trainer: a size below specials + characters is an error saying what is needed") {
  VocabTrainer trainer(VocabTrainerSettings{8});
  trainer.add_text("abc");
  try {
    trainer.train();
    FAIL("expected an error");
  } catch (const electra::Error& error) {
    CHECK(std::string(error.what()).find("need 11") != std::string::npos);
  }
  VocabTrainer no_file(VocabTrainerSettings{100});
  CHECK_THROWS_WITH_AS(no_file.add_file("/nonexistent/corpus.txt"),
                       doctest::Contains("/nonexistent/corpus.txt"), electra::Error);
}

TEST_CASE("vocab_trainer: the result loads in the tokenizer and round-trips real prose") {
  const std::string text =
      "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money "
      "in my purse, and nothing particular to interest me on shore, I thought I would sail about "
      "a little and see the watery part of the world. Ὀδυσσεύς, 中国, 한국어, naïve café!";
  VocabTrainer trainer(VocabTrainerSettings{150});
  trainer.add_text(text);
  electra::VocabTrainerReport report;
  Strings tokens = trainer.train(&report);
  CHECK(tokens.size() == 150);
  CHECK(report.merges > 0);
  const electra::Tokenizer tokenizer(electra::Vocab::from_tokens(tokens, "trained"));
  const auto ids = tokenizer.encode(text);
  CHECK(std::count(ids.begin(), ids.end(), tokenizer.special_tokens().unk) == 0);
  std::string joined;
  for (const std::string& word : electra::basic_tokenize(text))
    joined += (joined.empty() ? "" : " ") + word;
  CHECK(tokenizer.decode(ids) == joined);
  // Same input, same vocabulary: the result does not depend on hash-map order.
  VocabTrainer again(VocabTrainerSettings{150});
  again.add_text(text);
  CHECK(again.train() == tokens);
}
