// Elementwise ops on equal shapes (no broadcasting: a broadcast here is always a bug upstream).
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {
namespace {
Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }
}  // namespace

// a, b [any, equal] → a + b
Var add(Tape& tape, const Var& a, const Var& b) {
  check_float_input("add", "a", a);
  check_float_input("add", "b", b);
  Tensor y = empty_like(a.value());
  kernels::add(a.value(), b.value(), y);
  return tape.record("add", {a, b}, y, [a = a, b = b](const Var& output) mutable {
    // da += dy, db += dy
    if (a.requires_grad()) kernels::axpy(1.0, output.grad(), a.grad_buffer());
    if (b.requires_grad()) kernels::axpy(1.0, output.grad(), b.grad_buffer());
  });
}

// a, b [any, equal] → a ⊙ b
Var mul(Tape& tape, const Var& a, const Var& b) {
  check_float_input("mul", "a", a);
  check_float_input("mul", "b", b);
  Tensor y = empty_like(a.value());
  kernels::mul(a.value(), b.value(), y);
  return tape.record("mul", {a, b}, y, [a = a, b = b](const Var& output) mutable {
    // da += dy ⊙ b, db += dy ⊙ a
    if (a.requires_grad()) kernels::mul_accumulate(output.grad(), b.value(), a.grad_buffer());
    if (b.requires_grad()) kernels::mul_accumulate(output.grad(), a.value(), b.grad_buffer());
  });
}

// a [any] → alpha · a
Var scale(Tape& tape, const Var& a, double alpha) {
  check_float_input("scale", "a", a);
  Tensor y = empty_like(a.value());
  kernels::scale(a.value(), alpha, y);
  return tape.record("scale", {a}, y, [a = a, alpha](const Var& output) mutable {
    // da += alpha · dy
    if (a.requires_grad()) kernels::axpy(alpha, output.grad(), a.grad_buffer());
  });
}

// x [any] → x · Φ(x) (exact erf GELU)
Var gelu(Tape& tape, const Var& x) {
  check_float_input("gelu", "x", x);
  Tensor y = empty_like(x.value());
  kernels::gelu_forward(x.value(), y);
  return tape.record("gelu", {x}, y, [x = x](const Var& output) mutable {
    // dx += dy · (Φ(x) + x·φ(x)); the input is saved, not the output (GELU is not invertible).
    if (x.requires_grad())
      kernels::gelu_backward_accumulate(x.value(), output.grad(), x.grad_buffer());
  });
}

}  // namespace electra::ops
