#include "data/shards.hpp"

#include <tbb/parallel_pipeline.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "data/sha256.hpp"
#include "data/shard_format.hpp"
#include "data/shard_set_staging.hpp"
#include "data/tokenizer.hpp"
#include "engine/error.hpp"
#include "engine/threads.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

constexpr std::int64_t document_break = -1;  // in Chunk::passage_ends: a blank line

// A run of whole lines from one file, then its tokens.
struct Chunk {
  std::size_t file_index = 0;
  bool last_of_file = false;
  std::int64_t file_offset = 0;  // of text[0]
  std::string text;
  CorpusTextScan scan;
  std::int64_t bytes = 0;
  std::vector<std::int32_t> ids;
  std::vector<std::int64_t> passage_ends;  // end offset in ids of each passage, or document_break
};

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\f\v") == std::string_view::npos;
}

void tokenize_chunk(const Tokenizer& tokenizer, Chunk& chunk) {
  chunk.scan =
      scan_corpus_text(chunk.text, chunk.file_offset, chunk.file_offset == 0 && chunk.last_of_file);
  if (chunk.scan.binary_offset >= 0) return;  // the writing stage reports it, in file order
  std::string_view rest = chunk.text;
  chunk.ids.reserve(chunk.text.size() / 4);
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    if (is_blank(line)) {
      chunk.passage_ends.push_back(document_break);
      continue;
    }
    tokenizer.encode_append(line, chunk.ids);
    chunk.passage_ends.push_back(static_cast<std::int64_t>(chunk.ids.size()));
  }
}

// Reads the corpus files one after the other in chunks of about chunk_bytes, cut after a newline
// (a line longer than that makes a longer chunk: it is never split).
class ChunkReader {
 public:
  ChunkReader(const std::vector<std::string>& files, std::int64_t chunk_bytes)
      : files_(files), chunk_bytes_(chunk_bytes), hashes_(files.size()) {}

  std::shared_ptr<Chunk> next() {
    while (file_index_ < files_.size()) {
      if (!in_.is_open()) {
        in_.open(files_[file_index_], std::ios::binary);
        check(in_.good(), "prepare: cannot read ", files_[file_index_]);
      }
      auto chunk = std::make_shared<Chunk>();
      chunk->file_index = file_index_;
      chunk->file_offset = text_offset_;
      std::string block(static_cast<std::size_t>(chunk_bytes_), '\0');
      while (true) {
        in_.read(block.data(), static_cast<std::streamsize>(block.size()));
        const std::size_t got = static_cast<std::size_t>(in_.gcount());
        hashes_[file_index_].update(block.data(), got);
        chunk->bytes += static_cast<std::int64_t>(got);
        carry_.append(block.data(), got);
        if (got < block.size()) {  // end of file: everything left is the chunk
          check(!in_.bad(), "prepare: read error in ", files_[file_index_]);
          chunk->text = std::move(carry_);
          carry_.clear();
          chunk->last_of_file = true;
          text_offset_ = 0;
          in_.close();
          digests_.push_back(hashes_[file_index_].hex_digest());
          ++file_index_;
          return chunk;
        }
        const std::size_t last_newline = carry_.rfind('\n');
        if (last_newline != std::string::npos) {
          chunk->text = carry_.substr(0, last_newline + 1);
          carry_.erase(0, last_newline + 1);
          text_offset_ += static_cast<std::int64_t>(chunk->text.size());
          return chunk;
        }
      }
    }
    return nullptr;
  }

  const std::vector<std::string>& digests() const { return digests_; }

 private:
  const std::vector<std::string>& files_;
  std::int64_t chunk_bytes_;
  std::size_t file_index_ = 0;
  std::int64_t text_offset_ = 0;  // file offset of carry_[0]
  std::ifstream in_;
  std::string carry_;
  std::vector<Sha256> hashes_;
  std::vector<std::string> digests_;
};

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  check(in.good(), "cannot read ", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw_error(path.string(), ": not valid JSON (", error.what(), ")");
  }
}

std::string shard_name(std::int64_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "shard_%05lld.bin", static_cast<long long>(index));
  return name;
}

}  // namespace

