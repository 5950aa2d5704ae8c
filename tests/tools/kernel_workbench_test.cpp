// electra-kernels (tools/kernels/): every variant of every family stays within its tolerance of
// the reference at the tiny sizes (validation only, nothing timed), and a wrong variant makes
// the run fail. The binary is built next to `electra` (tools/kernels/CMakeLists.txt).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "helpers/cli_run.hpp"

using namespace electra::test;

namespace {

std::string workbench_binary() {
  return (std::filesystem::path(electra_binary).parent_path() / "electra-kernels").string();
}

}  // namespace

TEST_CASE("kernel workbench: every variant matches its reference at the tiny sizes") {
  REQUIRE_MESSAGE(std::filesystem::exists(workbench_binary()),
                  "build the electra-kernels target: " << workbench_binary());
  const Run run = run_command(workbench_binary() + " --validate-only --size tiny --threads 2");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "2 threads"));
  for (const char* family : {"linear_gelu", "bias_grad", "layer_norm"})
    CHECK(contains(run.output, std::string("\n") + family + "  "));
  CHECK(contains(run.output, "production: "));
  CHECK(!contains(run.output, "MISMATCH"));
  CHECK(contains(run.output, "all 20 variants match their reference"));
  CHECK(!contains(run.output, "median ms"));  // --validate-only times nothing
}

TEST_CASE("kernel workbench: a variant outside the tolerance fails the run") {
  // --corrupt 1 adds 1 to the first output element of each case's variant 1 (after its run):
  // every case has one, so the validator must flag each of them and exit 1.
  const Run run = run_command(workbench_binary() + " --validate-only --size tiny --corrupt 1");
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK(contains(run.output, "MISMATCH"));
  CHECK(contains(run.output, "5 of 20 variants outside the tolerance"));
}

TEST_CASE("kernel workbench: an unknown family is refused by name") {
  const Run run = run_command(workbench_binary() + " --validate-only --size tiny --family gemv");
  CHECK(run.exit_code == 2);
  CHECK(contains(run.output, "unknown --family 'gemv'"));
}
