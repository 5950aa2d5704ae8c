// softmax and log_softmax over the last axis: forward with the engine kernel, then the node whose
// backward accumulates into x's gradient.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// x [..., C] (+ additive mask [mask_rows, C], no gradient) → y [..., C].
Var softmax(Tape& tape, const Var& x, const Tensor& additive_mask, std::int64_t rows_per_mask_row) {
  check_float_input("softmax", "x", x);
  Tensor y = Tensor::empty(x.shape(), x.value().dtype(), x.value().device());
  kernels::softmax_forward(x.value(), additive_mask, rows_per_mask_row, y);
  return tape.record("softmax", {x}, y, [x = x](const Var& output) mutable {
    // dx += y ⊙ (dy − Σ dy·y): needs only the output, which the node already holds.
    if (x.requires_grad())
      kernels::softmax_backward_accumulate(output.value(), output.grad(), x.grad_buffer());
  });
}

// x [..., C] → y = x − logsumexp(x) [..., C].
Var log_softmax(Tape& tape, const Var& x) {
  check_float_input("log_softmax", "x", x);
  Tensor y = Tensor::empty(x.shape(), x.value().dtype(), x.value().device());
  kernels::log_softmax_forward(x.value(), y);
  return tape.record("log_softmax", {x}, y, [x = x](const Var& output) mutable {
    // dx += dy − softmax(x) · Σ dy, with softmax(x) = exp(y).
    if (x.requires_grad())
      kernels::log_softmax_backward_accumulate(output.value(), output.grad(), x.grad_buffer());
  });
}

}  // namespace electra::ops
