// layer_norm over the last axis (BERT post-LN): the forward saves mean and rstd per row so the
// backward never recomputes statistics.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// x [..., C], gamma [C], beta [C] → y [..., C].
Var layer_norm(Tape& tape, const Var& x, const Var& gamma, const Var& beta, double eps) {
  check_float_input("layer_norm", "x", x);
  check_float_input("layer_norm", "gamma", gamma);
  check_float_input("layer_norm", "beta", beta);
  check_same_dtype("layer_norm", x, gamma);
  check_same_dtype("layer_norm", x, beta);
  check(x.shape().rank() >= 1 && gamma.shape() == Shape{x.shape()[-1]} &&
            beta.shape() == Shape{x.shape()[-1]},
        "layer_norm: gamma ", gamma.shape(), " and beta ", beta.shape(), " must be [C] for x ",
        x.shape());
  const Tensor& input = x.value();
  Tensor y = Tensor::empty(input.shape(), input.dtype(), input.device());
  const Shape rows{input.shape().rows()};
  Tensor mean = Tensor::empty(rows, input.dtype(), input.device());
  Tensor rstd = Tensor::empty(rows, input.dtype(), input.device());
  kernels::layer_norm_forward(input, gamma.value(), beta.value(), eps, y, mean, rstd);
  return tape.record("layer_norm", {x, gamma, beta}, y,
                     [x = x, gamma = gamma, beta = beta, mean, rstd](const Var& output) mutable {
                       // Skipped gradients are passed as undefined tensors; the kernel accumulates
                       // the rest.
                       Tensor no_gradient;
                       kernels::layer_norm_backward_accumulate(
                           x.value(), gamma.value(), mean, rstd, output.grad(),
                           x.requires_grad() ? x.grad_buffer() : no_gradient,
                           gamma.requires_grad() ? gamma.grad_buffer() : no_gradient,
                           beta.requires_grad() ? beta.grad_buffer() : no_gradient);
                     });
}

}  // namespace electra::ops
