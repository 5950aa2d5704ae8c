// vocab.txt loading: ids by line, special tokens by name, string_view lookups, errors.
#include "data/vocab.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "helpers/errors.hpp"

using electra::Vocab;

namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

// The message of the error loading `path` (electra::test::no_error when it loads).
std::string load_error(const std::string& path) {
  return electra::test::error_of([&] { Vocab::from_file(path); });
}

}  // namespace

TEST_CASE("vocab: the test vocab loads with special tokens found by name") {
  const Vocab vocab = Vocab::from_file(std::string(ELECTRA_TEST_DATA_DIR) + "/test_vocab.txt");
  CHECK(vocab.size() == 194);
  CHECK(vocab.special().pad == 0);
  CHECK(vocab.special().unk == 1);
  CHECK(vocab.special().cls == 2);
  CHECK(vocab.special().sep == 3);
  CHECK(vocab.special().mask == 4);
  CHECK(vocab.token(7) == "!");
  const auto aff = vocab.find("##aff");
  REQUIRE(aff.has_value());
  CHECK(vocab.token(*aff) == "##aff");
  CHECK(vocab.find_piece("aff", true) == *aff);
  CHECK(vocab.find_piece("aff", false) == -1);
  CHECK(vocab.find_piece("hello", false) == *vocab.find("hello"));
  CHECK_FALSE(vocab.find("helloo").has_value());
  CHECK(vocab.longest_piece_bytes() == 9);  // "[unused0]"; "οδος" is 8 bytes, "strasse" 7
  CHECK_THROWS_AS(vocab.token(-1), electra::Error);
  CHECK_THROWS_AS(vocab.token(194), electra::Error);
}

TEST_CASE("vocab: CRLF lines and save/load round trip") {
  const std::string path = write_temp("electra_vocab_crlf.txt",
                                      "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nx\r\n##x\r\n");
  const Vocab vocab = Vocab::from_file(path);
  CHECK(vocab.size() == 7);
  CHECK(vocab.token(5) == "x");
  CHECK(vocab.find("x") == 5);
  CHECK(vocab.find_piece("x", true) == 6);
  const std::string copy =
      (std::filesystem::temp_directory_path() / "electra_vocab_copy.txt").string();
  vocab.save(copy);
  const Vocab reloaded = Vocab::from_file(copy);
  CHECK(reloaded.tokens() == vocab.tokens());
  std::filesystem::remove(path);
  std::filesystem::remove(copy);
}

TEST_CASE("vocab: a token listed twice is refused naming the file, the token and both lines") {
  // A dict-like loader keeps the last line, so every id after the first copy would shift.
  const std::string path =
      write_temp("electra_vocab_duplicate.txt",
                 "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##x\nworld\nhello\n");
  const std::string message = load_error(path);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("'hello'") != std::string::npos);
  CHECK(message.find("lines 6 and 9") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  std::filesystem::remove(path);

  // A repeated special token is refused the same way (the later one used to win).
  const std::string special = write_temp("electra_vocab_duplicate_special.txt",
                                         "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nword\n[UNK]\n");
  CHECK(load_error(special).find("'[UNK]' twice, on lines 2 and 7") != std::string::npos);
  std::filesystem::remove(special);

  // "##x" and "x" are different tokens.
  CHECK_NOTHROW(Vocab::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "x", "##x"}));
}

TEST_CASE("vocab: a vocabulary of special tokens only is refused") {
  const std::string path =
      write_temp("electra_vocab_specials.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n[unused0]\n");
  const std::string message = load_error(path);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("only special tokens") != std::string::npos);
  CHECK(message.find("no ordinary token") != std::string::npos);
  std::filesystem::remove(path);
  // One ordinary token is enough; "[" and "]" alone are punctuation, not bracketed names.
  CHECK_NOTHROW(Vocab::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "["}));
}

TEST_CASE("vocab: the committed vocabularies load (no duplicates)") {
  for (const char* name : {"/test_vocab.txt", "/sample_vocab.txt"}) {
    CHECK_NOTHROW(Vocab::from_file(std::string(ELECTRA_TEST_DATA_DIR) + name));
  }
}

TEST_CASE("vocab: a missing file or special token is a one-line error naming both") {
  const std::string missing = "/nonexistent/dir/vocab.txt";
  std::string message = load_error(missing);
  CHECK(message.find(missing) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);

  const std::string no_mask =
      write_temp("electra_vocab_no_mask.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
  message = load_error(no_mask);
  CHECK(message.find(no_mask) != std::string::npos);
  CHECK(message.find("[MASK]") != std::string::npos);
  std::filesystem::remove(no_mask);

  const std::string empty = write_temp("electra_vocab_empty.txt", "");
  CHECK(load_error(empty).find(empty) != std::string::npos);
  std::filesystem::remove(empty);

  CHECK(load_error(std::filesystem::temp_directory_path().string()).find("regular file") !=
        std::string::npos);
}
