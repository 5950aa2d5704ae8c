// WordPiece vocabulary learning: layout, hand-computed merges, errors, and a round trip
// through the tokenizer.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "data/basic_tokenizer.hpp"
#include "data/tokenizer.hpp"
#include "data/vocab_trainer.hpp"
#include "engine/error.hpp"

using electra::VocabTrainer;
using electra::VocabTrainerSettings;
using Strings = std::vector<std::string>;

TEST_CASE("vocab_trainer: specials, characters by frequency, then merges by likelihood score") {
  // Words: "ab" ×3, "ac" ×1. Symbols a (4), ##b (3), ##c (1).
  // (a,##b): 3/(4·3) = 0.25 and (a,##c): 1/(4·1) = 0.25 tie; the more frequent pair wins.
  // After it, a has count 1, so (a,##c) scores 1/(1·1) = 1 and is next.
  VocabTrainer trainer(VocabTrainerSettings{13});
  trainer.add_text("ab AB ab ac");
  electra::VocabTrainerReport report;
  const Strings vocab = trainer.train(&report);
  CHECK(vocab == Strings{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "##a",
                         "##b", "##c", "ab", "ac"});
  CHECK(report.words == 4);
  CHECK(report.distinct_words == 2);
  CHECK(report.characters == 3);
  CHECK(report.merges == 2);

  VocabTrainer smaller(VocabTrainerSettings{12});
  smaller.add_text("ab AB ab ac");
  CHECK(smaller.train().back() == "ab");
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
  for (const std::string& word : electra::basic_tokenize(text)) joined += (joined.empty() ? "" : " ") + word;
  CHECK(tokenizer.decode(ids) == joined);
  // Same input, same vocabulary: the result does not depend on hash-map order.
  VocabTrainer again(VocabTrainerSettings{150});
  again.add_text(text);
  CHECK(again.train() == tokens);
}
