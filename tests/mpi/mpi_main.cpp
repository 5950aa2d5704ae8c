// The main of the MPI suite: run by CTest under mpirun (tests/CMakeLists.txt), it makes the
// one communicator a process may have and runs the doctest cases on every rank. Cases use CHECK
// (never REQUIRE) around collectives, so a failing rank still joins every collective and no
// rank hangs. mpirun exits non-zero when any rank does.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>

#include "mpi/mpi_suite.hpp"

namespace {
electra::Communicator* suite_communicator = nullptr;
}

electra::Communicator& test_communicator() { return *suite_communicator; }

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  if (context.shouldExit()) return context.run();  // --help, --list-test-cases
  std::unique_ptr<electra::Communicator> communicator = electra::make_communicator();
  if (communicator->size() < 2) {
    std::cerr << "test_mpi: run me under mpirun -np 2 (or more); this process is "
              << communicator->describe() << "\n";
    return 1;
  }
  suite_communicator = communicator.get();
  if (!communicator->is_root()) context.setOption("minimal", true);  // rank 0 reports in full
  const int result = context.run();
  suite_communicator = nullptr;
  return result;  // the communicator finalises MPI here
}
