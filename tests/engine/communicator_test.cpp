// The one-rank Communicator (a build without MPI, or a binary not started by mpirun): every
// collective is the identity. The MPI side is tested under mpirun in tests/mpi/.
#include "engine/communicator.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "autograd/ops.hpp"
#include "models/training/gradient_buckets.hpp"

using namespace electra;

namespace {
// The variables make_communicator reads to tell it was started by mpirun; a test that runs
// under mpirun itself would see a different communicator, so refuse to go on.
bool under_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}
}  // namespace

TEST_CASE("communicator: one rank without mpirun; sums and gathers are the identity") {
  REQUIRE_FALSE(under_mpirun());
  std::unique_ptr<Communicator> communicator = make_communicator();
  CHECK(communicator->rank() == 0);
  CHECK(communicator->size() == 1);
  CHECK(communicator->is_root());
  CHECK(communicator->describe() == "1 process");

  Tensor f32 = Tensor::from_vector(std::vector<float>{1.5f, -0.0f, 3e-8f}, Shape{3});
  Tensor f64 = Tensor::from_vector(std::vector<double>{0.1, 1e300, -7.0}, Shape{1, 3});
  const Tensor f32_before = f32.clone(), f64_before = f64.clone();
  communicator->sum(f32);
  std::unique_ptr<PendingSum> pending = communicator->start_sum(f64);
  CHECK(pending->poll());
  pending->wait();
  CHECK(std::memcmp(f32.raw(), f32_before.raw(), f32.nbytes()) == 0);
  CHECK(std::memcmp(f64.raw(), f64_before.raw(), f64.nbytes()) == 0);

  Tensor ids = Tensor::from_vector(std::vector<std::int32_t>{1, 2}, Shape{2});
  CHECK_THROWS_WITH(communicator->sum(ids),
                    doctest::Contains("f32 or f64 buffers only, got i32[2] cpu"));

  CHECK(communicator->gather_strings("--batch-size 8") ==
        std::vector<std::string>{"--batch-size 8"});
  CHECK(communicator->wait_seconds() == 0.0);
}

TEST_CASE("communicator: a build without MPI refuses to run as several processes") {
  if (built_with_mpi()) return;  // the MPI build's side is tests/mpi/ (under mpirun)
  REQUIRE_FALSE(under_mpirun());
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  CHECK_THROWS_WITH(make_communicator(), doctest::Contains("this build of electra has no MPI"));
  setenv("OMPI_COMM_WORLD_SIZE", "1", 1);  // mpirun -np 1 of a build without MPI is one rank
  CHECK(make_communicator()->size() == 1);
  unsetenv("OMPI_COMM_WORLD_SIZE");
}

TEST_CASE("gradient buckets: one rank does nothing (no hook, no copies, grads untouched)") {
  std::unique_ptr<Communicator> communicator = make_communicator();
  ParameterStore store;
  Var weight =
      store.add("weight", Tensor::from_vector(std::vector<float>{1, 2, 3}, Shape{3}), true);
  Var bias = store.add("bias", Tensor::from_vector(std::vector<float>{0.5f}, Shape{1}), false);
  GradientBuckets buckets(store, *communicator, 4);
  CHECK(buckets.bucket_count() == 0);
  Tape tape;
  buckets.arm(tape);
  tape.backward(ops::sum(tape, ops::mul(tape, weight, weight)));
  const Tensor grad = weight.grad();  // same storage: finish() must not replace or rewrite it
  buckets.finish();
  CHECK(weight.grad().is_same(grad));
  CHECK(weight.grad().to_vector() == std::vector<double>{2, 4, 6});
  CHECK_FALSE(bias.has_grad());
  CHECK(buckets.started_during_backward() == 0);
}
