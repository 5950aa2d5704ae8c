// The tape: accumulation into a Var used twice, anomaly mode in forward and backward, DOT export,
// NoGradScope, and ParameterStore's name checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "autograd/ops.hpp"
#include "autograd/parameter_store.hpp"
#include "engine/allocator.hpp"
#include "helpers/errors.hpp"
#include "helpers/text.hpp"

using namespace electra;
using namespace electra::test;

TEST_CASE("tape: backward accumulates into a Var used twice") {
  Tape tape;
  Var x(Tensor::from_vector<double>({1.5, -2.0, 3.0}, Shape{3}), true, "x");
  // d/dx Σ x⊙x = 2x: both operands of mul deliver x.
  tape.backward(ops::sum(tape, ops::mul(tape, x, x)));
  CHECK(x.grad().to_vector() == std::vector<double>{3.0, -4.0, 6.0});

  // A table read by two lookups gets both scatters: row 1 twice, row 2 never.
  Tape lookups;
  Var table(Tensor::zeros(Shape{4, 2}, DType::f64), true, "table");
  const Tensor first = Tensor::from_vector<std::int32_t>({0, 1}, Shape{2});
  const Tensor second = Tensor::from_vector<std::int32_t>({1, 3}, Shape{2});
  const Var both = ops::add(lookups, ops::embedding(lookups, table, first),
                            ops::embedding(lookups, table, second));
  lookups.backward(ops::sum(lookups, both));
  CHECK(table.grad().to_vector() == std::vector<double>{1, 1, 2, 2, 0, 0, 1, 1});
}

TEST_CASE("tape: anomaly mode stops at the first NaN/Inf in forward") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape tape;
  tape.set_anomaly_detection(true);
  Var x(Tensor::from_vector<double>({1.0, inf, 2.0}, Shape{1, 3}), true, "scores");
  // log_softmax of a row holding +inf: inf − inf = NaN.
  const std::string message = error_of([&] { ops::log_softmax(tape, x); });
  CHECK(contains(message, "anomaly: op 'log_softmax' (node 0) produced NaN/Inf in forward"));
  CHECK(contains(message, "input 0 'scores'"));
  CHECK(contains(message, "inf 1"));  // the input statistics show the culprit
  CHECK(tape.size() == 0);

  // A later op: the node index is its position on the tape.
  Var y(Tensor::from_vector<double>({1.0, 0.0}, Shape{2}), true, "y");
  const Var doubled = ops::scale(tape, y, 2.0);
  const std::string scaled = error_of([&] { ops::scale(tape, doubled, inf); });
  CHECK(contains(scaled, "anomaly: op 'scale' (node 1)"));

  // Without anomaly mode the NaN passes silently.
  Tape quiet;
  CHECK(error_of([&] { ops::log_softmax(quiet, x); }) == no_error);
}

TEST_CASE("tape: anomaly mode stops at the first NaN/Inf in backward") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape tape;
  tape.set_anomaly_detection(true);
  Var x(Tensor::from_vector<double>({0.5, -0.5}, Shape{1, 2}), true, "x");
  const Var y = ops::log_softmax(tape, ops::scale(tape, x, 2.0));
  // An infinite upstream gradient: log_softmax's backward computes inf − p·inf = NaN.
  const Tensor gradient = Tensor::from_vector<double>({inf, 0.0}, Shape{1, 2});
  const std::string message = error_of([&] { tape.backward(y, gradient); });
  CHECK(contains(message, "anomaly: op 'log_softmax' (node 1) produced NaN/Inf in backward"));
  CHECK(contains(message, "gradient of input 0"));
  CHECK(contains(message, "output gradient"));
}

TEST_CASE("tape: backward consumes the graph, freeing each node's gradient and saved tensors") {
  // A chain of 8 GELUs over 1 MiB tensors: forward keeps 8 activations alive. Backward that
  // kept every intermediate gradient until clear() would add 8 more tensors to the peak; freeing
  // each node's output gradient and saved input once it has run keeps the addition to a few.
  const std::int64_t rows = 512, columns = 256;  // 1 MiB of f64
  const std::size_t tensor_bytes = CachingAllocator::round_size(rows * columns * sizeof(double));
  Tape tape;
  Var x(Tensor::full(Shape{rows, columns}, 0.5, DType::f64), true, "x");
  Var h = x, middle;
  for (int i = 0; i < 8; ++i) {
    h = ops::gelu(tape, h);
    if (i == 3) middle = h;
  }
  const Var loss = ops::sum(tape, h);
  CachingAllocator& host = allocator_for(Device::cpu);
  const std::size_t before_backward = host.stats().bytes_in_use;
  host.reset_peak();
  tape.backward(loss);
  const std::size_t added = host.stats().peak_bytes_in_use - before_backward;
  CHECK_MESSAGE(added <= 3 * tensor_bytes, "backward added ", added / tensor_bytes, " tensors");
  CHECK(tape.size() == 0);
  CHECK(x.has_grad());             // a leaf keeps its gradient
  CHECK_FALSE(middle.has_grad());  // an intermediate's is freed once its node has run
  CHECK(contains(error_of([&] { tape.backward(loss); }),
                 "backward: the graph of this output was already consumed by an earlier backward"));
}

