// Unicode character classes and transforms with Python's semantics, on top of utf8proc.
#include "data/unicode_text.hpp"

#include <utf8proc.h>

#include <algorithm>

namespace electra::unicode {
namespace {

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool in_ranges(char32_t c, const char32_t (*ranges)[2], std::size_t count) {
  for (std::size_t i = 0; i < count; ++i)
    if (c >= ranges[i][0] && c <= ranges[i][1]) return true;
  return false;
}

// Other_Lowercase and Other_Uppercase (PropList.txt): letters and symbols that Python counts as
// cased although their category is not Lu/Ll/Lt (ª, modifier letters, Roman numerals, Ⓐ).
constexpr char32_t kOtherCased[][2] = {
    {0x00AA, 0x00AA},   {0x00BA, 0x00BA},   {0x02B0, 0x02B8},   {0x02C0, 0x02C1},
    {0x02E0, 0x02E4},   {0x0345, 0x0345},   {0x037A, 0x037A},   {0x10FC, 0x10FC},
    {0x1D2C, 0x1D6A},   {0x1D78, 0x1D78},   {0x1D9B, 0x1DBF},   {0x2071, 0x2071},
    {0x207F, 0x207F},   {0x2090, 0x209C},   {0x2160, 0x217F},   {0x24B6, 0x24E9},
    {0x2C7C, 0x2C7D},   {0xA69C, 0xA69D},   {0xA770, 0xA770},   {0xA7F2, 0xA7F4},
    {0xA7F8, 0xA7F9},   {0xAB5C, 0xAB5F},   {0xAB69, 0xAB69},   {0x10780, 0x10780},
    {0x10783, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x1E030, 0x1E06D},
    {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
};

// Word_Break MidLetter, MidNumLet and Single_Quote: case-ignorable although they are punctuation.
constexpr char32_t kIgnorablePunctuation[][2] = {
    {0x0027, 0x0027}, {0x002E, 0x002E}, {0x003A, 0x003A}, {0x00B7, 0x00B7},
    {0x0387, 0x0387}, {0x055F, 0x055F}, {0x05F4, 0x05F4}, {0x2018, 0x2019},
    {0x2024, 0x2024}, {0x2027, 0x2027}, {0xFE13, 0xFE13}, {0xFE52, 0xFE52},
    {0xFE55, 0xFE55}, {0xFF07, 0xFF07}, {0xFF0E, 0xFF0E}, {0xFF1A, 0xFF1A},
};

// DerivedCoreProperties "Cased": Lowercase or Uppercase or Lt.
bool is_cased(char32_t c) {
  const auto cat = category(c);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
    return true;
  return in_ranges(c, kOtherCased, std::size(kOtherCased));
}

// DerivedCoreProperties "Case_Ignorable".
bool is_case_ignorable(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      return in_ranges(c, kIgnorablePunctuation, std::size(kIgnorablePunctuation));
  }
}

// CPython's handle_capital_sigma: \p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
char32_t lowercase_sigma(const std::u32string& in, std::size_t at) {
  std::size_t j = at;
  bool cased_before = false;
  while (j > 0) {
    --j;
    if (!is_case_ignorable(in[j])) {
      cased_before = is_cased(in[j]);
      break;
    }
  }
  if (!cased_before) return 0x3C3;
  for (j = at + 1; j < in.size(); ++j) {
    if (!is_case_ignorable(in[j])) return is_cased(in[j]) ? 0x3C3 : 0x3C2;
  }
  return 0x3C2;
}

std::uint16_t combining_class(char32_t c) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

}  // namespace

Decoded decode_utf8(const char* text, std::size_t size, std::size_t pos) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text);
  const unsigned lead = bytes[pos];
  if (lead < 0x80) return {lead, 1, true};
  int continuation_bytes;
  unsigned low = 0x80, high = 0xBF;  // the allowed range of the first continuation byte
  char32_t code_point;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_bytes = 1;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_bytes = 2;
    code_point = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_bytes = 3;
    code_point = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return {kReplacementChar, 1, false};  // a stray continuation byte, C0/C1 or F5–FF
  }
  std::uint32_t length = 1;
  for (int k = 0; k < continuation_bytes; ++k) {
    if (pos + length >= size) return {kReplacementChar, length, false};
    const unsigned byte = bytes[pos + length];
    if (byte < low || byte > high) return {kReplacementChar, length, false};
    code_point = (code_point << 6) | (byte & 0x3F);
    ++length;
    low = 0x80;
    high = 0xBF;
  }
  return {code_point, length, true};
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool is_bert_whitespace(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  return category(c) == UTF8PROC_CATEGORY_ZS;
}

bool is_bert_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
         cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CN;
}

bool is_bert_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126))
    return true;
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_line_or_paragraph_separator(char32_t c) { return c == 0x2028 || c == 0x2029; }

bool is_nonspacing_mark(char32_t c) { return category(c) == UTF8PROC_CATEGORY_MN; }

void lowercase_like_python(const std::u32string& in, std::u32string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char32_t c = in[i];
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (c == 0x3A3) {
      out.push_back(lowercase_sigma(in, i));
    } else if (c == 0x130) {  // SpecialCasing: İ lower-cases to i + combining dot above
      out.push_back('i');
      out.push_back(0x307);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
}

void strip_accents(std::u32string& chars, std::u32string& scratch) {
  scratch.clear();
  utf8proc_int32_t buffer[16];
  for (const char32_t c : chars) {
    if (c < 0x80) {  // ASCII neither decomposes nor is a mark
      scratch.push_back(c);
      continue;
    }
    utf8proc_int32_t last_boundclass = 0;
    const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buffer, 16,
                                           UTF8PROC_DECOMPOSE, &last_boundclass);
    if (n <= 0 || n > 16) {  // cannot happen for a valid code point; keep it unchanged
      scratch.push_back(c);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) scratch.push_back(static_cast<char32_t>(buffer[k]));
  }
  // Canonical ordering: within each run of non-starters, a stable sort by combining class. It
  // must happen before marks are dropped, since a dropped class-0 mark still ends a run.
  for (std::size_t i = 0; i < scratch.size();) {
    if (combining_class(scratch[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < scratch.size() && combining_class(scratch[end]) != 0) ++end;
    std::stable_sort(scratch.begin() + i, scratch.begin() + end, [](char32_t a, char32_t b) {
      return combining_class(a) < combining_class(b);
    });
    i = end;
  }
  chars.clear();
  for (const char32_t c : scratch)
    if (c < 0x80 || !is_nonspacing_mark(c)) chars.push_back(c);
}

}  // namespace electra::unicode
