// `electra prepare`: text corpus → packed, tokenised, memory-mappable shards (data/shards.hpp).
#include <chrono>
#include <cstdio>
#include <memory>

#include "data/shards.hpp"
#include "tools/command.hpp"
#include "tools/progress.hpp"

namespace electra::cli {
namespace {

struct PrepareOptions {
  std::vector<std::string> corpus;
  std::string vocab;
  std::string out;
  std::int64_t seq_len = 128;
  std::uint64_t seed = 12345;
  bool overwrite = false;
};

int run_prepare(const PrepareOptions& options) {
  PrepareSettings settings;
  settings.corpus_paths = options.corpus;
  settings.vocab_path = options.vocab;
  settings.out_dir = options.out;
  settings.seq_len = options.seq_len;
  settings.seed = options.seed;
  settings.overwrite = options.overwrite;
  std::unique_ptr<ProgressBar> bar;
  const auto start = std::chrono::steady_clock::now();
  settings.progress = [&bar, start](std::int64_t done, std::int64_t total) {
    if (!bar) bar = std::make_unique<ProgressBar>("prepare", total, 10.0);
    const double megabytes = done / 1e6;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char status[96];
    std::snprintf(status, sizeof(status), "%.1f / %.1f MB | %.1f MB/s", megabytes, total / 1e6,
                  seconds > 0 ? megabytes / seconds : 0.0);
    bar->update(done, status);
    if (done >= total) bar->finish(status);  // the 100% line, with the final rate
  };
  settings.warn = [](const std::string& message) {
    std::fprintf(stderr, "electra prepare: warning: %s\n", message.c_str());
  };
  const PrepareReport report = prepare_shards(settings);
  if (bar) bar->finish();

  const double megabytes = report.bytes / 1e6;
  const PackingStats& packing = report.packing;
  const double sequences = static_cast<double>(packing.sequences);
  std::printf("electra prepare: %lld files (%zu skipped), %.2f MB, %lld passages, %lld documents\n",
              static_cast<long long>(report.files), report.skipped.size(), megabytes,
              static_cast<long long>(report.passages), static_cast<long long>(report.documents));
  std::printf("  tokens: %lld word pieces, [UNK] %lld (%.3f%%)\n",
              static_cast<long long>(report.corpus_tokens),
              static_cast<long long>(report.unk_tokens),
              report.corpus_tokens ? 100.0 * report.unk_tokens / report.corpus_tokens : 0.0);
  // BERT's cleaning drops these silently; counted so a damaged corpus does not go unnoticed.
  const TextCensus& dropped = report.dropped;
  std::printf(
      "  dropped: %lld malformed UTF-8 sequences, %lld NUL and control characters, %lld "
      "other control/format characters (per file in meta.json)\n",
      static_cast<long long>(dropped.invalid_utf8),
      static_cast<long long>(dropped.nul_bytes + dropped.ascii_controls),
      static_cast<long long>(dropped.other_dropped));
  std::printf(
      "  sequences: %lld of length <= %lld in %lld shard(s), %lld tokens (%.1f%% of slots), "
      "single-segment %.1f%%, short target %.1f%%, cut %lld tokens\n",
      static_cast<long long>(packing.sequences), static_cast<long long>(options.seq_len),
      static_cast<long long>(report.shards), static_cast<long long>(packing.tokens),
      100.0 * packing.tokens / (sequences * options.seq_len),
      100.0 * packing.single_segment / sequences, 100.0 * packing.short_targets / sequences,
      static_cast<long long>(packing.dropped_tokens));
  std::printf("  tokenised %.2f MB in %.2f s: %.1f MB/s on %d thread(s) -> %s\n", megabytes,
              report.seconds, report.seconds > 0 ? megabytes / report.seconds : 0.0, report.threads,
              options.out.c_str());
  return 0;
}

const CommandRegistration prepare_command{Command{
    "prepare", "tokenise a text corpus into packed pre-training shards",
    [](CLI::App& app) -> std::function<int()> {
      auto options = std::make_shared<PrepareOptions>();
      app.add_option("--corpus", options->corpus,
                     "text files or directories (one passage per line, blank line between "
                     "documents; directories: *.txt and files without extension)")
          ->required();
      app.add_option("--vocab", options->vocab, "WordPiece vocab.txt")->required();
      app.add_option("--out", options->out, "output directory for shards and meta.json")
          ->required();
      app.add_option("--seq-len", options->seq_len, "sequence length L, 8..512")
          ->capture_default_str();
      app.add_option("--seed", options->seed, "packing seed")->capture_default_str();
      app.add_flag("--overwrite", options->overwrite,
                   "replace shards built from another vocabulary or sequence length (the old set "
                   "stays in place until the new one is complete)");
      return [options] { return run_prepare(*options); };
    }}};

}  // namespace
}  // namespace electra::cli