TEST_CASE("tape: an anomaly names the parameters behind an unnamed input, one node back") {
  // The encoder's fused QKV: the linear's weight is concat_rows of three named parameters.
  Tape tape;
  tape.set_anomaly_detection(true);
  const Var x(Tensor::full(Shape{1, 2}, 1.0, DType::f64), false, "x");
  const Var query(Tensor::full(Shape{1, 2}, 1e308, DType::f64), true, "layer.0.query.weight");
  const Var key(Tensor::full(Shape{1, 2}, 1e308, DType::f64), true, "layer.0.key.weight");
  const Var stacked = ops::concat_rows(tape, {query, key});                             // finite
  const std::string message = error_of([&] { ops::linear(tape, x, stacked, Var()); });  // 2e308
  CHECK(contains(message, "anomaly: op 'linear' (node 1) produced NaN/Inf in forward"));
  CHECK_MESSAGE(contains(message,
                         "input 1 (output of node 0 'concat_rows' of "
                         "'layer.0.query.weight', 'layer.0.key.weight'): f64[2, 2]"),
                message);
  CHECK(contains(message, "input 0 'x'"));
}

TEST_CASE("tape: to_dot draws ops, leaves, edges and shapes") {
  Tape tape;
  Var x(Tensor::zeros(Shape{2, 3}, DType::f64), false, "input");
  Var weight(Tensor::zeros(Shape{4, 3}, DType::f64), true, "dense.weight");
  Var bias(Tensor::zeros(Shape{4}, DType::f64), true, "dense.bias");
  ops::sum(tape, ops::gelu(tape, ops::linear(tape, x, weight, bias)));
  const std::string dot = tape.to_dot();
  CHECK(dot.rfind("digraph tape {", 0) == 0);
  CHECK(dot.substr(dot.size() - 2) == "}\n");
  CHECK(std::count(dot.begin(), dot.end(), '{') == std::count(dot.begin(), dot.end(), '}'));
  CHECK(std::count(dot.begin(), dot.end(), '"') % 2 == 0);
  for (const char* part :
       {"n0 [shape=box, label=\"linear #0\"]", "label=\"gelu #1\"", "label=\"sum #2\"",
        "n0 -> n1 [label=\"[2, 4]\"]", "n1 -> n2 [label=\"[2, 4]\"]", "dense.weight", "dense.bias",
        "input", "[label=\"[4, 3]\"]", "fillcolor=lightblue"})
    CHECK_MESSAGE(contains(dot, part), "missing: ", part, "\n", dot);
}

TEST_CASE("tape: NoGradScope records nothing and restores recording") {
  Tape tape;
  Var x(Tensor::full(Shape{3}, 2.0, DType::f64), true);
  {
    NoGradScope no_grad(tape);
    const Var y = ops::mul(tape, x, x);
    CHECK(!y.requires_grad());
    CHECK(y.value().item(0) == 4.0);  // values are still computed
    CHECK(tape.size() == 0);
  }
  CHECK(tape.recording());
  ops::mul(tape, x, x);
  CHECK(tape.size() == 1);
  tape.clear();
  CHECK(tape.size() == 0);
}

TEST_CASE("parameter store: duplicate and missing names throw naming the parameter") {
  ParameterStore store;
  const Var weight = store.add("encoder.weight", Tensor::zeros(Shape{2, 2}), true);
  store.add("encoder.bias", Tensor::zeros(Shape{2}), false);
  CHECK(store.size() == 2);
  CHECK(store.total_numel() == 6);
  CHECK(store.get("encoder.weight").is_same(weight));
  CHECK(weight.requires_grad());
  CHECK(!store.parameters()[1].weight_decay);
  CHECK(contains(error_of([&] { store.add("encoder.weight", Tensor::zeros(Shape{1}), true); }),
                 "parameter 'encoder.weight' registered twice"));
  CHECK(contains(error_of([&] { store.get("encoder.missing"); }),
                 "no parameter named 'encoder.missing'"));
}
