// electra prepare against bad corpora and interruptions: binary content past the first 8 KiB is
// refused naming the file and block, what BERT's cleaning drops is counted, and the old shard
// set stays complete until the new one replaces it (data/shard_set_staging.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "data/shard_format.hpp"
#include "data/shard_set_staging.hpp"
#include "engine/error.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"

using namespace electra;
using namespace electra::test;
namespace fs = std::filesystem;

namespace {

// The first `bytes` of the sample (clean UTF-8, no control characters), cut after a newline.
std::string sample_text(std::size_t bytes) {
  std::string text = read_text(sample_corpus);
  text.resize(text.rfind('\n', bytes) + 1);
  return text;
}

std::string random_bytes(std::size_t count, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(count, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator() & 0xFF);
  return bytes;
}

// Every shard meta.json lists opens and validates; returns meta.json.
nlohmann::json check_complete_set(const fs::path& dir) {
  const nlohmann::json meta = nlohmann::json::parse(read_text(dir / "meta.json"));
  std::int64_t sequences = 0;
  for (const auto& shard : meta["shards"]) {
    ShardReader reader((dir / shard["file"].get<std::string>()).string());
    sequences += reader.view().size();
  }
  CHECK(sequences == meta["sequences"].get<std::int64_t>());
  return meta;
}

}  // namespace

TEST_CASE(
    "prepare reliability: binary data past the sniffed 8 KiB is refused naming file and block") {
  const fs::path dir = scratch_dir("binary_tail");
  // 100 KB of text then 1 MB of random bytes: the first block is text, the second (from byte
  // 65 536) is 40% random. Before: accepted, the random bytes became 4.5% [UNK].
  const std::string text = sample_text(100 * 1024);
  const fs::path corpus = dir / "mixed.txt";
  write_file(corpus, text + random_bytes(1 << 20, 7));
  PrepareSettings settings = sample_settings(dir / "out");
  settings.corpus_paths = {corpus.string()};
  const std::string message = prepare_error(settings);
  CHECK(message.find(corpus.string()) != std::string::npos);
  CHECK(message.find("binary data from byte 65536") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));  // nothing half-built is left
  CHECK_FALSE(fs::exists(ShardSetStaging::staging_path((dir / "out").string())));

  // UTF-16 text: every other byte NUL (the sniff saw only its NUL-free ASCII head).
  std::string utf16;
  for (const char c : sample_text(80 * 1024)) utf16 += std::string{c, '\0'};
  write_file(corpus, sample_text(20 * 1024) + utf16);
  CHECK(prepare_error(settings).find("binary data from byte") != std::string::npos);
}

TEST_CASE("prepare reliability: Latin-1 prose and stray bad bytes are read, and counted") {
  const fs::path dir = scratch_dir("dropped");
  // A Latin-1 é every ~40 bytes is malformed UTF-8 at ~2.5%: text, not binary.
  std::string latin1;
  while (latin1.size() < 200 * 1024) latin1 += "le caf\xE9 est au bord de la mer et il pleut.\n";
  const auto accents = static_cast<std::int64_t>(std::count(latin1.begin(), latin1.end(), '\xE9'));
  // Past the sniffed 8 KiB: 3 malformed sequences, 2 NUL, 2 ASCII controls, a soft hyphen
  // (category Cf) and a literal U+FFFD; all dropped by BERT's cleaning.
  std::string clean = sample_text(60 * 1024);
  clean.insert(clean.find('\n', 20000) + 1, "bad\xFF\xFFx\xC3(y\n");
  clean.insert(clean.find('\n', 30000) + 1,
               std::string("nul\0\0ctl\x01\x7F", 10) + "soft\xC2\xADhy\xEF\xBF\xBD\n");
  write_file(dir / "latin1.txt", latin1);
  write_file(dir / "clean.txt", clean);
  PrepareSettings settings = sample_settings(dir / "out");
  settings.corpus_paths = {(dir / "clean.txt").string(), (dir / "latin1.txt").string()};
  const PrepareReport report = prepare_shards(settings);
  CHECK(report.file_census.at(0).invalid_utf8 == 3);
  CHECK(report.file_census.at(0).nul_bytes == 2);
  CHECK(report.file_census.at(0).ascii_controls == 2);
  CHECK(report.file_census.at(0).other_dropped == 2);
  CHECK(report.file_census.at(1).invalid_utf8 == accents);
  CHECK(report.dropped.invalid_utf8 == 3 + accents);

  const nlohmann::json meta = check_complete_set(dir / "out");
  CHECK(meta["dropped"]["invalid_utf8"] == 3 + accents);
  CHECK(meta["dropped"]["nul_bytes"] == 2);
  CHECK(meta["dropped"]["control_characters"] == 2);
  CHECK(meta["dropped"]["other_characters"] == 2);
  CHECK(meta["corpus_files"][0]["dropped_invalid_utf8"] == 3);
  CHECK(meta["corpus_files"][0]["dropped_characters"] == 6);
  CHECK(meta["corpus_files"][1]["dropped_invalid_utf8"] == accents);
}

