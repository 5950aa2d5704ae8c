// electra prepare: corpus → shards on the committed Moby-Dick sample, meta.json, the shard
// reader's validation, and bad input (files, directories, flags, vocabularies).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "data/sha256.hpp"
#include "data/shard_format.hpp"
#include "data/vocab.hpp"
#include "engine/error.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"

using namespace electra;
using namespace electra::test;
namespace fs = std::filesystem;

namespace {
nlohmann::json read_meta(const fs::path& dir) {
  std::ifstream in(dir / "meta.json");
  return nlohmann::json::parse(in);
}
}  // namespace

TEST_CASE("shards: the sample prepares into valid shards and a complete meta.json") {
  const fs::path out = scratch_dir("sample");
  PrepareSettings settings = sample_settings(out);
  settings.sequences_per_shard = 300;  // several shards
  const PrepareReport report = prepare_shards(settings);
  CHECK(report.files == 1);
  CHECK(report.passages == 593);
  CHECK(report.shards == (report.packing.sequences + 299) / 300);

  const nlohmann::json meta = read_meta(out);
  CHECK(meta["seq_len"] == 128);
  CHECK(meta["sequences"] == report.packing.sequences);
  CHECK(meta["vocab_sha256"] == sha256_file(sample_vocab));
  CHECK(meta["corpus_files"][0]["sha256"] == sha256_file(sample_corpus));
  CHECK(meta["format_version"] == shard_format_version);

  const Vocab vocab = Vocab::from_file(sample_vocab);
  const SpecialTokens special = vocab.special();
  std::int64_t sequences = 0, tokens = 0;
  std::vector<std::int32_t> row(128);
  for (const auto& shard : meta["shards"]) {
    ShardReader reader((out / shard["file"].get<std::string>()).string());
    const ShardView& view = reader.view();
    CHECK(view.size() == shard["sequences"].get<std::int64_t>());
    for (std::int64_t i = 0; i < view.size(); ++i) {
      const std::int32_t length = view.length(i);
      view.copy_ids(i, row.data());
      CHECK(row[0] == special.cls);
      CHECK(row[length - 1] == special.sep);
      CHECK(row[view.segment_a_end(i) - 1] == special.sep);
      for (std::int64_t t = length; t < 128; ++t) CHECK(row[t] == special.pad);
      tokens += length;
    }
    sequences += view.size();
  }
  CHECK(sequences == report.packing.sequences);
  CHECK(tokens == meta["tokens"].get<std::int64_t>());
}

TEST_CASE("shards: the output does not depend on the chunk size (thread scheduling)") {
  const fs::path a = scratch_dir("chunk_a"), b = scratch_dir("chunk_b");
  PrepareSettings settings_a = sample_settings(a), settings_b = sample_settings(b);
  settings_b.chunk_bytes = 4096;
  prepare_shards(settings_a);
  prepare_shards(settings_b);
  CHECK(sha256_file((a / "shard_00000.bin").string()) ==
        sha256_file((b / "shard_00000.bin").string()));
}

