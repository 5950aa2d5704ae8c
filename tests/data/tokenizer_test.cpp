// BERT uncased tokenization rule by rule, against hand-checked expectations on
// tests/data/test_vocab.txt (its special tokens sit at ids 0–4, not at BERT's 0/100–103).
#include "data/tokenizer.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "data/basic_tokenizer.hpp"
#include "engine/error.hpp"

using electra::basic_tokenize;
using electra::Tokenizer;
using Strings = std::vector<std::string>;

namespace {

const Tokenizer& test_tokenizer() {
  static const Tokenizer tokenizer =
      Tokenizer::from_file(std::string(ELECTRA_TEST_DATA_DIR) + "/test_vocab.txt");
  return tokenizer;
}

Strings pieces(std::string_view text) { return test_tokenizer().tokens(text); }

}  // namespace

TEST_CASE("tokenizer: lower-casing, punctuation and WordPiece continuations") {
  CHECK(pieces("Hello, World!") == Strings{"hello", ",", "world", "!"});
  CHECK(pieces("unaffable") == Strings{"un", "##aff", "##able"});
  CHECK(pieces("THE Quick  brown\tfox") == Strings{"the", "quick", "brown", "fox"});
  CHECK(pieces("ok") == Strings{"o", "##k"});
  // Every non-alphanumeric ASCII character is punctuation, Unicode P* too; other symbols are not.
  CHECK(basic_tokenize("$5^2`a_b+c") == Strings{"$", "5", "^", "2", "`", "a", "_", "b", "+", "c"});
  CHECK(basic_tokenize("¿Qué?") == Strings{"¿", "que", "?"});
  CHECK(basic_tokenize("a·b—c…") == Strings{"a", "·", "b", "—", "c", "…"});
  CHECK(basic_tokenize("a€b") == Strings{"a€b"});  // Sc is not punctuation
  CHECK(basic_tokenize("[MASK] it") ==
        Strings{"[", "mask", "]", "it"});  // no special-token matching
}

TEST_CASE("tokenizer: accents are stripped after NFD, whether composed or not") {
  CHECK(pieces("Héllo") == Strings{"hello"});
  CHECK(pieces("HÉLLO") == Strings{"hello"});
  CHECK(pieces("He\u0301llo") == Strings{"hello"});
  CHECK(pieces("café naïve résumé") == Strings{"cafe", "naive", "resume"});
  CHECK(basic_tokenize("\u0301\u0308") == Strings{});        // marks alone leave nothing
  CHECK(basic_tokenize("İstanbul") == Strings{"istanbul"});  // İ → i + U+0307, dropped
  CHECK(pieces("\u212A") == Strings{"k"});                   // KELVIN SIGN lower-cases to k
  CHECK(basic_tokenize("STRAẞE ß") == Strings{"straße", "ß"});
  CHECK(pieces("\uFB01") == Strings{"ﬁ"});                 // compatibility ligature: NFD leaves it
  CHECK(basic_tokenize("\u00B4x") == Strings{"\u00B4x"});  // spacing acute is Sk, not Mn
}

TEST_CASE("tokenizer: Greek capital sigma lower-cases like Python's str.lower") {
  CHECK(basic_tokenize("ΟΔΟΣ") == Strings{"οδο\u03C2"});
  CHECK(pieces("ΟΔΟΣ") == Strings{"οδος"});
  CHECK(pieces("ΟΔΟΣΒ") == Strings{"ο", "##δ", "##ο", "##σ", "##β"});
  CHECK(basic_tokenize("Σ") == Strings{"\u03C3"});  // nothing cased before it
  CHECK(basic_tokenize("ΣΟ") == Strings{"\u03C3ο"});
  CHECK(basic_tokenize("ΟΣ.") == Strings{"ο\u03C2", "."});      // '.' is case-ignorable
  CHECK(basic_tokenize("Α'Σ") == Strings{"α", "'", "\u03C2"});  // context spans punctuation
  CHECK(basic_tokenize("ΑΣ\u0301") == Strings{"α\u03C2"});      // the mark is skipped, then dropped
  CHECK(basic_tokenize("AΣ") == Strings{"a\u03C2"});            // a Latin letter is cased too
  CHECK(basic_tokenize("ΑΣ中") == Strings{"α\u03C2", "中"});    // CJK split comes first
  CHECK(basic_tokenize("ΑΣ\u2028Β") == Strings{"α\u03C2", "β"});  // str.split() splits on U+2028
  CHECK(basic_tokenize("ΑΣ\u200BΒ") == Strings{"ασβ"});  // U+200B is removed before lower()
}

