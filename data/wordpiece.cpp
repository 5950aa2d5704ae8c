// Greedy longest-match-first WordPiece over UTF-8 words, stepping by code points.
#include "data/wordpiece.hpp"

#include <algorithm>

namespace electra {
namespace {

bool is_continuation_byte(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

}  // namespace

bool wordpiece_append(const Vocab& vocab, std::string_view word, std::vector<std::int32_t>& ids) {
  std::size_t code_points = 0;
  for (const char byte : word) code_points += !is_continuation_byte(byte);
  if (code_points > kMaxWordCodePoints) {
    ids.push_back(vocab.special().unk);
    return false;
  }
  const std::size_t first_piece = ids.size();
  const std::size_t longest = std::max<std::size_t>(vocab.longest_piece_bytes(), 1);
  std::size_t start = 0;
  while (start < word.size()) {
    // No vocabulary entry is longer than `longest`, so start there (on a code point boundary)
    // instead of at the end of the word; Python's loop would find nothing longer either.
    std::size_t end = std::min(word.size(), start + longest);
    while (end > start && end < word.size() && is_continuation_byte(word[end])) --end;
    std::int32_t id = -1;
    while (end > start) {
      id = vocab.find_piece(word.substr(start, end - start), start > 0);
      if (id >= 0) break;
      do --end;
      while (end > start && is_continuation_byte(word[end]));
    }
    if (id < 0) {
      ids.resize(first_piece);
      ids.push_back(vocab.special().unk);
      return false;
    }
    ids.push_back(id);
    start = end;
  }
  return true;
}

}  // namespace electra
