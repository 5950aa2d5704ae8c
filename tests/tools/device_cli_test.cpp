// `--device` and `--tf32` on `electra pretrain` and `electra bench` as a user runs them: without a
// usable GPU (or without the CUDA backend) --device cuda is one error line saying which, before any
// data is read; with a GPU the bench reports TFLOP/s and the device allocator's peak.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "engine/device.hpp"
#include "helpers/cli_run.hpp"

namespace fs = std::filesystem;

namespace {

using namespace electra::test;

// The run failed with exactly one line that holds `message`.
void check_one_line_error(const Run& run, const std::string& message) {
  INFO("output: " << run.output);
  CHECK(run.exit_code != 0);
  CHECK(contains(run.output, message));
  CHECK(std::count(run.output.begin(), run.output.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("device CLI: --device cuda without a usable GPU is one error line saying why") {
  std::string why_not;
  if (electra::cuda_available(&why_not)) {
    MESSAGE("a GPU is usable here; the refusal cannot be exercised");
    return;
  }
  // A data directory that does not exist: the device must be refused before it is read.
  const std::string missing =
      (fs::temp_directory_path() / "electra_device_cli_no_such_dir").string();
  check_one_line_error(run_command(electra_binary + " pretrain --data " + missing + " --out " +
                                   missing + "_out --device cuda"),
                       "pretrain: --device cuda: " + why_not);
  check_one_line_error(
      run_command(electra_binary + " bench --preset tiny --steps 1 --warmup-steps 0 --device cuda"),
      "bench: --device cuda: " + why_not);
}

TEST_CASE("device CLI: --tf32 needs --device cuda and a bad --device value is refused") {
  check_one_line_error(run_command(electra_binary + " bench --preset tiny --steps 1 --tf32"),
                       "bench: --tf32 needs --device cuda");
  const Run bad = run_command(electra_binary + " bench --preset tiny --device gpu");
  INFO("output: " << bad.output);
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.output, "--device"));
  CHECK(contains(bad.output, "gpu"));
}

TEST_CASE("device CLI: bench --device cuda reports TFLOP/s and the peak GPU memory") {
  std::string why_not;
  if (!electra::cuda_available(&why_not)) {
    MESSAGE("skipped, nothing ran on a GPU: " << why_not);
    return;
  }
  const Run run = run_command(electra_binary +
                              " bench --preset tiny --batch 4 --seq-len 32 --steps 2 "
                              "--warmup-steps 1 --device cuda");
  INFO("output: " << run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "device cuda: "));
  CHECK(contains(run.output, "TFLOP/s"));
  CHECK(contains(run.output, "peak GPU"));
}
