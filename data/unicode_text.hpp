#pragma once
// The Unicode facts BERT's tokenizer relies on, with the exact meaning Python gives them
// (unicodedata.category, str.lower, str.split, NFD). Data comes from utf8proc; nothing here
// allocates except where a string is handed in to be filled.
#include <cstdint>
#include <string>

namespace electra::unicode {

constexpr char32_t kReplacementChar = 0xFFFD;

struct Decoded {
  char32_t code_point;   // kReplacementChar when the bytes are not well-formed UTF-8
  std::uint32_t length;  // bytes consumed, >= 1
  bool valid;
};

// Decodes the code point starting at text[pos] (pos < size) as Python's strict UTF-8 decoder
// does: overlong forms, surrogates and values past U+10FFFF are invalid, and an invalid sequence
// consumes its maximal well-formed prefix (at least one byte), so a valid byte is never eaten.
Decoded decode_utf8(const char* text, std::size_t size, std::size_t pos);
void append_utf8(std::string& out, char32_t code_point);

// _is_whitespace: ' ', \t, \n, \r or category Zs.
bool is_bert_whitespace(char32_t c);
// _is_control as HF writes it: category C* (Cc, Cf, Cs, Co, Cn) except \t \n \r. Google's
// original keeps Co/Cn characters; HF (slow and fast) drops them, and so do we.
bool is_bert_control(char32_t c);
// _is_punctuation: ASCII 33–47, 58–64, 91–96, 123–126, or category P*.
bool is_bert_punctuation(char32_t c);
// _is_chinese_char: the CJK Unified Ideograph blocks BERT lists (not Hangul, kana or symbols).
bool is_cjk_ideograph(char32_t c);
// What Python's str.split() also splits on after BERT's cleaning has run: U+2028 and U+2029
// (Zl/Zp are neither whitespace nor control for BERT, but str.isspace() is true for them).
bool is_line_or_paragraph_separator(char32_t c);
// Category Mn, the marks accent stripping drops.
bool is_nonspacing_mark(char32_t c);

// Python's str.lower() of a whole whitespace token: simple lower-case mappings, U+0130 → "i̇",
// and capital sigma → final ς when a cased letter precedes it and none follows (skipping
// case-ignorable characters both ways), judged on the original characters.
void lowercase_like_python(const std::u32string& in, std::u32string& out);

// NFD (canonical decomposition, Hangul included, then canonical ordering of combining marks)
// followed by dropping category Mn: BERT's _run_strip_accents. `scratch` is reused storage.
void strip_accents(std::u32string& chars, std::u32string& scratch);

}  // namespace electra::unicode