void check_seq_len(std::int64_t seq_len, const char* flag) {
  check(seq_len >= min_seq_len && seq_len <= max_seq_len, flag, " ", seq_len, " is outside [",
        min_seq_len, ", ", max_seq_len, "] (512 = max position embeddings)");
}

PrepareReport prepare_shards(const PrepareSettings& settings) {
  check_seq_len(settings.seq_len);
  check(settings.sequences_per_shard > 0, "prepare: sequences per shard must be positive");
  check(settings.chunk_bytes > 0, "prepare: chunk size must be positive");
  check(!settings.vocab_path.empty() && fs::is_regular_file(settings.vocab_path),
        "prepare: --vocab ", settings.vocab_path, ": no such file");
  const Tokenizer tokenizer = Tokenizer::from_file(settings.vocab_path);
  const std::string vocab_sha256 = sha256_file(settings.vocab_path);
  const SpecialTokens special = tokenizer.special_tokens();
  const CorpusFiles corpus = find_corpus_files(settings.corpus_paths);
  for (const SkippedFile& skipped : corpus.skipped) {
    if (settings.warn) settings.warn("skipping " + skipped.path + ": " + skipped.reason);
  }
  ShardSetStaging staging(settings.out_dir, settings.overwrite, vocab_sha256, settings.seq_len);

  PrepareReport report;
  report.files = static_cast<std::int64_t>(corpus.files.size());
  report.skipped = corpus.skipped;
  report.file_census.resize(corpus.files.size());
  report.threads = num_threads();
  std::int64_t total_bytes = 0;
  for (const std::string& file : corpus.files)
    total_bytes += static_cast<std::int64_t>(fs::file_size(file));

  std::vector<std::int32_t> sentence_end_ids;
  for (const char* mark : {".", "!", "?"}) {
    if (auto id = tokenizer.vocab().find(mark)) sentence_end_ids.push_back(*id);
  }
  SequencePacker packer(special, settings.seq_len, settings.seed, sentence_end_ids);
  ChunkReader reader(corpus.files, settings.chunk_bytes);
  std::vector<PackedSequence> pending;
  nlohmann::json shards = nlohmann::json::array();
  const auto flush_shard = [&](bool final_flush) {
    while (static_cast<std::int64_t>(pending.size()) >= settings.sequences_per_shard ||
           (final_flush && !pending.empty())) {
      const std::size_t take = std::min<std::size_t>(pending.size(), settings.sequences_per_shard);
      const std::string name = shard_name(report.shards);
      write_shard((fs::path(staging.dir()) / name).string(),
                  std::span<const PackedSequence>(pending.data(), take), settings.seq_len,
                  tokenizer.vocab().size(), special.pad);
      shards.push_back({{"file", name}, {"sequences", take}});
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
      ++report.shards;
    }
  };

  const auto start = std::chrono::steady_clock::now();
  const auto max_live_chunks = static_cast<std::size_t>(2 * report.threads + 1);
  // No stage throws: an exception cancels the pipeline and oneTBB then drops the chunks in
  // flight without destroying them (LeakSanitizer saw them). The first error is kept, the reader
  // stops, the chunks still in flight pass through untouched, and it is rethrown after the run.
  std::mutex error_mutex;
  std::exception_ptr pipeline_error;
  std::atomic<bool> failed{false};
  const auto keep_first_error = [&] {
    const std::lock_guard<std::mutex> lock(error_mutex);
    if (!pipeline_error) pipeline_error = std::current_exception();
    failed = true;
  };
  tbb::parallel_pipeline(
      max_live_chunks,
      tbb::make_filter<void, std::shared_ptr<Chunk>>(
          tbb::filter_mode::serial_in_order,
          [&](tbb::flow_control& control) -> std::shared_ptr<Chunk> {
            std::shared_ptr<Chunk> chunk;
            try {
              if (!failed) chunk = reader.next();
            } catch (...) {
              keep_first_error();
            }
            if (!chunk) control.stop();
            return chunk;
          }) &
          tbb::make_filter<std::shared_ptr<Chunk>, std::shared_ptr<Chunk>>(
              tbb::filter_mode::parallel,
              [&](std::shared_ptr<Chunk> chunk) {
                try {
                  if (!failed) tokenize_chunk(tokenizer, *chunk);
                } catch (...) {
                  keep_first_error();
                }
                return chunk;
              }) &
          tbb::make_filter<std::shared_ptr<Chunk>, void>(
              tbb::filter_mode::serial_in_order, [&](std::shared_ptr<Chunk> chunk) {
                if (failed) return;
                try {
                  const CorpusTextScan& scan = chunk->scan;
                  const std::string& file = corpus.files[chunk->file_index];
                  check(scan.binary_offset < 0, "prepare: ", file, " holds binary data from byte ",
                        scan.binary_offset, " (in its ", scan.binary_block.bytes,
                        " bytes there: ", scan.binary_block.nul_bytes, " NUL, ",
                        scan.binary_block.invalid_utf8, " malformed UTF-8 sequences, ",
                        scan.binary_block.ascii_controls,
                        " control characters); remove it from --corpus or clean it");
                  report.file_census[chunk->file_index] += scan.census;
                  report.dropped += scan.census;
                  std::int64_t begin = 0;
                  for (const std::int64_t end : chunk->passage_ends) {
                    if (end == document_break) {
                      packer.end_document(pending);
                      ++report.documents;
                      continue;
                    }
                    const std::span<const std::int32_t> passage(
                        chunk->ids.data() + begin, static_cast<std::size_t>(end - begin));
                    for (const std::int32_t id : passage)
                      report.unk_tokens += id == special.unk ? 1 : 0;
                    report.corpus_tokens += end - begin;
                    packer.add_passage(passage, pending);
                    ++report.passages;
                    begin = end;
                  }
                  if (chunk->last_of_file) {
                    packer.end_document(pending);
                    ++report.documents;
                  }
                  report.bytes += chunk->bytes;
                  flush_shard(false);
                  if (settings.progress) settings.progress(report.bytes, total_bytes);
                } catch (...) {
                  keep_first_error();
                }
              }));
  if (pipeline_error) std::rethrow_exception(pipeline_error);
  flush_shard(true);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.packing = packer.stats();
  check(report.packing.sequences > 0, "prepare: the corpus produced no sequences (",
        report.passages, " passages, all blank?)");

  nlohmann::json corpus_files = nlohmann::json::array();
  for (std::size_t i = 0; i < corpus.files.size(); ++i) {
    const TextCensus& census = report.file_census[i];
    corpus_files.push_back({{"path", corpus.files[i]},
                            {"bytes", fs::file_size(corpus.files[i])},
                            {"sha256", reader.digests().at(i)},
                            {"dropped_invalid_utf8", census.invalid_utf8},
                            {"dropped_characters", census.dropped_characters()}});
  }
  nlohmann::json skipped = nlohmann::json::array();
  for (const SkippedFile& file : corpus.skipped)
    skipped.push_back({{"path", file.path}, {"reason", file.reason}});
  const PackingStats& packing = report.packing;
  const nlohmann::json meta = {{"format", "electra-shards"},
                               {"format_version", shard_format_version},
                               {"seq_len", settings.seq_len},
                               {"sequences", packing.sequences},
                               {"tokens", packing.tokens},
                               {"vocab_sha256", vocab_sha256},
                               {"vocab_size", tokenizer.vocab().size()},
                               {"special_tokens",
                                {{"pad", special.pad},
                                 {"unk", special.unk},
                                 {"cls", special.cls},
                                 {"sep", special.sep},
                                 {"mask", special.mask}}},
                               {"seed", settings.seed},
                               {"shards", shards},
                               {"corpus_files", corpus_files},
                               {"skipped_files", skipped},
                               {"corpus_tokens", report.corpus_tokens},
                               {"unk_tokens", report.unk_tokens},
                               {"dropped",
                                {{"invalid_utf8", report.dropped.invalid_utf8},
                                 {"nul_bytes", report.dropped.nul_bytes},
                                 {"control_characters", report.dropped.ascii_controls},
                                 {"other_characters", report.dropped.other_dropped}}},
                               {"passages", report.passages},
                               {"packing",
                                {{"single_segment", packing.single_segment},
                                 {"short_targets", packing.short_targets},
                                 {"dropped_tokens", packing.dropped_tokens}}}};
  const fs::path meta_path = fs::path(staging.dir()) / "meta.json";
  {
    std::ofstream out(meta_path);
    out << meta.dump(2) << "\n";
    out.close();
    check(!out.fail(), "prepare: cannot write ", meta_path.string(), " (disk full?)");
  }
  staging.commit();  // the complete set replaces the old one in one step
  return report;
}

