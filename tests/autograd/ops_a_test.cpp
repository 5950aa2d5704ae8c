// Gradchecks and bad-input errors for the ops of matmul, elementwise, reduce, shape, embedding
// and dropout.
#include <doctest/doctest.h>

#include <cstdio>
#include <set>
#include <string>

#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

using namespace electra;

namespace {

// Runs every case of one family; prints the family's worst relative error (for the report).
void check_family(void (*append)(std::vector<OpCase>&), const char* family) {
  std::vector<OpCase> cases;
  append(cases);
  REQUIRE(!cases.empty());
  double worst = 0;
  for (const OpCase& op_case : cases) {
    const GradcheckResult result = gradcheck(op_case.function, op_case.inputs, op_case.options);
    INFO(op_case.op, " ", op_case.shape, ": max rel ", result.max_rel_error, ", max abs ",
         result.max_abs_error, " (", result.worst, ")");
    CHECK(result.passed);
    CHECK(result.checked > 0);
    worst = std::max(worst, result.max_rel_error);
  }
  MESSAGE(std::string(family), ": ", cases.size(), " cases, worst relative error ", worst);
}

// The message of the Error thrown by body, or "" when none is thrown.
template <typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Var leaf(const Shape& shape, DType dtype = DType::f64) {
  return Var(random_f64(shape, 9).to(dtype), true);
}

}  // namespace

TEST_CASE("ops gradcheck: matmul family") { check_family(append_matmul_cases, "matmul"); }
TEST_CASE("ops gradcheck: elementwise family") {
  check_family(append_elementwise_cases, "elementwise");
}
TEST_CASE("ops gradcheck: reduce family") { check_family(append_reduce_cases, "reduce"); }
TEST_CASE("ops gradcheck: shape family") { check_family(append_shape_cases, "shape"); }
TEST_CASE("ops gradcheck: embedding family") { check_family(append_embedding_cases, "embedding"); }
TEST_CASE("ops gradcheck: dropout family") { check_family(append_dropout_cases, "dropout"); }

TEST_CASE("ops gradcheck: a wrong backward is caught") {
  // A deliberately broken op (gradient doubled) must fail, or the passes above prove nothing.
  GradcheckFunction broken = [](Tape& tape, const std::vector<Var>& v) {
    const Var y = ops::scale(tape, v[0], 1.0);
    Var x = v[0];
    return tape.record("broken", {x}, y.value().clone(), [x](const Var& output) mutable {
      kernels::axpy(2.0, output.grad(), x.grad_buffer());
    });
  };
  CHECK_FALSE(gradcheck(broken, {random_f64(Shape{2, 2}, 1)}).passed);
}

TEST_CASE("ops: linear and batched_matmul reject bad shapes and dtypes") {
  Tape tape;
  const std::string inner = error_of([&] { ops::linear(tape, leaf({3, 4}), leaf({5, 3}), Var()); });
  CHECK(contains(inner, "linear"));
  CHECK(contains(inner, "[3, 4]"));
  CHECK(contains(inner, "[5, 3]"));
  const std::string bias = error_of([&] {
    ops::linear(tape, leaf({3, 4}), leaf({5, 4}), leaf({4}));
  });
  CHECK(contains(bias, "linear: bias"));
  const std::string dtype = error_of([&] {
    ops::linear(tape, leaf({3, 4}), leaf({5, 4}, DType::f32), Var());
  });
  CHECK(contains(dtype, "dtype mismatch"));
  CHECK(contains(error_of([&] { ops::linear(tape, leaf({0, 4}), leaf({5, 4}), Var()); }), "empty"));
  const std::string batched = error_of([&] {
    ops::batched_matmul(tape, leaf({2, 3, 4}), false, leaf({2, 5, 4}), false);
  });
  CHECK(contains(batched, "batched_matmul"));
  CHECK(contains(batched, "[2, 3, 4]"));
  CHECK(contains(batched, "[2, 5, 4]"));
  CHECK(contains(error_of([&] {
                   ops::batched_matmul(tape, leaf({2, 3, 4}), false, leaf({3, 4, 5}), false);
                 }),
                 "batch dimensions differ"));
  CHECK(contains(error_of([&] {
                   ops::batched_matmul(tape, leaf({3, 4}), false, leaf({4, 5}), false);
                 }),
                 "rank 3"));
}

