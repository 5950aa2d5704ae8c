// `--device` and `--tf32` on `electra pretrain` and `electra bench` as a user runs them: without a
// usable GPU (or without the CUDA backend) --device cuda is one error line saying which, before any
// data is read. What the bench reports on a GPU is checked in tests/cuda/bench_cli_test.cpp.
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
  // The binary runs with every GPU hidden, so the refusal is exercised on a GPU machine too: there
  // the reason is the CUDA runtime's, here the same one this process gets (no device, or no
  // CUDA backend in this build).
  const std::string no_gpu = "CUDA_VISIBLE_DEVICES= " + electra_binary;
  std::string why_not;
  const std::string reason = electra::cuda_available(&why_not) ? "no usable CUDA device" : why_not;
  // A data directory that does not exist: the device must be refused before it is read.
  const std::string missing =
      (fs::temp_directory_path() / "electra_device_cli_no_such_dir").string();
  check_one_line_error(run_command(no_gpu + " pretrain --data " + missing + " --out " + missing +
                                   "_out --device cuda"),
                       "pretrain: --device cuda: " + reason);
  check_one_line_error(
      run_command(no_gpu + " bench --preset tiny --steps 1 --warmup-steps 0 --device cuda"),
      "bench: --device cuda: " + reason);
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
