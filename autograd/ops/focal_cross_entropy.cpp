// Focal cross-entropy (Lin et al. 2017), the generator loss of Hao et al. 2021 against an
// over-confident generator → a single-element [1] Var:
//   loss = Σ_r w_r · −(1 − p_r)^γ · log p_r / (Σ_r w_r + 1e-6),   p_r = softmax(logits_r)[t_r]
// Composed from engine kernels that every backend has (log_softmax and gather_rows pick log p_r,
// softmax is saved, cross_entropy's backward applies it), so it runs on CUDA with no kernel of
// its own; only the R per-row scalars visit the CPU.
//
// Backward: with q = 1 − p, dℓ_r/dlogits_r = c_r · (softmax_r − onehot(t_r)) where
//   c_r = q^γ − γ·p·q^(γ−1)·log p = q^γ · (1 − γ·p·log p / q)
// i.e. the cross-entropy gradient with row weights w_r·c_r. log p / q → −1 as q → 0 (p → 1),
// the limit used when q underflows to 0, so a confident row gives c = 0 instead of 0·∞.
#include <cmath>

#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

Var focal_cross_entropy(Tape& tape, const Var& logits, const Tensor& targets, const Tensor& weights,
                        double gamma) {
  check_float_input("focal_cross_entropy", "logits", logits);
  check(std::isfinite(gamma) && gamma >= 0.0, "focal_cross_entropy: gamma = ", gamma,
        ": must be finite and ≥ 0");
  const Tensor& input = logits.value();
  check(input.rank() >= 2, "focal_cross_entropy: expected logits [R, C], got ", input.shape());
  const std::int64_t rows = input.shape().rows(), columns = input.shape().cols();
  check(targets.defined() && targets.dtype() == DType::i32 && targets.numel() == rows,
        "focal_cross_entropy: targets must be i32 with ", rows, " elements, one per row of ",
        input.shape());
  check(weights.defined() && weights.numel() == rows, "focal_cross_entropy: weights must have ",
        rows, " elements, one per row of ", input.shape());
  check(rows * columns <= INT32_MAX, "focal_cross_entropy: ", rows, "×", columns,
        " logits exceed the i32 index of the row pick");
  check(targets.device() == input.device() && weights.device() == input.device(),
        "focal_cross_entropy: targets and weights must be on the logits' device");

  // pick i32 [R]: the flat index r·C + t_r of each row's target in logits viewed as [R·C, 1].
  const Tensor host_targets = targets.to(Device::cpu);
  Tensor pick = Tensor::empty({rows}, DType::i32);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t target = host_targets.data<std::int32_t>()[r];
    check(target >= 0 && target < columns, "focal_cross_entropy: target ", target, " of row ", r,
          " outside [0, ", columns, ")");
    pick.data<std::int32_t>()[r] = static_cast<std::int32_t>(r * columns + target);
  }
  pick = pick.to(input.device());

  // log p_t [R, 1], picked from a log-softmax (exact where p_t underflows); softmax [R, C] is
  // what backward needs.
  const Tensor rows_view = input.reshape({rows, columns});
  Tensor log_p_rows = Tensor::empty({rows, 1}, input.dtype(), input.device());
  {
    Tensor log_probs = Tensor::empty({rows, columns}, input.dtype(), input.device());
    kernels::log_softmax_forward(rows_view, log_probs);
    kernels::gather_rows(log_probs.reshape({rows * columns, 1}), pick, log_p_rows);
  }
  Tensor probs = Tensor::empty({rows, columns}, input.dtype(), input.device());
  kernels::softmax_forward(rows_view, Tensor(), 1, probs);
  const Tensor log_p = log_p_rows.to(Device::cpu).to(DType::f64);
  const Tensor weight = weights.to(Device::cpu).to(DType::f64);

  double weight_sum = 0, weighted_loss = 0, scaled_sum = 0;
  for (std::int64_t r = 0; r < rows; ++r) weight_sum += weight.data<double>()[r];
  Tensor scaled_weights = Tensor::empty({rows}, DType::f64);  // w_r · c_r
  for (std::int64_t r = 0; r < rows; ++r) {
    const double log_prob = log_p.data<double>()[r], prob = std::exp(log_prob);
    const double miss = -std::expm1(log_prob);   // 1 − p without cancellation
    const double focus = std::pow(miss, gamma);  // 1 when γ = 0, even at miss = 0
    const double ratio = miss > 0.0 ? log_prob / miss : -1.0;
    const double w = weight.data<double>()[r];
    weighted_loss += w * (-focus * log_prob);
    scaled_weights.data<double>()[r] = w * focus * (1.0 - gamma * prob * ratio);
  }
  scaled_weights = scaled_weights.to(input.dtype());
  for (std::int64_t r = 0; r < rows; ++r) scaled_sum += scaled_weights.item(r);
  scaled_weights = scaled_weights.to(input.device());
  // cross_entropy's backward divides by (Σ w·c + 1e-6); the loss is normalised by (Σw + 1e-6).
  const double rescale = (scaled_sum + 1e-6) / (weight_sum + 1e-6);
  Tensor output =
      Tensor::full(Shape{1}, weighted_loss / (weight_sum + 1e-6), input.dtype()).to(input.device());

  return tape.record("focal_cross_entropy", {logits}, output,
                     [logits = logits, targets, probs, scaled_weights, rescale, rows,
                      columns](const Var& out) mutable {
                       // dlogits += dloss · w_r·c_r · (probs − onehot) / (Σw + 1e-6).
                       if (!logits.requires_grad()) return;
                       Tensor dlogits = logits.grad_buffer().reshape({rows, columns});
                       kernels::cross_entropy_backward_accumulate(
                           probs, targets, scaled_weights, out.grad().item(0) * rescale, dlogits);
                     });
}

}  // namespace electra::ops
