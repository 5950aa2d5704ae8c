// `electra pretrain` and its run directory, as a user meets them: a diverging run ends with one
// line naming the update, --resume never silently starts over, a new run needs --overwrite, one
// writer per --out, values the shards decide are not overridden in silence, and the "next:"
// commands run exactly as printed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "data/shards.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "models/training/checkpoint.hpp"

namespace fs = std::filesystem;
using namespace electra::test;

namespace {

// A hang guard only: the runs below take seconds; before the NaN fix one spun forever.
std::string pretrain_command(const std::string& shards, const fs::path& out,
                             const std::string& extra) {
  return "timeout -s KILL 600 " + electra_binary + " pretrain --data " + shards + " --out " +
         out.string() + " --preset tiny --threads 1 --log-every 1 --save-every 0 " + extra;
}

// The one "electra: error:" line of an output ("" if none).
std::string error_line(const std::string& output) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("electra: error:", 0) == 0) return line;
  return "";
}

// The printed line that starts (after indentation) with `start`.
std::string printed_line(const std::string& output, const std::string& start) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (line.find_first_not_of(' ') != std::string::npos &&
        line.compare(line.find_first_not_of(' '), start.size(), start) == 0)
      return line.substr(line.find_first_not_of(' '));
  return "";
}

}  // namespace

TEST_CASE("pretrain run directory: a diverging run stops with one line naming the update") {
  const fs::path dir = scratch_dir("nan");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  const Run run =
      run_command("timeout -s KILL 600 " + electra_binary + " pretrain --data " + shards +
                  " --out " + out.string() + " --preset tiny --threads 1 --log-every 1" +
                  " --lr 1e3 --warmup 0 --max-steps 30 --total-steps 30 --save-every 1");
  CHECK_MESSAGE(run.exit_code == 1, run.output);  // before: spun in roc_auc until killed (-1)
  const std::string error = error_line(run.output);
  CHECK_MESSAGE(contains(error, "pretrain: update "), run.output);
  CHECK((contains(error, "the loss is nan") || contains(error, "the loss is inf") ||
         contains(error, "gradient norm is")));
  CHECK(!contains(run.output, "finished at update"));
  // Nothing after the update that failed was saved.
  const auto newest = electra::latest_checkpoint(out);
  REQUIRE(newest.has_value());
  CHECK(electra::read_trainer_state(*newest).step ==
        std::stoll(error.substr(error.find("update ") + 7)) - 1);
  fs::remove_all(dir);
}

TEST_CASE("pretrain run directory: --resume refuses to start over; a new run needs --overwrite") {
  const fs::path dir = scratch_dir("resume");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";

  // Before: "--resume: no checkpoint in run, starting fresh" and exit 0.
  const Run nothing =
      run_command(pretrain_command(shards, out, "--max-steps 2 --total-steps 4 --resume"));
  CHECK(nothing.exit_code == 1);
  CHECK(contains(error_line(nothing.output), out.string()));
  CHECK(!fs::exists(out / "metrics.jsonl"));

  const Run first = run_command(pretrain_command(shards, out, "--max-steps 2 --total-steps 4"));
  REQUIRE_MESSAGE(first.exit_code == 0, first.output);
  // A second name for the log: the resume must write a new file, not cut and append to this one.
  fs::create_hard_link(out / "metrics.jsonl", dir / "metrics_before.jsonl");

  // Every checkpoint damaged: refused, the history left as it was.
  const fs::path model = out / "step-000002" / "model.safetensors";
  const std::string model_bytes = read_text(model);
  { std::ofstream(model, std::ios::binary | std::ios::trunc) << model_bytes.substr(0, 100); }
  const Run damaged =
      run_command(pretrain_command(shards, out, "--max-steps 4 --total-steps 4 --resume"));
  CHECK(damaged.exit_code == 1);
  CHECK(contains(error_line(damaged.output), "step-000002"));
  CHECK(contains(error_line(damaged.output), "--overwrite"));
  CHECK(line_count(out / "metrics.jsonl") == 2);
  { std::ofstream(model, std::ios::binary | std::ios::trunc) << model_bytes; }

  const Run fresh = run_command(pretrain_command(shards, out, "--max-steps 2 --total-steps 4"));
  CHECK(fresh.exit_code == 1);
  CHECK(contains(error_line(fresh.output), "already holds a run"));
  CHECK(contains(error_line(fresh.output), "--resume"));
  CHECK(contains(error_line(fresh.output), "--overwrite"));

  const Run resumed =
      run_command(pretrain_command(shards, out, "--max-steps 4 --total-steps 4 --resume"));
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
  CHECK(line_count(out / "metrics.jsonl") == 4);
  CHECK(line_count(dir / "metrics_before.jsonl") == 2);

  const Run overwrite =
      run_command(pretrain_command(shards, out, "--max-steps 1 --total-steps 4 --overwrite"));
  REQUIRE_MESSAGE(overwrite.exit_code == 0, overwrite.output);
  CHECK(contains(overwrite.output, "--overwrite: deleting the previous run"));
  CHECK(line_count(out / "metrics.jsonl") == 1);
  CHECK(!fs::exists(out / "step-000004"));
  fs::remove_all(dir);
}

