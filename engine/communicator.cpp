// The single rank, and the choice between it and MPI (engine/mpi_communicator.cpp, compiled
// only in a build that found MPI).
#include "engine/communicator.hpp"

#include <cstdlib>
#include <string>

#include "engine/error.hpp"

namespace electra {

#ifdef ELECTRA_HAVE_MPI
// engine/mpi_communicator.cpp: initialises MPI (MPI_Init_thread) and takes MPI_COMM_WORLD.
std::unique_ptr<Communicator> make_mpi_communicator();
#endif

namespace {

// One rank's sum is its own buffer: done as soon as it starts.
class FinishedSum final : public PendingSum {
 public:
  void wait() override {}
  bool poll() override { return true; }
};

class SingleRank final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) override {
    // The same checks as under MPI, so a wrong buffer fails in a one-process test too.
    check(buffer.defined(), "Communicator::start_sum: undefined buffer");
    check(buffer.dtype() == DType::f32 || buffer.dtype() == DType::f64,
          "Communicator::start_sum: f32 or f64 buffers only, got ", buffer);
    return std::make_unique<FinishedSum>();
  }
  std::vector<std::string> gather_strings(const std::string& text) override { return {text}; }
  [[noreturn]] void abort_all(int exit_code) override { std::exit(exit_code); }
  double wait_seconds() const override { return 0.0; }
  std::string describe() const override { return "1 process"; }
};

// The launcher's environment: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, Hydra/Slurm set
// PMI_SIZE, PMIx launchers PMIX_RANK. -1 when the variable is absent or not a number.
[[maybe_unused]] long environment_number(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return -1;
  char* end = nullptr;
  const long number = std::strtol(value, &end, 10);
  return *end == '\0' ? number : -1;
}

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
         std::getenv("PMIX_RANK") != nullptr;
}

}  // namespace

bool built_with_mpi() {
#ifdef ELECTRA_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> make_communicator() {
  // A binary not started by mpirun never touches MPI, so it runs without an MPI runtime.
  if (!launched_by_mpirun()) return std::make_unique<SingleRank>();
#ifdef ELECTRA_HAVE_MPI
  return make_mpi_communicator();
#else
  // N copies of a build without MPI would each believe they are the only rank and all write
  // the same run directory: refuse rather than run N independent trainings.
  long size = environment_number("OMPI_COMM_WORLD_SIZE");
  if (size < 0) size = environment_number("PMI_SIZE");
  const long rank = environment_number("PMIX_RANK");
  check(size <= 1 && rank <= 0,
        "mpirun: this build of electra has no MPI (configure with "
        "-DELECTRA_MPI=ON where libopenmpi-dev is installed), so it cannot run as ",
        size > 1 ? std::to_string(size) : std::string("several"), " processes");
  return std::make_unique<SingleRank>();
#endif
}

}  // namespace electra
