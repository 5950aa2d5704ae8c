// FullTokenizer: basic tokenizer → WordPiece, plus BERT's pair encoding and decoding.
#include "data/tokenizer.hpp"

#include "data/basic_tokenizer.hpp"
#include "data/wordpiece.hpp"
#include "engine/error.hpp"

namespace electra {

Tokenizer Tokenizer::from_file(const std::string& vocab_path) {
  return Tokenizer(Vocab::from_file(vocab_path));
}

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

void Tokenizer::encode_append(std::string_view text, std::vector<std::int32_t>& ids,
                              TokenizeStats* stats) const {
  thread_local BasicWords words;
  basic_tokenize(text, words);
  std::int64_t unknown_words = 0;
  for (std::size_t i = 0; i < words.size(); ++i)
    unknown_words += !wordpiece_append(vocab_, words.word(i), ids);
  if (stats) {
    stats->invalid_utf8 += words.invalid_utf8;
    stats->unknown_words += unknown_words;
  }
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids;
  encode_append(text, ids);
  return ids;
}

std::vector<std::string> Tokenizer::tokens(std::string_view text) const {
  const std::vector<std::int32_t> ids = encode(text);
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  for (const std::int32_t id : ids) pieces.push_back(vocab_.token(id));
  return pieces;
}

Encoding Tokenizer::encode_pair(std::string_view a, std::optional<std::string_view> b,
                                std::size_t max_length, bool pad_to_max_length) const {
  const std::size_t specials = b ? 3 : 2;
  check(max_length >= specials, "tokenizer: max_length ", max_length, " cannot hold the ", specials,
        " special tokens of ", b ? "a pair" : "a single segment");
  std::vector<std::int32_t> first = encode(a);
  std::vector<std::int32_t> second;
  if (b) second = encode(*b);
  // BERT's _truncate_seq_pair: one token at a time from the end of the longer segment.
  while (first.size() + second.size() + specials > max_length) {
    if (first.size() > second.size())
      first.pop_back();
    else
      second.pop_back();
  }
  const SpecialTokens& special = vocab_.special();
  Encoding encoding;
  auto push = [&](std::int32_t id, std::int32_t type) {
    encoding.input_ids.push_back(id);
    encoding.token_type_ids.push_back(type);
    encoding.attention_mask.push_back(1);
  };
  push(special.cls, 0);
  for (const std::int32_t id : first) push(id, 0);
  push(special.sep, 0);
  if (b) {
    for (const std::int32_t id : second) push(id, 1);
    push(special.sep, 1);
  }
  if (pad_to_max_length) {
    encoding.input_ids.resize(max_length, special.pad);
    encoding.token_type_ids.resize(max_length, 0);
    encoding.attention_mask.resize(max_length, 0);
  }
  return encoding;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  const SpecialTokens& special = vocab_.special();
  std::string text;
  for (const std::int32_t id : ids) {
    const std::string& piece = vocab_.token(id);
    if (skip_special_tokens && (id == special.pad || id == special.unk || id == special.cls ||
                                id == special.sep || id == special.mask))
      continue;
    if (piece.starts_with("##") && !text.empty()) {  // a leading "##" stays, as in HF
      text.append(piece, 2);
    } else {
      if (!text.empty()) text.push_back(' ');
      text.append(piece);
    }
  }
  return text;
}

}  // namespace electra
