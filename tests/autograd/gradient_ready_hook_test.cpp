// Tape::set_gradient_ready_hook: each parameter is reported once, when the reverse loop has run
// every node that reads it, with its gradient already final (what GradientBuckets copies out).
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "autograd/ops.hpp"
#include "autograd/tape.hpp"

using namespace electra;

namespace {
Var parameter(const std::string& name, std::vector<double> values) {
  const std::int64_t n = static_cast<std::int64_t>(values.size());
  return Var(Tensor::from_vector(values, Shape{n}), true, name);
}
}  // namespace

TEST_CASE(
    "gradient-ready hook: each leaf once, in the order it becomes final, with its final grad") {
  // node 0: a = shared ⊙ x      (first reader of `shared`, so it is final only after node 0)
  // node 1: b = a ⊙ early
  // node 2: c = b + late        (`late` is read last: final first)
  // node 3: d = c ⊙ shared      (second reader of `shared`)
  // node 4: loss = sum(d)
  Tape tape;
  Var shared = parameter("shared", {0.5, -1.5, 2.0});
  Var early = parameter("early", {3.0, 0.25, -2.0});
  Var late = parameter("late", {1.0, 2.0, 3.0});
  Var unused = parameter("unused", {1.0});
  Var x(Tensor::from_vector(std::vector<double>{2.0, 4.0, -1.0},
                            Shape{3}));  // no grad: never reported
  Var a = ops::mul(tape, shared, x);
  Var b = ops::mul(tape, a, early);
  Var c = ops::add(tape, b, late);
  Var d = ops::mul(tape, c, shared);
  Var loss = ops::sum(tape, d);

  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> at_hook;
  tape.set_gradient_ready_hook([&](const Var& leaf) {
    order.push_back(leaf.name());
    at_hook[leaf.name()] = leaf.has_grad() ? leaf.grad().to_vector() : std::vector<double>{};
  });
  tape.backward(loss);

  CHECK(order == std::vector<std::string>{"late", "early", "shared"});
  for (const Var& leaf : {shared, early, late}) {
    INFO(leaf.name());
    CHECK(at_hook[leaf.name()] == leaf.grad().to_vector());
  }
  // d(loss)/d(shared) = x ⊙ early ⊙ shared + (shared ⊙ x ⊙ early + late): both readers' parts.
  const std::vector<double> s{0.5, -1.5, 2.0}, e{3.0, 0.25, -2.0}, l{1.0, 2.0, 3.0},
      xv{2.0, 4.0, -1.0};
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(shared.grad().item(static_cast<std::int64_t>(i)) ==
          doctest::Approx(2 * s[i] * xv[i] * e[i] + l[i]));
}

TEST_CASE("gradient-ready hook: an empty hook is removed, and the hook runs for every backward") {
  Tape tape;
  Var weight = parameter("weight", {1.0, 2.0});
  int calls = 0;
  tape.set_gradient_ready_hook([&](const Var&) { ++calls; });
  tape.backward(ops::sum(tape, ops::mul(tape, weight, weight)));
  tape.backward(ops::sum(tape, weight));
  CHECK(calls == 2);  // `weight` read twice by one node is still reported once per backward
  tape.set_gradient_ready_hook(nullptr);
  tape.backward(ops::sum(tape, weight));
  CHECK(calls == 2);
  CHECK(weight.grad().to_vector() == std::vector<double>{1.0 * 2 + 1 + 1, 2.0 * 2 + 1 + 1});
}