ShardSetInfo read_shard_set_info(const std::string& dir) {
  const fs::path meta_path = fs::path(dir) / "meta.json";
  check(fs::is_regular_file(meta_path), "shards: ", dir,
        " has no meta.json (not a shard directory? run `electra prepare` first)");
  const nlohmann::json meta = read_json(meta_path);
  ShardSetInfo info;
  info.dir = dir;
  try {
    check(meta.at("format").get<std::string>() == "electra-shards", meta_path.string(),
          ": format is not electra-shards");
    const auto version = meta.at("format_version").get<std::uint32_t>();
    check(version == shard_format_version, meta_path.string(), ": format_version ", version,
          ", this build reads ", shard_format_version);
    info.seq_len = meta.at("seq_len").get<std::int64_t>();
    info.sequences = meta.at("sequences").get<std::int64_t>();
    info.tokens = meta.at("tokens").get<std::int64_t>();
    info.vocab_sha256 = meta.at("vocab_sha256").get<std::string>();
    info.vocab_size = meta.at("vocab_size").get<std::int32_t>();
    for (const nlohmann::json& shard : meta.at("shards")) {
      const std::string name = shard.at("file").get<std::string>();
      check(name.find('/') == std::string::npos, meta_path.string(), ": bad shard name ", name);
      info.shard_files.push_back((fs::path(dir) / name).string());
    }
  } catch (const nlohmann::json::exception& error) {
    throw_error(meta_path.string(), ": missing or mistyped field (", error.what(), ")");
  }
  check_seq_len(info.seq_len, "meta.json seq_len");
  check(!info.shard_files.empty(), meta_path.string(), ": lists no shards");
  return info;
}

