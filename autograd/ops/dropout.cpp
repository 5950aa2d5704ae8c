// Inverted dropout with a Philox mask: a pure function of the key, so the same mask is drawn on
// CPU and CUDA and after a resume.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// x [any] → x ⊙ keep, keep = (u ≥ p)/(1 − p); x itself (no node) when p = 0 or not training.
Var dropout(Tape& tape, const Var& x, double probability, const kernels::RandomKey& key,
            bool training) {
  check_float_input("dropout", "x", x);
  check(probability >= 0 && probability < 1, "dropout: probability must be in [0, 1), got ",
        probability, " for x ", x.shape());
  if (probability == 0 || !training) return x;
  const Tensor& value = x.value();
  Tensor y = Tensor::empty(value.shape(), value.dtype(), value.device());
  kernels::dropout(value, probability, key, y);
  // Only the key is saved: backward redraws the mask (one Philox pass) instead of keeping a
  // tensor of x's size alive from forward to backward.
  return tape.record("dropout", {x}, y, [x = x, probability, key](const Var& output) mutable {
    // dx += dy ⊙ keep
    if (x.requires_grad())
      kernels::dropout(output.grad(), probability, key, x.grad_buffer(), /*accumulate=*/true);
  });
}

}  // namespace electra::ops
