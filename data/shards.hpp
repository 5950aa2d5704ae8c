#pragma once
// Corpus → shards: the `electra prepare` pipeline. Text files (one passage per line, a blank line
// between documents) are read in ~1 MB chunks cut at line ends, tokenised in parallel with oneTBB
// (tbb::parallel_pipeline: read in order → tokenise in parallel → pack and write in order, so the
// output is identical for any thread count), packed (data/packing.hpp) and written as binary
// shards (data/shard_format.hpp) plus meta.json:
//   { "format": "electra-shards", "format_version", "seq_len", "sequences", "tokens",
//     "vocab_sha256", "vocab_size", "special_tokens", "seed", "shards": [{"file", "sequences"}],
//     "corpus_files": [{"path", "bytes", "sha256", "dropped_invalid_utf8",
//     "dropped_characters"}], "skipped_files": [{"path", "reason"}], "packing": {...},
//     "unk_tokens", "dropped": {"invalid_utf8", "nul_bytes", "control_characters",
//     "other_characters"} }
// Every block of the text is checked for binary content (data/corpus_files.hpp), and the set is
// built in a staging directory that replaces --out only when complete (data/shard_set_staging.hpp).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/corpus_files.hpp"
#include "data/packing.hpp"

namespace electra {

struct PrepareSettings {
  std::vector<std::string> corpus_paths;
  std::string vocab_path;
  std::int64_t seq_len = 128;
  std::string out_dir;
  bool overwrite = false;
  std::uint64_t seed = 12345;
  std::int64_t sequences_per_shard = 65536;
  std::int64_t chunk_bytes = 1 << 20;
  // Called from the writing stage (one thread) with bytes read so far and the total.
  std::function<void(std::int64_t bytes_done, std::int64_t bytes_total)> progress;
  std::function<void(const std::string& message)> warn;  // skipped files
};

struct PrepareReport {
  std::int64_t files = 0;
  std::vector<SkippedFile> skipped;
  std::int64_t bytes = 0;
  std::int64_t passages = 0;
  std::int64_t documents = 0;
  std::int64_t corpus_tokens = 0;       // word pieces from the text, before packing
  std::int64_t unk_tokens = 0;          // of corpus_tokens
  TextCensus dropped;                   // what BERT's cleaning removed, over all files
  std::vector<TextCensus> file_census;  // the same per file, in corpus order
  PackingStats packing;
  std::int64_t shards = 0;
  double seconds = 0;
  int threads = 1;
};

// Checks the flags (seq_len in [8, 512], the vocabulary, the output directory) before reading.
PrepareReport prepare_shards(const PrepareSettings& settings);

// Throws a one-line error unless seq_len is in [8, 512].
void check_seq_len(std::int64_t seq_len, const char* flag = "--seq-len");

// What a shard directory's meta.json says, read back by the batch iterator.
struct ShardSetInfo {
  std::string dir;
  std::int64_t seq_len = 0;
  std::int64_t sequences = 0;
  std::int64_t tokens = 0;
  std::string vocab_sha256;
  std::int32_t vocab_size = 0;
  std::vector<std::string> shard_files;  // full paths
};
ShardSetInfo read_shard_set_info(const std::string& dir);

// Reads meta.json's "special_tokens" (pad/unk/cls/sep/mask ids: distinct, each in
// [0, vocab_size)) for the trainer; errors are one line naming the file and the field.
SpecialTokens read_shard_special_tokens(const std::string& shards_dir);

}  // namespace electra
