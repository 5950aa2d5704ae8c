// `electra bench --device cuda` as a user runs it on a GPU: it reports TFLOP/s and the device
// allocator's peak. The refusals without a GPU are in tests/tools/device_cli_test.cpp.
#include <doctest/doctest.h>

#include "helpers/cli_run.hpp"

using namespace electra::test;

TEST_CASE("bench CLI on cuda: --device cuda reports TFLOP/s and the peak GPU memory") {
  const Run run = run_command(electra_binary +
                              " bench --preset tiny --batch 4 --seq-len 32 --steps 2 "
                              "--warmup-steps 1 --device cuda");
  INFO("output: " << run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "device cuda: "));
  CHECK(contains(run.output, "TFLOP/s"));
  CHECK(contains(run.output, "peak GPU"));
}
