#include "data/corpus_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "data/unicode_text.hpp"
#include "engine/error.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t sniff_bytes = 8192;

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid. A sequence
// running past the end returns its available length (truncated by the sniffing window).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t expected = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    expected = 2;
  else if (lead >= 0xE0 && lead <= 0xEF)
    expected = 3;
  else if (lead >= 0xF0 && lead <= 0xF4)
    expected = 4;
  else
    return 0;
  for (std::size_t k = 1; k < expected; ++k) {
    if (i + k >= text.size()) return k;
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return expected;
}

std::string read_prefix(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "prepare: cannot read ", path.string());
  std::string prefix(sniff_bytes, '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  prefix.resize(static_cast<std::size_t>(in.gcount()));
  return prefix;
}

bool is_corpus_name(const fs::path& path) {
  const std::string name = path.filename().string();
  if (name.empty() || name[0] == '.') return false;
  const std::string extension = path.extension().string();
  return extension.empty() || extension == ".txt";
}

// Adds `path` to files or to skipped; returns whether it was taken.
bool consider(const fs::path& path, CorpusFiles& corpus) {
  std::error_code error;
  const auto bytes = fs::file_size(path, error);
  check(!error, "prepare: cannot read ", path.string());
  if (bytes == 0) {
    corpus.skipped.push_back({path.string(), "empty"});
    return false;
  }
  std::string reason;
  if (!looks_like_text(read_prefix(path), &reason)) {
    corpus.skipped.push_back({path.string(), reason});
    return false;
  }
  corpus.files.push_back(path.string());
  return true;
}

}  // namespace

bool looks_like_text(std::string_view prefix, std::string* reason) {
  if (prefix.find('\0') != std::string_view::npos) {
    if (reason) *reason = "binary (NUL bytes)";
    return false;
  }
  std::size_t invalid = 0;
  for (std::size_t i = 0; i < prefix.size();) {
    const std::size_t length = utf8_sequence_length(prefix, i);
    if (length == 0) {
      ++invalid;
      ++i;
    } else {
      i += length;
    }
  }
  if (invalid * 10 > prefix.size()) {
    if (reason) *reason = "binary (invalid UTF-8)";
    return false;
  }
  return true;
}

TextCensus& TextCensus::operator+=(const TextCensus& other) {
  bytes += other.bytes;
  nul_bytes += other.nul_bytes;
  invalid_utf8 += other.invalid_utf8;
  ascii_controls += other.ascii_controls;
  other_dropped += other.other_dropped;
  return *this;
}

namespace {

constexpr std::int64_t min_judged_block_bytes = 8 * 1024;

bool is_binary_block(const TextCensus& block) {
  const std::int64_t suspicious = block.nul_bytes + block.ascii_controls + block.invalid_utf8;
  return block.nul_bytes * 100 > block.bytes || suspicious * 10 > block.bytes;
}

// Adds the characters of text[begin, end) to `census`; a sequence starting before `end` is read
// whole (it may run past `end`) and the position after it is returned.
std::size_t count_block(std::string_view text, std::size_t begin, std::size_t end,
                        TextCensus& census) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t pos = begin;
  while (pos < end) {
    const unsigned char byte = bytes[pos];
    if (byte < 0x80) {  // the fast path: nearly all of English prose
      if (byte == 0) {
        ++census.nul_bytes;
      } else if ((byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7F) {
        ++census.ascii_controls;
      }
      ++pos;
      continue;
    }
    const unicode::Decoded decoded = unicode::decode_utf8(text.data(), text.size(), pos);
    if (!decoded.valid) {
      ++census.invalid_utf8;
    } else if (decoded.code_point == unicode::kReplacementChar ||
               unicode::is_bert_control(decoded.code_point)) {
      ++census.other_dropped;
    }
    pos += decoded.length;
  }
  census.bytes += static_cast<std::int64_t>(pos - begin);
  return pos;
}

}  // namespace

CorpusTextScan scan_corpus_text(std::string_view text, std::int64_t file_offset, bool whole_file) {
  CorpusTextScan scan;
  const std::size_t block = static_cast<std::size_t>(binary_block_bytes);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(text.size(), pos + block);
    if (text.size() - end < block / 2) end = text.size();  // a short tail joins this block
    const std::size_t begin = pos;
    TextCensus census;
    pos = count_block(text, begin, end, census);
    const bool judged = census.bytes >= min_judged_block_bytes || whole_file;
    if (scan.binary_offset < 0 && judged && is_binary_block(census)) {
      scan.binary_offset = file_offset + static_cast<std::int64_t>(begin);
      scan.binary_block = census;
    }
    scan.census += census;
  }
  return scan;
}

CorpusFiles find_corpus_files(const std::vector<std::string>& paths) {
  check(!paths.empty(), "prepare: --corpus needs at least one file or directory");
  CorpusFiles corpus;
  for (const std::string& given : paths) {
    const fs::path path(given);
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    check(!error && fs::exists(status), "prepare: --corpus ", given, ": no such file or directory");
    if (fs::is_directory(status)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(
               path, fs::directory_options::skip_permission_denied);
           it != fs::recursive_directory_iterator(); ++it) {
        const std::string name = it->path().filename().string();
        if (it->is_directory() && !name.empty() && name[0] == '.') {
          it.disable_recursion_pending();  // .git and friends
          continue;
        }
        if (it->is_regular_file() && is_corpus_name(it->path())) found.push_back(it->path());
      }
      std::sort(found.begin(), found.end());
      std::size_t taken = 0;
      for (const fs::path& file : found) taken += consider(file, corpus) ? 1 : 0;
      check(taken > 0, "prepare: --corpus ", given, ": no text files (*.txt or without extension) ",
            "in this directory (", found.size(), " candidates, all empty or binary)");
    } else {
      check(fs::file_size(path) > 0, "prepare: --corpus ", given, ": the file is empty");
      consider(path, corpus);  // a binary file is skipped and counted like in a directory
    }
  }
  check(!corpus.files.empty(), "prepare: no text to read: every --corpus file was skipped (",
        corpus.skipped.size(), " binary or empty)");
  return corpus;
}

}  // namespace electra