TEST_CASE("tokenizer: CJK ideographs are words, Hangul decomposes into jamo") {
  CHECK(pieces("中国abc人") == Strings{"中", "国", "abc", "人"});
  CHECK(pieces("\uF900") == Strings{"豈"});  // compatibility ideograph → U+8C48 under NFD
  CHECK(basic_tokenize("\U0002F800") == Strings{"\u4E3D"});
  // Hangul syllables are not CJK ideographs; NFD gives conjoining jamo (Lo), which stay.
  CHECK(pieces("한") == Strings{"ᄒ", "##ᅡ", "##ᆫ"});
  CHECK(pieces("한 글") == Strings{"ᄒ", "##ᅡ", "##ᆫ", "ᄀ", "##ᅳ", "##ᆯ"});
  CHECK(basic_tokenize("한글") == Strings{"\u1112\u1161\u11AB\u1100\u1173\u11AF"});
  CHECK(basic_tokenize("ひらがな") ==
        Strings{"ひらかな"});  // kana: one word; NFD drops the dakuten
}

TEST_CASE("tokenizer: emoji are word characters, not punctuation") {
  CHECK(pieces("hi 😀") == Strings{"hi", "😀"});
  CHECK(basic_tokenize("hi😀!") == Strings{"hi😀", "!"});
  CHECK(pieces("hi😀") == Strings{"[UNK]"});  // no "##😀" in the vocab: the whole word is unknown
}

TEST_CASE("tokenizer: cleaning drops controls and format characters, maps whitespace") {
  CHECK(pieces("hel\u200Blo") == Strings{"hello"});  // ZERO WIDTH SPACE is Cf
  CHECK(pieces("hel\u200Dlo") == Strings{"hello"});  // ZERO WIDTH JOINER is Cf
  CHECK(pieces("\uFEFFhello") == Strings{"hello"});  // BOM
  CHECK(pieces("hel\x01lo") == Strings{"hello"});
  CHECK(basic_tokenize(std::string_view("a\0b", 3)) == Strings{"ab"});
  CHECK(basic_tokenize("a\x0b"
                       "b\x0c"
                       "c") == Strings{"abc"});  // VT/FF are Cc, not whitespace
  CHECK(basic_tokenize("a\u0085b\x7f"
                       "c") == Strings{"abc"});
  CHECK(basic_tokenize("a\tb\nc\rd e") == Strings{"a", "b", "c", "d", "e"});
  CHECK(basic_tokenize("a\u00A0b\u3000c\u2003d\u202Fe") == Strings{"a", "b", "c", "d", "e"});
  CHECK(basic_tokenize("hello\u2028world\u2029!") == Strings{"hello", "world", "!"});
  CHECK(basic_tokenize("a\uE000b\uFFFDc") == Strings{"abc"});  // private use (Co) and U+FFFD
}

TEST_CASE("tokenizer: invalid UTF-8 is dropped and counted") {
  const auto check_text = [](std::string_view text, const Strings& expected, long invalid) {
    electra::BasicWords words;
    basic_tokenize(text, words);
    Strings got;
    for (std::size_t i = 0; i < words.size(); ++i) got.emplace_back(words.word(i));
    CHECK(got == expected);
    CHECK(words.invalid_utf8 == invalid);
  };
  check_text("hel\xFFlo", {"hello"}, 1);
  check_text(
      "a\xE2\x82"
      "b",
      {"ab"}, 1);  // a truncated sequence is one error
  check_text(
      "a\xED\xA0\x80"
      "b",
      {"ab"}, 3);  // an encoded surrogate: three errors
  check_text(
      "a\xC0\xAF"
      "b",
      {"ab"}, 2);                         // overlong '/'
  check_text("x\xF0\x9F\x98", {"x"}, 1);  // emoji cut at the end of the input
  check_text("\x80\x80 ok", {"ok"}, 2);
  electra::TokenizeStats stats;
  std::vector<std::int32_t> ids;
  test_tokenizer().encode_append("hel\xFFlo w\xFForld", ids, &stats);
  CHECK(stats.invalid_utf8 == 2);
  CHECK(test_tokenizer().decode(ids) == "hello world");
}

TEST_CASE("tokenizer: words over 100 code points and unsplittable words become [UNK]") {
  CHECK(pieces(std::string(100, 'a')).size() == 100);  // a ##a ##a ...
  CHECK(pieces(std::string(101, 'a')) == Strings{"[UNK]"});
  std::string accented;
  for (int i = 0; i < 101; ++i) accented += "é";
  CHECK(pieces(accented) == Strings{"[UNK]"});  // counted after accent stripping: 101 e's
  accented.resize(accented.size() - 2);
  CHECK(pieces(accented).size() == 100);
  CHECK(pieces("xyz€ ok") == Strings{"[UNK]", "o", "##k"});
  electra::TokenizeStats stats;
  std::vector<std::int32_t> ids;
  test_tokenizer().encode_append("xyz€ hello " + std::string(101, 'b'), ids, &stats);
  CHECK(stats.unknown_words == 2);
  CHECK(ids == std::vector<std::int32_t>{1, ids[1], 1});
}

