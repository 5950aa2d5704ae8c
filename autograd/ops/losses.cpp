// Losses → a single-element [1] Var. Targets, labels and weights are data, not differentiable.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// logits [R, C] (leading dims flattened), targets i32 [R], weights [R] → loss [1].
Var cross_entropy(Tape& tape, const Var& logits, const Tensor& targets, const Tensor& weights) {
  check_float_input("cross_entropy", "logits", logits);
  const Tensor& input = logits.value();
  Tensor probs = Tensor::empty(input.shape(), input.dtype(), input.device());
  const double loss = kernels::cross_entropy_forward(input, targets, weights, probs);
  Tensor output = Tensor::full(Shape{1}, loss, input.dtype()).to(input.device());
  return tape.record("cross_entropy", {logits}, output,
                     [logits = logits, targets, weights, probs](const Var& out) mutable {
                       // dlogits += dloss · w_r · (probs − onehot) / (Σw + 1e-6), from the saved
                       // softmax.
                       if (logits.requires_grad())
                         kernels::cross_entropy_backward_accumulate(
                             probs, targets, weights, out.grad().item(0), logits.grad_buffer());
                     });
}

// logits, labels, weights: the same shape ([N] or [B, L]) → loss [1].
Var bce_with_logits(Tape& tape, const Var& logits, const Tensor& labels, const Tensor& weights) {
  check_float_input("bce_with_logits", "logits", logits);
  const Tensor& input = logits.value();
  const double loss = kernels::bce_with_logits_forward(input, labels, weights);
  Tensor output = Tensor::full(Shape{1}, loss, input.dtype()).to(input.device());
  return tape.record("bce_with_logits", {logits}, output,
                     [logits = logits, labels, weights](const Var& out) mutable {
                       // dlogits += dloss · w · (σ(z) − y) / (Σw + 1e-6); σ is recomputed from the
                       // logits.
                       if (logits.requires_grad())
                         kernels::bce_with_logits_backward_accumulate(logits.value(), labels,
                                                                      weights, out.grad().item(0),
                                                                      logits.grad_buffer());
                     });
}

}  // namespace electra::ops
