#pragma once
// BERT's BasicTokenizer with do_lower_case=True, in the order tokenization.py applies it:
//   1. clean: drop NUL, U+FFFD (and so invalid UTF-8) and control characters; whitespace → ' '
//   2. put spaces around CJK ideographs
//   3. split on whitespace (Python's str.split(), which also splits on U+2028/U+2029)
//   4. per token: str.lower(), NFD, drop Mn marks, split off each punctuation character
// Plain-ASCII tokens (nearly all of English prose) take a table-driven path that never calls
// utf8proc; any other token takes the exact Unicode path.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace electra {

// The words of one text, back to back in `text`; word i is text[ends[i-1], ends[i]).
struct BasicWords {
  std::string text;
  std::vector<std::uint32_t> ends;
  std::int64_t invalid_utf8 = 0;  // malformed sequences met (each dropped like U+FFFD)

  std::size_t size() const { return ends.size(); }
  std::string_view word(std::size_t i) const {
    const std::uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
  void clear() {
    text.clear();
    ends.clear();
    invalid_utf8 = 0;
  }
};

// Replaces `out` with the words of `input` (UTF-8; malformed bytes are dropped and counted).
void basic_tokenize(std::string_view input, BasicWords& out);

// Convenience for tests and the vocab trainer.
std::vector<std::string> basic_tokenize(std::string_view input);

}  // namespace electra