TEST_CASE("shards: seq-len outside 8..512 is a one-line error") {
  const fs::path out = scratch_dir("seq_len");
  for (std::int64_t bad : {4, 1000}) {
    const std::string message = prepare_error(sample_settings(out, bad));
    CHECK(message.find("--seq-len " + std::to_string(bad)) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("shards: a missing vocab and a vocab without MASK are errors") {
  const fs::path out = scratch_dir("vocab");
  PrepareSettings settings = sample_settings(out);
  settings.vocab_path = (out / "no_such_vocab.txt").string();
  CHECK(prepare_error(settings).find("--vocab") != std::string::npos);
  write_file(out / "no_mask.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n");
  settings.vocab_path = (out / "no_mask.txt").string();
  CHECK(prepare_error(settings).find("[MASK]") != std::string::npos);
}

TEST_CASE("shards: empty file and directory without text are errors and binary files are skipped") {
  const fs::path dir = scratch_dir("bad_input");
  write_file(dir / "empty.txt", "");
  PrepareSettings settings = sample_settings(dir / "out");
  settings.corpus_paths = {(dir / "empty.txt").string()};
  CHECK(prepare_error(settings).find("empty") != std::string::npos);

  fs::create_directories(dir / "no_text");
  write_file(dir / "no_text" / "image.png", "\x89PNG\r\n");
  write_file(dir / "no_text" / "blob", std::string("\x00\x01\x02", 3));
  settings.corpus_paths = {(dir / "no_text").string()};
  CHECK(prepare_error(settings).find("no text files") != std::string::npos);

  settings.corpus_paths = {(dir / "missing").string()};
  CHECK(prepare_error(settings).find("no such file") != std::string::npos);

  // A directory with text plus binary and empty files: the text is read, the rest counted.
  fs::create_directories(dir / "mixed" / "sub");
  fs::copy_file(sample_corpus, dir / "mixed" / "sub" / "moby.txt");
  write_file(dir / "mixed" / "zeros", std::string(4096, '\0'));
  std::string latin1(2000, '\xE9');  // not UTF-8
  write_file(dir / "mixed" / "latin1.txt", latin1);
  write_file(dir / "mixed" / "empty.txt", "");
  write_file(dir / "mixed" / "notes.md", "ignored by extension");
  settings.corpus_paths = {(dir / "mixed").string()};
  std::vector<std::string> warnings;
  settings.warn = [&](const std::string& message) { warnings.push_back(message); };
  const PrepareReport report = prepare_shards(settings);
  CHECK(report.files == 1);
  CHECK(report.skipped.size() == 3);
  CHECK(warnings.size() == 3);
  CHECK(read_meta(dir / "out")["skipped_files"].size() == 3);
}

TEST_CASE("shards: looks_like_text") {
  CHECK(looks_like_text("plain ascii\n"));
  CHECK(looks_like_text("caf\xC3\xA9 \xE2\x80\x94 ok"));
  CHECK(looks_like_text("cut at the end \xE2\x80"));  // a character cut by the 8 KB window
  CHECK_FALSE(looks_like_text(std::string("a\0b", 3)));
  CHECK_FALSE(looks_like_text(std::string(100, '\xFF')));
}

TEST_CASE("shards: a 10 MB single line is handled") {
  const fs::path dir = scratch_dir("long_line");
  std::string line;
  line.reserve(10 << 20);
  const std::string words[] = {"the ", "whale ", "sea ", "ship ", "ahab ", "white ", "and ", "of "};
  for (std::size_t i = 0; line.size() < (10u << 20); ++i) line += words[(i * 7 + i / 3) % 8];
  line += "\n";
  write_file(dir / "one_line.txt", line);
  PrepareSettings settings = sample_settings(dir / "out");
  settings.corpus_paths = {(dir / "one_line.txt").string()};
  const auto start = std::chrono::steady_clock::now();
  const PrepareReport report = prepare_shards(settings);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(report.passages == 1);
  CHECK(report.corpus_tokens > 1'000'000);
  // No sentence ends: one sequence, the rest cut (ELECTRA's rule for an overlong sentence).
  CHECK(report.packing.sequences == 1);
  CHECK(seconds < 20.0);
}

TEST_CASE("shards: an out dir from another vocabulary or seq-len is refused unless --overwrite") {
  const fs::path dir = scratch_dir("refuse");
  PrepareSettings settings = sample_settings(dir / "out");
  prepare_shards(settings);
  prepare_shards(settings);  // same vocabulary and length: rebuilt in place

  const Vocab vocab = Vocab::from_file(sample_vocab);
  std::vector<std::string> tokens = vocab.tokens();
  tokens.push_back("zzextrazz");  // not in the sample vocab (a repeated token is refused)
  Vocab::from_tokens(tokens).save((dir / "other_vocab.txt").string());
  PrepareSettings other = settings;
  other.vocab_path = (dir / "other_vocab.txt").string();
  CHECK(prepare_error(other).find("another vocabulary") != std::string::npos);
  PrepareSettings longer = sample_settings(dir / "out", 256);
  CHECK(prepare_error(longer).find("seq_len 128") != std::string::npos);

  other.overwrite = true;
  prepare_shards(other);
  CHECK(read_meta(dir / "out")["vocab_sha256"] == sha256_file(other.vocab_path));
}

TEST_CASE("shards: the reader rejects truncated and corrupted files") {
  const fs::path dir = scratch_dir("corrupt");
  PrepareSettings settings = sample_settings(dir);
  prepare_shards(settings);
  const std::string bytes = read_text(dir / "shard_00000.bin");
  const auto view_of = [](const std::string& data) {
    return ShardView(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), "test");
  };
  CHECK(view_of(bytes).size() > 0);
  CHECK_THROWS_AS(view_of(bytes.substr(0, bytes.size() - 1)), Error);
  CHECK_THROWS_AS(view_of(bytes.substr(0, 10)), Error);
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  CHECK_THROWS_AS(view_of(bad_magic), Error);
  std::string bad_length = bytes;
  bad_length[64] = '\xFF';  // first record's length: 0x..FF > seq_len
  bad_length[65] = '\x7F';
  CHECK_THROWS_AS(view_of(bad_length), Error);
  std::string bad_id = bytes;
  const std::size_t last_id = bytes.size() - 2;
  bad_id[last_id] = '\xFF';
  bad_id[last_id + 1] = '\xFF';  // 65535 ≥ vocab size 2000
  CHECK_THROWS_AS(view_of(bad_id), Error);
}

TEST_CASE("shards: electra prepare CLI reports errors on one line") {
  const fs::path dir = scratch_dir("cli");
  const std::string base = std::string(ELECTRA_BINARY) + " prepare --corpus " + sample_corpus +
                           " --vocab " + sample_vocab + " --out " + (dir / "out").string();
  const std::string log = (dir / "log.txt").string();
  CHECK(std::system((base + " --seq-len 4 > " + log + " 2>&1").c_str()) != 0);
  std::ifstream in(log);
  std::string first, second;
  std::getline(in, first);
  CHECK(first.find("--seq-len 4") != std::string::npos);
  CHECK_FALSE(std::getline(in, second));
  CHECK(std::system((base + " --threads 2 > " + log + " 2>&1").c_str()) == 0);
  CHECK(fs::exists(dir / "out" / "meta.json"));
}
