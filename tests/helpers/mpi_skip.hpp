#pragma once
// The 2-rank CLI tests need a build with MPI and mpirun on PATH; without either they report
// Skipped (exit 77, CTest's SKIP_RETURN_CODE), never passed.
#include <cstdlib>
#include <iostream>

#include "engine/communicator.hpp"

namespace electra::test {

inline void skip_without_mpi() {
  if (!electra::built_with_mpi()) {
    std::cout
        << "skipped: this build has no MPI (configure with -DELECTRA_MPI=ON and libopenmpi-dev)\n";
    std::exit(77);
  }
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    std::cout << "skipped: no mpirun on PATH (install openmpi-bin)\n";
    std::exit(77);
  }
}

}  // namespace electra::test