TEST_CASE("tokenizer: the ASCII fast path gives the same words as the Unicode path") {
  // A U+200B at the start of every whitespace token sends the token down the Unicode path and
  // is then removed, so both forms must give identical words.
  std::mt19937 rng(7);
  const std::string alphabet = "abcXYZ019 .,'!?-_$`~[]\t\r\x01\x7f\"#";
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const int length = static_cast<int>(rng() % 40);
    for (int i = 0; i < length; ++i) text += alphabet[rng() % alphabet.size()];
    std::string slow = "\u200B";
    for (const char c : text) {
      slow += c;
      if (c == ' ' || c == '\t' || c == '\r') slow += "\u200B";
    }
    CHECK_MESSAGE(basic_tokenize(text) == basic_tokenize(slow), "text: ", text);
  }
}

TEST_CASE("tokenizer: pair encoding truncates the longer segment, b on a tie") {
  const Tokenizer& tokenizer = test_tokenizer();
  const auto& special = tokenizer.special_tokens();
  const auto id = [&](const char* token) { return *tokenizer.vocab().find(token); };
  auto encoding = tokenizer.encode_pair("the quick brown fox", std::string_view("hello world"), 9);
  CHECK(encoding.input_ids == std::vector<std::int32_t>{special.cls, id("the"), id("quick"),
                                                        id("brown"), id("fox"), special.sep,
                                                        id("hello"), id("world"), special.sep});
  CHECK(encoding.token_type_ids == std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1});
  CHECK(encoding.attention_mask == std::vector<std::int32_t>(9, 1));
  encoding = tokenizer.encode_pair("the quick brown fox", std::string_view("hello world"), 7);
  CHECK(encoding.input_ids == std::vector<std::int32_t>{special.cls, id("the"), id("quick"),
                                                        special.sep, id("hello"), id("world"),
                                                        special.sep});
  encoding = tokenizer.encode_pair("the quick brown fox", std::string_view("hello world"), 6);
  CHECK(encoding.input_ids == std::vector<std::int32_t>{special.cls, id("the"), id("quick"),
                                                        special.sep, id("hello"), special.sep});
  encoding = tokenizer.encode_pair("hello", std::nullopt, 5, true);
  CHECK(encoding.input_ids ==
        std::vector<std::int32_t>{special.cls, id("hello"), special.sep, special.pad, special.pad});
  CHECK(encoding.token_type_ids == std::vector<std::int32_t>{0, 0, 0, 0, 0});
  CHECK(encoding.attention_mask == std::vector<std::int32_t>{1, 1, 1, 0, 0});
  CHECK(tokenizer.encode_pair("the quick", std::nullopt, 2).input_ids ==
        std::vector<std::int32_t>{special.cls, special.sep});
  CHECK_THROWS_AS(tokenizer.encode_pair("a", std::string_view("b"), 2), electra::Error);
}

TEST_CASE("tokenizer: decode glues ## pieces and can skip special tokens") {
  const Tokenizer& tokenizer = test_tokenizer();
  const auto ids = tokenizer.encode("Unaffable, HELLO playing!");
  CHECK(tokenizer.decode(ids) == "unaffable , hello playing !");
  const auto pair = tokenizer.encode_pair("hello", std::string_view("world"), 8, true);
  CHECK(tokenizer.decode(pair.input_ids) == "[CLS] hello [SEP] world [SEP] [PAD] [PAD] [PAD]");
  CHECK(tokenizer.decode(pair.input_ids, true) == "hello world");
  CHECK(tokenizer.decode(std::vector<std::int32_t>{*tokenizer.vocab().find("##ing")}) == "##ing");
  CHECK_THROWS_AS(tokenizer.decode(std::vector<std::int32_t>{100000}), electra::Error);
}

TEST_CASE("tokenizer: `electra tokenize` prints one line per input line") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "electra_tokenize_cli_test";
  fs::create_directories(dir);
  {
    std::ofstream input(dir / "in.txt", std::ios::binary);
    input << "Hello, world\n\nunaffable\rplaying";  // '\r' is whitespace inside the line
  }
  const std::string vocab = std::string(ELECTRA_TEST_DATA_DIR) + "/test_vocab.txt";
  const std::string command = std::string(ELECTRA_BINARY) + " tokenize --tokens --vocab " + vocab +
                              " < " + (dir / "in.txt").string() + " > " +
                              (dir / "out.txt").string();
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream output(dir / "out.txt", std::ios::binary);
  std::stringstream content;
  content << output.rdbuf();
  CHECK(content.str() == "hello , world\n\nun ##aff ##able play ##ing\n");
  const std::string ids_command = std::string(ELECTRA_BINARY) + " tokenize --vocab " + vocab +
                                  " < " + (dir / "in.txt").string() + " > " +
                                  (dir / "ids.txt").string();
  REQUIRE(std::system(ids_command.c_str()) == 0);
  std::ifstream ids_file(dir / "ids.txt");
  std::string first_line;
  std::getline(ids_file, first_line);
  const Tokenizer& tokenizer = test_tokenizer();
  std::ostringstream expected;
  expected << *tokenizer.vocab().find("hello") << ' ' << *tokenizer.vocab().find(",") << ' '
           << *tokenizer.vocab().find("world");
  CHECK(first_line == expected.str());
  fs::remove_all(dir);
}
