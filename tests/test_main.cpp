// The main of every test suite. The cuda suite (tests/cuda/, built only with the CUDA backend)
// needs a GPU in every case: without one it runs nothing and exits with kSkipped, which
// tests/CMakeLists.txt registers as SKIP_RETURN_CODE, so CTest reports "Skipped", never "Passed".
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#ifdef ELECTRA_TESTS_NEED_GPU
#include <iostream>
#include <string>

#include "engine/device.hpp"
#endif

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
#ifdef ELECTRA_TESTS_NEED_GPU
  constexpr int kSkipped = 77;  // the automake convention; kept in step with tests/CMakeLists.txt
  std::string why_not;
  // Queries (--help, --list-test-cases, --count) still answer without a GPU.
  if (!context.shouldExit() && !electra::cuda_available(&why_not)) {
    std::cout << "skipped: every case of this suite needs a GPU: " << why_not << "\n";
    return kSkipped;
  }
#endif
  return context.run();
}
