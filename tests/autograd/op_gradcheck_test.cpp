// The float64 gradchecks of every op family of the OpCase table (autograd/op_cases.hpp, the
// table `electra audit` prints), a deliberately wrong backward that must fail, and two behaviours
// the table cannot show: dropout outside training and accumulation into existing gradients.
#include <doctest/doctest.h>

#include <string>

#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"
#include "helpers/errors.hpp"
#include "helpers/op_case_checks.hpp"
#include "helpers/text.hpp"

using namespace electra;
using namespace electra::test;

namespace {

Var leaf(const Shape& shape, DType dtype = DType::f64) {
  return Var(random_f64(shape, 9).to(dtype), true);
}

}  // namespace

TEST_CASE("op gradcheck: matmul family") { check_op_cases(op_cases_of(append_matmul_cases)); }
TEST_CASE("op gradcheck: elementwise family") {
  check_op_cases(op_cases_of(append_elementwise_cases));
}
TEST_CASE("op gradcheck: reduce family") { check_op_cases(op_cases_of(append_reduce_cases)); }
TEST_CASE("op gradcheck: shape family") { check_op_cases(op_cases_of(append_shape_cases)); }
TEST_CASE("op gradcheck: embedding family") { check_op_cases(op_cases_of(append_embedding_cases)); }
TEST_CASE("op gradcheck: dropout family") { check_op_cases(op_cases_of(append_dropout_cases)); }
TEST_CASE("op gradcheck: softmax and log_softmax") {
  check_op_cases(op_cases_of(append_softmax_cases));
}
TEST_CASE("op gradcheck: layer_norm") { check_op_cases(op_cases_of(append_layer_norm_cases)); }
TEST_CASE("op gradcheck: cross_entropy and bce_with_logits") {
  check_op_cases(op_cases_of(append_loss_cases));
}
TEST_CASE("op gradcheck: self_attention") { check_op_cases(op_cases_of(append_attention_cases)); }

TEST_CASE("op gradcheck: a wrong backward is caught") {
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
