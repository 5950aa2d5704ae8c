// `electra prepare` as a user meets it: kill -9 at any moment leaves --out holding a complete
// shard set (the old or the new one), a corpus turning binary past its first 8 KiB is refused
// in one line, and the summary says what BERT's cleaning dropped.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "data/shard_format.hpp"
#include "data/shards.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"

namespace fs = std::filesystem;
using namespace electra::test;

namespace {

// The seq_len of the complete set in `dir`: meta.json parses and every shard it lists validates.
std::int64_t complete_set_seq_len(const fs::path& dir) {
  REQUIRE(fs::exists(dir / "meta.json"));
  const nlohmann::json meta = nlohmann::json::parse(read_text(dir / "meta.json"));
  std::int64_t sequences = 0;
  for (const auto& shard : meta["shards"]) {
    electra::ShardReader reader((dir / shard["file"].get<std::string>()).string());
    sequences += reader.view().size();
  }
  CHECK(sequences == meta["sequences"].get<std::int64_t>());
  return meta["seq_len"].get<std::int64_t>();
}

}  // namespace

TEST_CASE("prepare CLI: kill -9 at any moment leaves the old or the new complete set") {
  const fs::path dir = scratch_dir("kill");
  std::string corpus_text;
  const std::string sample = read_text(sample_corpus);
  for (int copy = 0; copy < 8; ++copy) corpus_text += sample + "\n";
  const fs::path corpus = dir / "corpus.txt";
  std::ofstream(corpus, std::ios::binary) << corpus_text;
  const fs::path out = dir / "shards";
  const std::string base = electra_binary + " prepare --corpus " + corpus.string() + " --vocab " +
                           sample_vocab + " --out " + out.string() + " --threads 1 --overwrite";
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(run_command(base + " --seq-len 128").exit_code == 0);
  // Only to spread the kills over a whole run (start-up, tokenising, writing, swapping): any
  // moment must leave a complete set, so nothing is asserted about time.
  const auto run_time = std::chrono::steady_clock::now() - start;

  std::int64_t current = 128;
  for (const double fraction : {0.02, 0.2, 0.4, 0.55, 0.7, 0.8, 0.9, 0.97, 1.1}) {
    const std::int64_t next = current == 128 ? 64 : 128;
    const std::string seq_len = std::to_string(next);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int null_fd = ::open("/dev/null", O_WRONLY);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
      ::execl(electra_binary.c_str(), electra_binary.c_str(), "prepare", "--corpus", corpus.c_str(),
              "--vocab", sample_vocab.c_str(), "--out", out.c_str(), "--threads", "1",
              "--overwrite", "--seq-len", seq_len.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(
        std::chrono::duration_cast<std::chrono::microseconds>(run_time * fraction));
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("killed at " << fraction << " of a run");
    const std::int64_t found = complete_set_seq_len(out);  // before: no meta.json, shards gone
    CHECK((found == current || found == next));
    current = found;
  }
  // The next prepare cleans up whatever the kills left next to --out.
  REQUIRE(run_command(base + " --seq-len 64").exit_code == 0);
  CHECK(complete_set_seq_len(out) == 64);
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    CHECK((name == "shards" || name == "corpus.txt" || name == ".shards.prepare-lock"));
  }
}

TEST_CASE("prepare CLI: binary data further in is one error line; the summary counts drops") {
  const fs::path dir = scratch_dir("binary");
  std::string text = read_text(sample_corpus);
  text.resize(text.rfind('\n', 100 * 1024) + 1);
  std::string noise(1 << 20, '\0');
  std::uint32_t state = 12345;
  for (char& byte : noise) byte = static_cast<char>((state = state * 1664525u + 1013904223u) >> 24);
  const fs::path corpus = dir / "mixed.txt";
  std::ofstream(corpus, std::ios::binary) << text << noise;
  const std::string base = electra_binary + " prepare --vocab " + sample_vocab + " --threads 1";
  const auto refused =
      run_command(base + " --corpus " + corpus.string() + " --out " + (dir / "out").string());
  CHECK(refused.exit_code != 0);
  CHECK(contains(refused.output, corpus.string() + " holds binary data from byte 65536"));
  CHECK(std::count(refused.output.begin(), refused.output.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(dir / "out"));

  std::ofstream(corpus, std::ios::binary)
      << text.substr(0, text.find('\n', 20000) + 1) << "x\xFF\xFEy \x01\n"
      << text;
  const auto accepted =
      run_command(base + " --corpus " + corpus.string() + " --out " + (dir / "out").string());
  CHECK(accepted.exit_code == 0);
  CHECK(contains(accepted.output,
                 "dropped: 2 malformed UTF-8 sequences, 1 NUL and control characters"));
}
