#pragma once
// A WordPiece vocabulary: BERT's vocab.txt, one token a line, the line number is the id.
// Lookups take string_views and never allocate; continuation pieces ("##ing") can be found by
// the text after "##" alone, so WordPiece never has to build "##" + substring.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/batch.hpp"

namespace electra {

class Vocab {
 public:
  // Reads vocab.txt (lines end in '\n'; a trailing '\r' is dropped). Throws electra::Error naming
  // the file when it cannot be read, lacks one of [PAD] [UNK] [CLS] [SEP] [MASK], lists a token
  // twice (naming both lines) or holds only bracketed special names like those.
  static Vocab from_file(const std::string& path);
  // The same from tokens in id order; `source` names them in error messages.
  static Vocab from_tokens(std::vector<std::string> tokens, const std::string& source = "<memory>");

  // Writes one token a line; from_file(path) gives the same vocabulary back.
  void save(const std::string& path) const;

  std::int32_t size() const { return static_cast<std::int32_t>(tokens_.size()); }
  // The token with this id; throws when id is outside [0, size()).
  const std::string& token(std::int32_t id) const;
  // The id of the whole token (a "##" prefix included); tokens are unique (checked on load).
  std::optional<std::int32_t> find(std::string_view token) const;
  // -1 when absent. `continuation` looks up "##" + text.
  std::int32_t find_piece(std::string_view text, bool continuation) const;
  // Bytes of the longest token (the "##" not counted for continuations): WordPiece never tries
  // a longer substring.
  std::size_t longest_piece_bytes() const { return longest_piece_bytes_; }

  const SpecialTokens& special() const { return special_; }
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  // Open addressing over ids: a slot holds the id of a token whose key hashes there (-1 empty)
  // and the top bits of that hash, so most mismatches are rejected without touching the token.
  struct Slot {
    std::int32_t id = -1;
    std::uint32_t tag = 0;
  };
  struct Table {
    std::vector<Slot> slots;
    std::uint64_t mask = 0;
  };
  std::string_view key_of(std::int32_t id, bool continuation) const;
  // Returns the id already holding the same key (-1 when none); the new id replaces it.
  std::int32_t insert(Table& table, std::int32_t id, bool continuation);
  std::int32_t lookup(const Table& table, std::string_view key, bool continuation) const;
  void build(const std::string& source);

  std::vector<std::string> tokens_;
  Table whole_;         // every token, keyed by its full text
  Table continuation_;  // tokens starting with "##", keyed by the text after it
  std::size_t longest_piece_bytes_ = 0;
  SpecialTokens special_;
};

}  // namespace electra
