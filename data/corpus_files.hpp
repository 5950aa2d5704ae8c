#pragma once
// Which files `electra prepare --corpus PATH...` reads. A path may be a file or a directory;
// directories are walked recursively (sorted, so the order and hence the shards are
// reproducible) for `*.txt` and extension-less files, hidden names skipped. Files that are empty
// or look binary are skipped with a counted reason; a named file that is empty, a directory with
// no text at all, or a missing path is an error.
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

}  // namespace electra
