// `electra pretrain` / `electra inspect` as a user runs them: SIGTERM saves and exits 0, a
// corrupted checkpoint is one error line, inspect prints its table, flags are checked.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "data/shards.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "models/training/checkpoint.hpp"

namespace fs = std::filesystem;
using namespace electra::test;

namespace {

std::string pretrain_command(const std::string& shards, const fs::path& out,
                             const std::string& extra) {
  return electra_binary + " pretrain --data " + shards + " --out " + out.string() +
         " --preset tiny --threads 1 --log-every 1 --save-every 0 " + extra;
}

}  // namespace

TEST_CASE("pretrain CLI: SIGTERM after the first logged step saves a checkpoint and exits 0") {
  const fs::path dir = scratch_dir("sigterm");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run", log = dir / "log.txt";
  const std::string vocab = std::string(ELECTRA_TEST_DATA_DIR) + "/sample_vocab.txt";

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(electra_binary.c_str(), electra_binary.c_str(), "pretrain", "--data", shards.c_str(),
            "--out", out.c_str(), "--preset", "tiny", "--max-steps", "100000", "--log-every", "1",
            "--save-every", "0", "--threads", "1", "--vocab", vocab.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait for the first metrics line: training has started for real.
  const fs::path metrics = out / "metrics.jsonl";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(metrics) && fs::file_size(metrics) > 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE_MESSAGE(fs::exists(metrics), read_text(log));
  REQUIRE(::kill(child, SIGTERM) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  const std::string output = read_text(log);
  REQUIRE_MESSAGE(WIFEXITED(status), output);
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, output);
  CHECK(output.find("stopped by signal") != std::string::npos);
  CHECK(output.find("threads 1") != std::string::npos);
  const auto checkpoint = electra::latest_checkpoint(out);
  REQUIRE(checkpoint.has_value());
  CHECK(electra::read_trainer_state(*checkpoint).step >= 1);
  CHECK(output.find(checkpoint->string()) != std::string::npos);
  CHECK(fs::exists(out / "curves.svg"));
  // The context-only metrics are logged and summed up next to the plain AUC.
  CHECK(read_text(metrics).find("\"disc_auc_context\":") != std::string::npos);
  CHECK(output.find("within token id") != std::string::npos);

  // inspect finds the vocabulary recorded by pretrain and prints the table.
  const Run inspect =
      run_command(electra_binary + " inspect --checkpoint " + out.string() +
                  " --text 'Call me Ishmael. Some years ago I went to sea.' --color never");
  CHECK_MESSAGE(inspect.exit_code == 0, inspect.output);
  CHECK(inspect.output.find("P(replaced)") != std::string::npos);
  CHECK(inspect.output.find("[CLS]") != std::string::npos);
  CHECK(inspect.output.find("[SEP]") != std::string::npos);
  CHECK(inspect.output.find("chosen for prediction") != std::string::npos);
  CHECK(inspect.output.find("last logged update") != std::string::npos);
  CHECK(inspect.output.find("\033[") == std::string::npos);  // --color never

  // --data pools the AUCs over corpus batches; the same seed gives the same numbers, and
  // --temperature changes what the generator samples.
  const std::string pooled_command = electra_binary + " inspect --checkpoint " + out.string() +
                                     " --data " + shards + " --batches 2";
  const Run pooled = run_command(pooled_command);
  REQUIRE_MESSAGE(pooled.exit_code == 0, pooled.output);
  CHECK(pooled.output.find("on 2 batches") != std::string::npos);
  CHECK(pooled.output.find("(as trained)") != std::string::npos);
  CHECK(pooled.output.find("within token id") != std::string::npos);
  CHECK(run_command(pooled_command).output == pooled.output);
  const Run hot = run_command(pooled_command + " --temperature 50");
  REQUIRE_MESSAGE(hot.exit_code == 0, hot.output);
  CHECK(hot.output.find("sampling temperature 50 (--temperature)") != std::string::npos);
  CHECK(hot.output != pooled.output);
  fs::remove_all(dir);
}

TEST_CASE("pretrain CLI: a corrupted checkpoint is refused with one line naming the file") {
  const fs::path dir = scratch_dir("corrupt");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  const Run first = run_command(pretrain_command(shards, out, "--max-steps 2"));
  REQUIRE_MESSAGE(first.exit_code == 0, first.output);
  CHECK(first.output.find("electra inspect") != std::string::npos);
  const fs::path model = *electra::latest_checkpoint(out) / "model.safetensors";
  {
    std::fstream file(model, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(model) / 2));
    file.put('\x7f');
  }
  const Run resumed = run_command(pretrain_command(shards, out, "--max-steps 4 --resume"));
  CHECK(resumed.exit_code == 1);
  // Exactly one line, and it is the error naming the file.
  std::string error_line;
  std::istringstream lines(resumed.output);
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("electra: error:", 0) == 0) all.push_back(line);
  REQUIRE_MESSAGE(all.size() == 1, resumed.output);
  CHECK(all[0].find(model.string()) != std::string::npos);
  CHECK(all[0].find("sha256") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("pretrain CLI: --seq-len must match the shards, --max-steps resumes where it left off") {
  const fs::path dir = scratch_dir("flags");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  const Run mismatch = run_command(pretrain_command(shards, out, "--max-steps 1 --seq-len 64"));
  CHECK(mismatch.exit_code == 1);
  CHECK(mismatch.output.find("--seq-len 64") != std::string::npos);
  CHECK(mismatch.output.find("seq_len 32") != std::string::npos);

  const Run first = run_command(pretrain_command(shards, out, "--max-steps 2 --total-steps 4"));
  REQUIRE_MESSAGE(first.exit_code == 0, first.output);
  const Run second =
      run_command(pretrain_command(shards, out, "--max-steps 4 --total-steps 4 --resume"));
  REQUIRE_MESSAGE(second.exit_code == 0, second.output);
  CHECK(second.output.find("resuming from") != std::string::npos);
  CHECK(electra::read_trainer_state(*electra::latest_checkpoint(out)).step == 4);
  // Changing the schedule is a different run: refused, naming the field.
  const Run changed = run_command(pretrain_command(shards, out, "--max-steps 6 --resume"));
  CHECK(changed.exit_code == 1);
  CHECK(changed.output.find("num_train_steps") != std::string::npos);
  fs::remove_all(dir);
}
