// Full reductions to a single element [1] (losses, regularisers, tests).
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {
namespace {

// x [any] → [1] = factor · Σ x; backward: dx += factor · dy (broadcast).
Var scaled_sum(Tape& tape, const char* op, const Var& x, bool divide_by_count) {
  check_float_input(op, "x", x);
  const Tensor& value = x.value();
  const double factor = divide_by_count ? 1.0 / static_cast<double>(value.numel()) : 1.0;
  Tensor y = Tensor::full(Shape{1}, factor * kernels::sum(value), value.dtype()).to(value.device());
  return tape.record(op, {x}, y, [x = x, factor](const Var& output) mutable {
    if (!x.requires_grad()) return;
    const Tensor& value = x.value();
    const Tensor ones = Tensor::full(value.shape(), 1.0, value.dtype()).to(value.device());
    kernels::axpy(factor * output.grad().item(0), ones, x.grad_buffer());
  });
}

}  // namespace

Var sum(Tape& tape, const Var& x) { return scaled_sum(tape, "sum", x, false); }

Var mean(Tape& tape, const Var& x) { return scaled_sum(tape, "mean", x, true); }

}  // namespace electra::ops