TEST_CASE("ops: elementwise, reduce and shape ops reject bad input") {
  Tape tape;
  const std::string shape = error_of([&] { ops::add(tape, leaf({2, 3}), leaf({3, 2})); });
  CHECK(contains(shape, "add: shape mismatch [2, 3] vs [3, 2]"));
  CHECK(contains(error_of([&] {
                   ops::mul(tape, leaf({2, 3}), leaf({2, 3}, DType::f32));
                 }),
                 "mul: dtype mismatch"));
  CHECK(contains(error_of([&] { ops::gelu(tape, Var(Tensor::zeros({2}, DType::i32))); }),
                 "gelu: x must be f32 or f64"));
  CHECK(contains(error_of([&] { ops::scale(tape, leaf({0}), 2.0); }), "scale: a is empty"));
  CHECK(contains(error_of([&] { ops::sum(tape, leaf({3, 0})); }), "sum: x is empty"));
  CHECK(contains(error_of([&] { ops::mean(tape, Var()); }), "mean: x is undefined"));
  CHECK(contains(error_of([&] {
                   ops::reshape(tape, leaf({2, 3}), Shape{4});
                 }),
                 "reshape: cannot view x [2, 3]"));
  CHECK(contains(error_of([&] {
                   ops::split_heads(tape, leaf({2, 3, 5}), 2);
                 }),
                 "not divisible by 2 heads"));
  CHECK(contains(error_of([&] { ops::merge_heads(tape, leaf({2, 3, 5})); }), "merge_heads"));
}

TEST_CASE("ops: embedding and gather_rows name out-of-range ids and the table size") {
  Tape tape;
  const Tensor bad_ids = Tensor::from_vector<std::int32_t>({1, 7}, Shape{2});
  const std::string embedding = error_of([&] { ops::embedding(tape, leaf({5, 3}), bad_ids); });
  CHECK(contains(embedding, "id 7"));
  CHECK(contains(embedding, "5 rows"));
  const Tensor negative = Tensor::from_vector<std::int32_t>({-1}, Shape{1});
  CHECK(contains(error_of([&] { ops::gather_rows(tape, leaf({2, 3, 4}), negative); }), "id -1"));
  CHECK(contains(error_of([&] {
                   ops::embedding(tape, leaf({5, 3}), Tensor::zeros({2}, DType::f32));
                 }),
                 "ids must be i32"));
  CHECK(contains(error_of([&] {
                   ops::embedding(tape, leaf({5, 3}), Tensor::zeros({0}, DType::i32));
                 }),
                 "ids is empty"));
  CHECK(
      contains(error_of([&] { ops::embedding(tape, leaf({15}), Tensor::zeros({2}, DType::i32)); }),
               "table must be [V, E]"));
}

TEST_CASE("ops: dropout is the identity when not training and rejects p outside [0, 1)") {
  Tape tape;
  const Var x = leaf({4, 4});
  CHECK(ops::dropout(tape, x, 0.5, {1, 2, 3}, false).is_same(x));
  CHECK(ops::dropout(tape, x, 0.0, {1, 2, 3}, true).is_same(x));
  CHECK(tape.size() == 0);
  CHECK(contains(error_of([&] {
                   ops::dropout(tape, x, 1.0, {1, 2, 3}, true);
                 }),
                 "dropout: probability must be in [0, 1)"));
  // The same key gives the same mask; another counter gives another.
  const Var a = ops::dropout(tape, x, 0.5, {1, 2, 3}, true);
  const Var b = ops::dropout(tape, x, 0.5, {1, 2, 3}, true);
  const Var c = ops::dropout(tape, x, 0.5, {1, 2, 4 + 16}, true);
  CHECK(a.value().to_vector() == b.value().to_vector());
  CHECK(a.value().to_vector() != c.value().to_vector());
}

TEST_CASE("ops: linear backward accumulates into existing gradients") {
  Tape tape;
  Var x = leaf({2, 3}), weight = leaf({4, 3}), bias = leaf({4});
  bias.grad_buffer().fill_(0.5);  // as if an earlier use had contributed already
  const Var y = ops::sum(tape, ops::linear(tape, x, weight, bias));
  tape.backward(y);
  CHECK(bias.grad().to_vector() == std::vector<double>(4, 2.5));  // 0.5 + d Σy/db = 0.5 + rows
}
