// libFuzzer target for the tokenizer: arbitrary bytes must never crash it, and every result
// must keep the invariants the rest of the pipeline relies on.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "data/basic_tokenizer.hpp"
#include "data/tokenizer.hpp"
#include "data/unicode_text.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();  // libFuzzer reports the input that got here
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto decoded = electra::unicode::decode_utf8(text.data(), text.size(), pos);
    if (!decoded.valid) return false;
    pos += decoded.length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const electra::Tokenizer tokenizer = electra::Tokenizer::from_file(ELECTRA_TEST_VOCAB);
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // Words: non-empty, valid UTF-8, no ASCII whitespace, punctuation always alone.
  electra::BasicWords words;
  electra::basic_tokenize(text, words);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view word = words.word(i);
    require(!word.empty() && is_valid_utf8(word));
    require(word.find_first_of(" \t\n\r") == std::string_view::npos);
  }
  // The ASCII fast path and the Unicode path agree: a zero-width space (removed by cleaning)
  // in front of every token forces the Unicode path without changing the result.
  std::string slow = "\u200B";
  for (const char c : text) {
    slow += c;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') slow += "\u200B";
  }
  require(electra::basic_tokenize(slow) == electra::basic_tokenize(text));

  // Ids are in range and decode back to the words where no word became [UNK].
  electra::TokenizeStats stats;
  std::vector<std::int32_t> ids;
  tokenizer.encode_append(text, ids, &stats);
  for (const std::int32_t id : ids) require(id >= 0 && id < tokenizer.vocab().size());
  require(stats.invalid_utf8 == words.invalid_utf8);
  if (stats.unknown_words == 0) {
    std::string joined;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (i) joined += ' ';
      joined += words.word(i);
    }
    require(tokenizer.decode(ids) == joined);
  }

  // Pair encoding respects max_length and keeps the three vectors aligned.
  const std::size_t half = size / 2;
  const std::size_t max_length = 3 + (size % 17);
  const auto encoding = tokenizer.encode_pair(text.substr(0, half), text.substr(half), max_length);
  require(encoding.input_ids.size() <= max_length);
  require(encoding.input_ids.size() == encoding.token_type_ids.size());
  require(encoding.input_ids.size() == encoding.attention_mask.size());
  require(encoding.input_ids.front() == tokenizer.special_tokens().cls);
  require(encoding.input_ids.back() == tokenizer.special_tokens().sep);
  return 0;
}
