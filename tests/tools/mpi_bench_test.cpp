// `mpirun -np 2 electra bench --preset tiny` (issue 14, item 2): every rank runs the training
// step on its own batch with the gradients summed through GradientBuckets, and rank 0 alone
// prints the table, with the global tokens/s and the time spent waiting on communication. One
// rank prints "communication: none (1 process)".
//
// Needs a build with MPI (built_with_mpi()) and mpirun on PATH; otherwise the 2-rank case exits
// 77, which tests/CMakeLists.txt registers as Skipped, so CTest never reports it as passed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "engine/communicator.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/mpi_skip.hpp"

using namespace electra::test;

namespace {

int count_of(const std::string& text, const std::string& part) {
  int count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++count;
  return count;
}

// Small steps: the test checks what is printed, not the speed.
const std::string bench_flags =
    " bench --preset tiny --batch 4 --seq-len 32 --steps 2 --warmup-steps 1 --threads 1";

}  // namespace

TEST_CASE("mpi bench: one rank prints 'communication: none (1 process)' once") {
  const Run one = run_command(electra_binary + bench_flags);
  REQUIRE_MESSAGE(one.exit_code == 0, one.output);
  CHECK(count_of(one.output, "communication: none (1 process)") == 1);
  CHECK(count_of(one.output, "  communication") == 1);
  CHECK_FALSE(contains(one.output, "data-parallel"));
  CHECK(count_of(one.output, "electra bench: preset tiny") == 1);
}

TEST_CASE(
    "mpi bench: 2 ranks print one table with the global tokens/s and the communication wait") {
  skip_without_mpi();
  // Generous hang guard; leak checking off for the ranks (Open MPI's start-up allocations).
  const Run two = run_command(
      "ASAN_OPTIONS=detect_leaks=0 timeout -s KILL 300 mpirun --allow-run-as-root --oversubscribe "
      "-x ASAN_OPTIONS -np 2 " +
      electra_binary + bench_flags);
  REQUIRE_MESSAGE(two.exit_code == 0, two.output);
  // Rank 1 prints nothing: one banner, one table, one communication line.
  CHECK(count_of(two.output, "electra bench: preset tiny") == 1);
  CHECK(count_of(two.output, "data-parallel: 2 processes") == 1);
  CHECK(count_of(two.output, "  communication ") == 1);
  CHECK(count_of(two.output, "blocked waiting on the gradient sums") == 1);
  CHECK(count_of(two.output, "tokens/s (all ranks together)") == 1);
  CHECK_FALSE(contains(two.output, "communication: none"));
}