SpecialTokens read_shard_special_tokens(const std::string& shards_dir) {
  const fs::path meta_path = fs::path(shards_dir) / "meta.json";
  SpecialTokens special;
  const std::pair<const char*, std::int32_t*> fields[] = {{"pad", &special.pad},
                                                          {"unk", &special.unk},
                                                          {"cls", &special.cls},
                                                          {"sep", &special.sep},
                                                          {"mask", &special.mask}};
  std::ifstream in(meta_path, std::ios::binary);
  check(in.good(), "cannot open ", meta_path.string());
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw_error(meta_path.string(), ": cannot read special_tokens (", error.what(), ")");
  }
  check(meta.is_object() && meta.contains("special_tokens") && meta["special_tokens"].is_object(),
        meta_path.string(), ": no special_tokens object");
  check(meta.contains("vocab_size") && meta["vocab_size"].is_number_integer(), meta_path.string(),
        ": no integer vocab_size");
  // Ids are used to index the embedding table: one outside the vocabulary would fail only inside
  // the first update, far from the file that holds it.
  const auto vocab_size = meta["vocab_size"].get<std::int64_t>();
  const nlohmann::json& ids = meta["special_tokens"];
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    const auto& [name, id] = fields[i];
    check(ids.contains(name) && ids[name].is_number_integer(), meta_path.string(),
          ": special_tokens.", name, " is missing or not an integer");
    const auto value = ids[name].get<std::int64_t>();
    check(value >= 0 && value < vocab_size, meta_path.string(), ": special_tokens.", name, " = ",
          ids[name].dump(), " is not a token id in [0, vocab_size ", vocab_size, ")");
    *id = static_cast<std::int32_t>(value);
    for (std::size_t j = 0; j < i; ++j)
      check(*fields[j].second != *id, meta_path.string(), ": special_tokens.", name, " and ",
            fields[j].first, " are both ", value, " (each special token needs its own id)");
  }
  return special;
}

}  // namespace electra
