// GradientBuckets on every rank of mpirun -np 2 and -np 3: a tiny model's gradients after
// finish() are, bit for bit, the rank-ordered sum of what each rank's backward produced (every
// rank recomputes every rank's gradients locally to know the answer), whatever the bucket size;
// a parameter no rank reaches keeps no gradient, one that a single rank reaches gets that rank's.
#include "models/training/gradient_buckets.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.hpp"
#include "mpi/mpi_suite.hpp"

using namespace electra;

namespace {

template <typename T>
Tensor tensor_of(std::vector<double> values, const Shape& shape) {
  return Tensor::from_vector(values, shape).to(dtype_of<T>());
}

template <typename T>
void register_tiny_model(ParameterStore& store) {
  store.add("shared", tensor_of<T>({0.7, -1.3, 0.2, 2.1}, Shape{4}), true);
  store.add(
      "dense.weight",
      tensor_of<T>({0.11, -0.52, 0.33, 0.94, -0.25, 0.61, 0.07, -0.88, 0.45, -0.19, 0.73, 0.36},
                   Shape{3, 4}),
      true);
  store.add("dense.bias", tensor_of<T>({0.01, -0.02, 0.03}, Shape{3}), false);
  store.add("head.weight", tensor_of<T>({0.5, -0.4, 0.3, -0.2, 0.9, 0.1}, Shape{2, 3}), true);
  store.add("head.bias", tensor_of<T>({0.05, -0.05}, Shape{2}), false);
  store.add("rank_one_only", tensor_of<T>({0.3, 0.6}, Shape{2}), true);
  store.add("unused", tensor_of<T>({1.0, 2.0, 3.0}, Shape{3}), true);
}

// Records rank `rank`'s forward of the tiny model on its own input and returns the loss.
template <typename T>
Var forward(Tape& tape, const ParameterStore& store, int rank) {
  std::vector<double> input;
  for (int i = 0; i < 8; ++i) input.push_back(0.37 * (rank + 1) - 0.21 * i + 0.013 * rank * i);
  Var x(tensor_of<T>(input, Shape{2, 4}));
  // `shared` is read first and last: its gradient is final only at the very end of backward.
  Var scaled = ops::mul(
      tape, x,
      ops::reshape(tape, ops::concat_rows(tape, {store.get("shared"), store.get("shared")}),
                   Shape{2, 4}));
  Var hidden = ops::gelu(
      tape, ops::linear(tape, scaled, store.get("dense.weight"), store.get("dense.bias")));
  Var out = ops::linear(tape, hidden, store.get("head.weight"), store.get("head.bias"));
  if (rank == 1)
    out = ops::add(
        tape, out,
        ops::concat_rows(tape, {ops::reshape(tape, store.get("rank_one_only"), Shape{1, 2}),
                                ops::reshape(tape, store.get("rank_one_only"), Shape{1, 2})}));
  Var flat = ops::reshape(tape, out, Shape{4});
  return ops::sum(tape, ops::mul(tape, flat, ops::mul(tape, flat, store.get("shared"))));
}

template <typename T>
void check_buckets(std::size_t bucket_bytes, bool armed) {
  Communicator& communicator = test_communicator();
  const int ranks = communicator.size();
  INFO(ranks, " ranks, ", sizeof(T) == 4 ? "f32" : "f64", ", buckets of ", bucket_bytes, " bytes, ",
       armed ? "armed" : "not armed (finish() alone)");

  // What each rank's backward produces, computed here for every rank; then their sum in rank
  // order, in T, with zeros where a rank has no gradient (one process accumulating would add).
  std::map<std::string, std::vector<T>> expected;
  std::map<std::string, bool> any_gradient;
  for (int r = 0; r < ranks; ++r) {
    ParameterStore store;
    register_tiny_model<T>(store);
    Tape tape;
    tape.backward(forward<T>(tape, store, r));
    for (const Parameter& parameter : store.parameters()) {
      std::vector<T>& total = expected[parameter.name];
      total.resize(static_cast<std::size_t>(parameter.var.value().numel()), T(0));
      if (!parameter.var.has_grad()) continue;
      any_gradient[parameter.name] = true;
      const T* grad = parameter.var.grad().template data<T>();
      for (std::size_t i = 0; i < total.size(); ++i) total[i] = total[i] + grad[i];
    }
  }

  ParameterStore store;
  register_tiny_model<T>(store);
  GradientBuckets buckets(store, communicator, bucket_bytes);
  for (int update = 0; update < 2;
       ++update) {  // the buckets are reused from one update to the next
    INFO("update ", update);
    for (const Parameter& parameter : store.parameters()) {
      Var var = parameter.var;
      var.drop_grad();
    }
    Tape tape;
    Var loss = forward<T>(tape, store, communicator.rank());
    if (armed) buckets.arm(tape);
    tape.backward(loss);
    buckets.finish();
    // Armed, every bucket starts before backward ends (none is left for finish()).
    CHECK(buckets.started_during_backward() == (armed ? buckets.bucket_count() : 0));
    for (const Parameter& parameter : store.parameters()) {
      INFO(parameter.name);
      CHECK(parameter.var.has_grad() == any_gradient[parameter.name]);
      if (!parameter.var.has_grad()) continue;
      const std::vector<T>& want = expected[parameter.name];
      CHECK(std::memcmp(parameter.var.grad().raw(), want.data(), want.size() * sizeof(T)) == 0);
    }
  }
}

}  // namespace

TEST_CASE("gradient buckets: gradients summed over the ranks in rank order, bit for bit") {
  for (const bool armed : {true, false})
    for (const std::size_t bucket_bytes : {std::size_t{8}, std::size_t{40}, std::size_t{1} << 20}) {
      check_buckets<float>(bucket_bytes, armed);
      check_buckets<double>(bucket_bytes, armed);
    }
  ParameterStore store;
  register_tiny_model<float>(store);
  CHECK(GradientBuckets(store, test_communicator(), 8).bucket_count() == store.size());
  CHECK(GradientBuckets(store, test_communicator(), 1 << 20).bucket_count() == 1);
}