TEST_CASE("prepare reliability: the old set stays complete until the new one replaces it") {
  const fs::path dir = scratch_dir("swap");
  const fs::path out = dir / "shards";
  PrepareSettings first = sample_settings(out, 128);
  first.sequences_per_shard = 100;
  prepare_shards(first);
  const std::string old_meta = read_text(out / "meta.json");

  // A second prepare (another seq_len, --overwrite) interrupted midway: at every progress call,
  // i.e. after each chunk and its shards, --out still holds the first set, whole. A kill there
  // leaves exactly this. Before: the old shards and meta.json were deleted first.
  PrepareSettings second = sample_settings(out, 64);
  second.overwrite = true;
  second.sequences_per_shard = 100;
  second.chunk_bytes = 16 * 1024;
  int calls = 0;
  second.progress = [&](std::int64_t, std::int64_t) {
    ++calls;
    CHECK(read_text(out / "meta.json") == old_meta);
    check_complete_set(out);
    if (calls < 5) return;
    CHECK(fs::exists(fs::path(ShardSetStaging::staging_path(out.string())) / "shard_00000.bin"));
    throw_error("interrupted");
  };
  CHECK(prepare_error(second) == "interrupted");
  CHECK(read_text(out / "meta.json") == old_meta);
  CHECK_FALSE(fs::exists(ShardSetStaging::staging_path(out.string())));  // removed on the error

  second.progress = nullptr;
  prepare_shards(second);
  CHECK(check_complete_set(out)["seq_len"] == 64);
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    CHECK((name == "shards" || name == ".shards.prepare-lock"));  // no staging or old set left
  }
}

TEST_CASE("prepare reliability: leftovers of a killed prepare are cleaned or restored") {
  const fs::path dir = scratch_dir("leftovers");
  const fs::path out = dir / "shards";
  PrepareSettings settings = sample_settings(out);
  prepare_shards(settings);
  const std::string old_meta = read_text(out / "meta.json");

  // Killed while building: a partial staging directory. The next prepare removes it.
  const fs::path staging = ShardSetStaging::staging_path(out.string());
  fs::create_directories(staging);
  write_file(staging / "shard_00000.bin.tmp", "partial");
  prepare_shards(settings);
  CHECK_FALSE(fs::exists(staging));
  check_complete_set(out);

  // Killed between the two renames of a swap without RENAME_EXCHANGE: the old set waits at
  // .shards.prepare-old and --out is gone. It is moved back even when this prepare is refused.
  const fs::path old_set = dir / ".shards.prepare-old";
  fs::rename(out, old_set);
  PrepareSettings refused = sample_settings(out, 64);  // another seq_len, no --overwrite
  CHECK(prepare_error(refused).find("seq_len 128") != std::string::npos);
  CHECK_FALSE(fs::exists(old_set));
  CHECK(read_text(out / "meta.json") == old_meta);
}

TEST_CASE(
    "prepare reliability: --out holding other files, or locked by another prepare, is refused") {
  const fs::path dir = scratch_dir("foreign");
  const fs::path out = dir / "shards";
  fs::create_directories(out);
  write_file(out / "notes.txt", "mine");
  const std::string message = prepare_error(sample_settings(out));
  CHECK(message.find("notes.txt") != std::string::npos);
  CHECK(message.find("not part of a shard set") != std::string::npos);
  CHECK(read_text(out / "notes.txt") == "mine");
  fs::remove(out / "notes.txt");

  {
    ShardSetStaging holder(out.string(), false, "sha", 128);  // another prepare at work
    const std::string locked = prepare_error(sample_settings(out));
    CHECK(locked.find("another `electra prepare`") != std::string::npos);
    CHECK(locked.find(out.string()) != std::string::npos);
  }
  prepare_shards(sample_settings(out));
  check_complete_set(out);
}

TEST_CASE("prepare reliability: --out as a symbolic link keeps the shards where it points") {
  const fs::path dir = scratch_dir("symlink");
  fs::create_directories(dir / "big_disk" / "shards");
  fs::create_directory_symlink(dir / "big_disk" / "shards", dir / "shards");
  PrepareSettings settings = sample_settings(dir / "shards");
  prepare_shards(settings);
  prepare_shards(settings);  // the second one swaps a set that exists
  CHECK(fs::is_symlink(dir / "shards"));
  check_complete_set(dir / "big_disk" / "shards");
}
