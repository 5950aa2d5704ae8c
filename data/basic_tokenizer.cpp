// BERT's basic tokenizer: cleaning, CJK splitting, whitespace splitting, lower-casing, accent
// stripping and punctuation splitting, with an ASCII fast path that gives the same words.
#include "data/basic_tokenizer.hpp"

#include <array>

#include "data/unicode_text.hpp"

namespace electra {
namespace {

enum class AsciiClass : std::uint8_t { word, punctuation, separator, dropped };

struct AsciiTable {
  std::array<AsciiClass, 128> kind{};
  std::array<char, 128> lower{};
};

// The ASCII part of BERT's rules: \t \n \r and space separate tokens, the other C0 controls and
// DEL are removed, 33–47, 58–64, 91–96 and 123–126 are punctuation, the rest are word characters.
constexpr AsciiTable make_ascii_table() {
  AsciiTable table;
  for (int c = 0; c < 128; ++c) {
    AsciiClass kind = AsciiClass::word;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      kind = AsciiClass::separator;
    else if (c < 32 || c == 127)
      kind = AsciiClass::dropped;
    else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
             (c >= 123 && c <= 126))
      kind = AsciiClass::punctuation;
    table.kind[c] = kind;
    table.lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  return table;
}
constexpr AsciiTable kAscii = make_ascii_table();

// Per-thread storage for the Unicode path, so a token never allocates in steady state.
struct UnicodeScratch {
  std::u32string cleaned, lowered, decomposed;
};

void end_word(BasicWords& out) {
  const auto size = static_cast<std::uint32_t>(out.text.size());
  if (size != (out.ends.empty() ? 0u : out.ends.back())) out.ends.push_back(size);
}

// Step 4 for one cleaned whitespace token on the Unicode path.
void emit_unicode_token(UnicodeScratch& scratch, BasicWords& out) {
  if (scratch.cleaned.empty()) return;
  unicode::lowercase_like_python(scratch.cleaned, scratch.lowered);
  unicode::strip_accents(scratch.lowered, scratch.decomposed);
  for (const char32_t c : scratch.lowered) {
    if (unicode::is_bert_punctuation(c)) {
      end_word(out);
      unicode::append_utf8(out.text, c);
      end_word(out);
    } else {
      unicode::append_utf8(out.text, c);
    }
  }
  end_word(out);
}

// Cleans and emits the whitespace token starting at `pos`; returns where scanning resumes.
// A CJK ideograph ends the token and is emitted as a token of its own.
std::size_t unicode_token(std::string_view input, std::size_t pos, UnicodeScratch& scratch,
                          BasicWords& out) {
  scratch.cleaned.clear();
  while (pos < input.size()) {
    const auto decoded = unicode::decode_utf8(input.data(), input.size(), pos);
    const char32_t c = decoded.code_point;
    if (!decoded.valid) ++out.invalid_utf8;
    if (c < 0x80) {
      const AsciiClass kind = kAscii.kind[c];
      pos += 1;
      if (kind == AsciiClass::separator) break;
      if (kind != AsciiClass::dropped) scratch.cleaned.push_back(c);
      continue;
    }
    pos += decoded.length;
    if (unicode::is_bert_whitespace(c) || unicode::is_line_or_paragraph_separator(c)) break;
    if (c == unicode::kReplacementChar || unicode::is_bert_control(c)) continue;
    if (unicode::is_cjk_ideograph(c)) {
      emit_unicode_token(scratch, out);
      scratch.cleaned.assign(1, c);  // NFD still applies: F900–FAFF map to unified ideographs
      emit_unicode_token(scratch, out);
      return pos;
    }
    scratch.cleaned.push_back(c);
  }
  emit_unicode_token(scratch, out);
  return pos;
}

}  // namespace

void basic_tokenize(std::string_view input, BasicWords& out) {
  out.clear();
  thread_local UnicodeScratch scratch;
  const auto* bytes = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t size = input.size();
  std::size_t pos = 0;
  while (pos < size) {
    const unsigned char first = bytes[pos];
    if (first < 0x80 && (kAscii.kind[first] == AsciiClass::separator ||
                         kAscii.kind[first] == AsciiClass::dropped)) {
      ++pos;
      continue;
    }
    // Try the token as plain ASCII; on the first non-ASCII byte undo it and take the Unicode
    // path, since lower-casing (final sigma) looks at the whole token.
    const std::size_t text_mark = out.text.size();
    const std::size_t ends_mark = out.ends.size();
    std::size_t p = pos;
    bool ascii = true;
    for (; p < size; ++p) {
      const unsigned char c = bytes[p];
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      const AsciiClass kind = kAscii.kind[c];
      if (kind == AsciiClass::word) {
        out.text.push_back(kAscii.lower[c]);
      } else if (kind == AsciiClass::punctuation) {
        end_word(out);
        out.text.push_back(static_cast<char>(c));
        end_word(out);
      } else if (kind == AsciiClass::separator) {
        break;
      }
    }
    if (ascii) {
      end_word(out);
      pos = p;
      continue;
    }
    out.text.resize(text_mark);
    out.ends.resize(ends_mark);
    pos = unicode_token(input, pos, scratch, out);
  }
}

std::vector<std::string> basic_tokenize(std::string_view input) {
  BasicWords words;
  basic_tokenize(input, words);
  std::vector<std::string> result;
  result.reserve(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) result.emplace_back(words.word(i));
  return result;
}

}  // namespace electra