TEST_CASE("pretrain run directory: a second writer is refused naming the process holding --out") {
  const fs::path dir = scratch_dir("lock");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  fs::create_directories(out);
  // This test process plays the first run: it holds the lock the way a run does.
  const int descriptor = ::open((out / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(descriptor >= 0);
  REQUIRE(::flock(descriptor, LOCK_EX | LOCK_NB) == 0);
  const std::string pid = std::to_string(::getpid()) + "\n";
  REQUIRE(::write(descriptor, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size()));
  const Run second = run_command(pretrain_command(shards, out, "--max-steps 1"));
  CHECK(second.exit_code == 1);  // before: both ran, interleaving metrics.jsonl
  CHECK_MESSAGE(contains(error_line(second.output),
                         "in use by another run (pid " + std::to_string(::getpid())),
                second.output);
  CHECK(!fs::exists(out / "metrics.jsonl"));
  ::close(descriptor);
  const Run after = run_command(pretrain_command(shards, out, "--max-steps 1"));
  CHECK_MESSAGE(after.exit_code == 0, after.output);
  fs::remove_all(dir);
}

TEST_CASE("pretrain run directory: values the shards decide, and seeds, are checked in one line") {
  const fs::path dir = scratch_dir("values");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";

  const Run zero = run_command(pretrain_command(shards, out, "--max-steps 1 --seq-len 0"));
  CHECK(zero.exit_code == 1);
  CHECK(contains(error_line(zero.output), "--seq-len 0"));
  CHECK(contains(error_line(zero.output), "seq_len 32"));
  CHECK(!contains(zero.output, "prepare --seq-len 0"));  // before: suggested exactly that

  const fs::path config = dir / "config.json";
  { std::ofstream(config) << R"({"hidden_size": 64, "seq_len": 128})"; }
  const Run config_run =
      run_command(pretrain_command(shards, out, "--max-steps 1 --config " + config.string()));
  CHECK(config_run.exit_code == 1);  // before: seq_len silently replaced by the shards' 32
  CHECK(contains(error_line(config_run.output), config.string()));
  CHECK(contains(error_line(config_run.output), "seq_len 128"));

  const Run seed = run_command(pretrain_command(shards, out, "--max-steps 1 --seed -1"));
  CHECK(seed.exit_code != 0);  // before: wrapped to 18446744073709551615
  CHECK(contains(seed.output, "--seed"));
  CHECK(!contains(seed.output, "18446744073709551615"));

  // A mask id outside the vocabulary is named with meta.json before training starts.
  const fs::path meta_path = fs::path(shards) / "meta.json";
  nlohmann::json meta = nlohmann::json::parse(read_text(meta_path));
  meta["special_tokens"]["mask"] = 99999;
  { std::ofstream(meta_path) << meta.dump(2); }
  const Run mask = run_command(pretrain_command(shards, out, "--max-steps 1"));
  CHECK(mask.exit_code == 1);
  CHECK(contains(error_line(mask.output), meta_path.string()));
  CHECK(contains(error_line(mask.output), "special_tokens.mask"));
  CHECK(!contains(mask.output, "update 1"));
  fs::remove_all(dir);
}

TEST_CASE("pretrain run directory: the next: commands run as printed, the resume hint included") {
  const fs::path dir = scratch_dir("next");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  // Run as the quick start does: from a directory above the binary, by a relative path.
  const fs::path binary = fs::path(electra_binary);
  const fs::path base = binary.parent_path().parent_path();
  const std::string relative = fs::relative(binary, base).string();
  const std::string in_base = "cd " + base.string() + " && ";
  const Run first =
      run_command(in_base + relative + " pretrain --data " + shards + " --out " + out.string() +
                  " --preset tiny --threads 1 --max-steps 2 --total-steps 4");
  REQUIRE_MESSAGE(first.exit_code == 0, first.output);
  const std::string plot = printed_line(first.output, relative + " plot ");
  const std::string resume = printed_line(first.output, relative + " pretrain ");
  REQUIRE_MESSAGE(!plot.empty(), first.output);  // before: "electra plot ..."
  REQUIRE_MESSAGE(!resume.empty(), first.output);
  CHECK(contains(resume, "--resume"));
  CHECK(!contains(resume, "..."));
  CHECK(!contains(resume, "--max-steps"));  // continuing means running to the schedule's end

  const Run plotted = run_command(in_base + plot);
  CHECK_MESSAGE(plotted.exit_code == 0, plotted.output);
  const Run continued = run_command(in_base + resume.substr(0, resume.find("   (")));
  REQUIRE_MESSAGE(continued.exit_code == 0, continued.output);
  CHECK(contains(continued.output, "resuming from"));
  CHECK(electra::read_trainer_state(*electra::latest_checkpoint(out)).step == 4);
  CHECK(printed_line(continued.output, relative + " pretrain ").empty());  // nothing left to run
  fs::remove_all(dir);
}
