#pragma once
// The processes of one data-parallel run (docs/distributed.md). Without MPI — a build without
// it, or a binary not started by mpirun — there is one rank and every collective is the
// identity. Under `mpirun -np N` (a build with ELECTRA_MPI) there are N ranks and the collectives
// go through Open MPI's C API.
//
// Determinism: sums are taken in rank order, (…((x₀ + x₁) + x₂) … + x_{N−1}), on every rank, never
// in message-arrival order, so every rank holds the same bits and N ranks with batch B give what
// one rank with --grad-accum N and batch B gives.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.hpp"

namespace electra {

// A sum started by Communicator::start_sum; wait() blocks until the buffer holds the total.
class PendingSum {
 public:
  virtual ~PendingSum() = default;
  virtual void wait() = 0;
  // Moves the sum along without blocking and says whether wait() would return at once. MPI
  // progresses non-blocking collectives only inside MPI calls, so a caller that overlaps the
  // sum with work (GradientBuckets during backward) polls now and then.
  virtual bool poll() { return false; }
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }

  // Starts replacing `buffer` (f32 or f64, contiguous, on any device: device buffers are staged
  // through the host) by its sum over every rank in rank order. The buffer must stay alive and
  // untouched until wait() returns. Non-blocking: backward goes on while the sum travels.
  virtual std::unique_ptr<PendingSum> start_sum(Tensor& buffer) = 0;
  // start_sum + wait.
  void sum(Tensor& buffer) { start_sum(buffer)->wait(); }
  // Every rank's `text`, in rank order (to compare flags, or to share one rank's error).
  virtual std::vector<std::string> gather_strings(const std::string& text) = 0;
  // Ends every rank: prints nothing itself (the caller printed its one-line message), then
  // MPI_Abort with `exit_code`, so no rank is left waiting in a collective. One rank: exit().
  [[noreturn]] virtual void abort_all(int exit_code) = 0;
  // Seconds spent blocked in wait() and the blocking collectives since construction.
  virtual double wait_seconds() const = 0;
  // "1 process" or "4 processes (Open MPI 4.1.4)": for the run's banner.
  virtual std::string describe() const = 0;
};

// MPI when the build has it and the process was started by mpirun (its environment says so),
// else one rank. Initialises MPI on first use; the returned object finalises it on destruction.
std::unique_ptr<Communicator> make_communicator();

// Whether this build can talk MPI at all (ELECTRA_MPI found Open MPI at configure time).
bool built_with_mpi();

}  // namespace electra
