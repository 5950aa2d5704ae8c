#pragma once
// Which files `electra prepare --corpus PATH...` reads. A path may be a file or a directory;
// directories are walked recursively (sorted, so the order and hence the shards are
// reproducible) for `*.txt` and extension-less files, hidden names skipped. Files that are empty
// or whose first 8 KiB look binary are skipped with a counted reason; a named file that is empty,
// a directory with no text at all, or a missing path is an error. While reading, every block of
// the text is checked again (scan_corpus_text): binary content further in is an error naming
// the file and the byte offset, and what the tokenizer will drop is counted.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace electra {

struct SkippedFile {
  std::string path;
  std::string reason;  // "empty", "binary (NUL bytes)", "binary (invalid UTF-8)"
};

struct CorpusFiles {
  std::vector<std::string> files;
  std::vector<SkippedFile> skipped;
};

// Text unless the prefix holds a NUL byte or more than 10% of it is invalid UTF-8. A multi-byte
// character cut by the end of the prefix counts as valid.
bool looks_like_text(std::string_view prefix, std::string* reason = nullptr);

CorpusFiles find_corpus_files(const std::vector<std::string>& paths);

// What a scan of corpus text finds: the characters BERT's cleaning drops
// (data/basic_tokenizer.hpp), counted the way the tokenizer meets them.
struct TextCensus {
  std::int64_t bytes = 0;
  std::int64_t nul_bytes = 0;
  std::int64_t invalid_utf8 = 0;    // malformed sequences (Python's strict decoder; each dropped)
  std::int64_t ascii_controls = 0;  // C0 controls other than NUL \t \n \r, and DEL
  std::int64_t other_dropped = 0;   // non-ASCII control/format characters (C1, soft hyphen,
                                    // zero-width, BOM, ...) and U+FFFD
  std::int64_t dropped_characters() const { return nul_bytes + ascii_controls + other_dropped; }
  TextCensus& operator+=(const TextCensus& other);
};

// Size of the blocks judged for binary content. A block is binary when more than 1% of its
// bytes are NUL, or more than 10% are NUL, ASCII controls or malformed UTF-8 (random bytes:
// ~0.4% NUL, ~50% malformed or control; Latin-1 prose: a few % malformed).
constexpr std::int64_t binary_block_bytes = 64 * 1024;

struct CorpusTextScan {
  TextCensus census;                // the whole text
  std::int64_t binary_offset = -1;  // file offset of the first binary block, or -1
  TextCensus binary_block;          // that block's census
};

// Scans `text`, bytes [file_offset, file_offset + size) of a corpus file, in blocks of
// binary_block_bytes counted from its start. A short last block joins the one before; a block
// under 8 KiB is judged only when `whole_file` (it was sniffed already otherwise, or is a tail).
CorpusTextScan scan_corpus_text(std::string_view text, std::int64_t file_offset, bool whole_file);

}  // namespace electra
