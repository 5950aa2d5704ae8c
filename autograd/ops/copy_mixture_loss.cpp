// The copy-mechanism loss of All-Tokens MLM (Clark et al. 2020 §3.5): per row r a copy
// probability D = σ(z_r) mixes "the output is the input token" with the MLM softmax,
//   p_r(y) = D·[y = input_r] + (1 − D)·softmax(logits_r)_y,
// and the loss is Σ_r w_r·(−log p_r(target_r)) / (Σw + 1e-6), the normaliser of cross_entropy.
//
// Composed from existing engine kernels (log_softmax, gather_rows, the embedding scatter) plus a
// host pass over the R per-row scalars, so it runs on every backend without new kernels; the
// [R, V] work stays on the logits' device. Worked in log space, stable for any z and logits:
//   log D = −softplus(−z), log(1 − D) = −softplus(z), b = log(1 − D) + log_softmax_t,
//   log p = logsumexp(log D, b) when target = input (a copy is possible), else b.
// Gradients, with r = P(copy | target) = exp(log D − log p) (0 when no copy is possible):
//   ∂(−log p)/∂z = D − r,   ∂(−log p)/∂logits = (1 − r)·(softmax − onehot(target)).
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {
namespace {

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

std::vector<double> host_values(const Tensor& tensor) {
  return tensor.to(Device::cpu).to(DType::f64).to_vector();
}

}  // namespace

// logits [R, V] (leading dims flattened), copy_logits with R elements, input_ids and targets
// i32 with R elements, weights [R] of the logits' dtype → loss [1].
Var copy_mixture_loss(Tape& tape, const Var& logits, const Var& copy_logits,
                      const Tensor& input_ids, const Tensor& targets, const Tensor& weights) {
  const char* op = "copy_mixture_loss";
  check_float_input(op, "logits", logits);
  check_float_input(op, "copy_logits", copy_logits);
  check_same_dtype(op, logits, copy_logits);
  const Tensor& input = logits.value();
  const std::int64_t rows = input.shape().rows(), vocab = input.shape().cols();
  check(copy_logits.value().numel() == rows, op, ": copy_logits ", copy_logits.shape(),
        " must have ", rows, " elements, one per row of logits ", input.shape());
  for (const Tensor* ids : {&input_ids, &targets})
    check(ids->defined() && ids->dtype() == DType::i32 && ids->numel() == rows, op,
          ": input_ids and targets must be i32 with ", rows, " elements, got ",
          ids->defined() ? ids->describe() : std::string("undefined"));
  check(weights.defined() && weights.dtype() == input.dtype() && weights.numel() == rows, op,
        ": weights must be ", dtype_name(input.dtype()), " with ", rows, " elements, got ",
        weights);

  // log_softmax_t per row: the full [R, V] log-softmax on the device, then the R entries at
  // flat index r·V + target_r (i32, as every index kernel reads).
  check(rows * vocab <= std::numeric_limits<std::int32_t>::max(), op, ": logits ", input.shape(),
        " have more than 2^31 − 1 entries (split the batch)");
  Tensor log_probs = Tensor::empty(Shape{rows, vocab}, input.dtype(), input.device());
  kernels::log_softmax_forward(input.reshape(Shape{rows, vocab}), log_probs);
  const Tensor host_targets = targets.to(Device::cpu).reshape(Shape{rows});
  Tensor flat_index = Tensor::empty(Shape{rows}, DType::i32);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t target = host_targets.data<std::int32_t>()[r];
    check(target >= 0 && target < vocab, op, ": target ", target, " outside [0, ", vocab, ")");
    flat_index.data<std::int32_t>()[r] = static_cast<std::int32_t>(r * vocab + target);
  }
  flat_index = flat_index.to(input.device());
  Tensor target_log_probs = Tensor::empty(Shape{rows, 1}, input.dtype(), input.device());
  kernels::gather_rows(log_probs.reshape(Shape{rows * vocab, 1}), flat_index, target_log_probs);

  const std::vector<double> log_softmax_t = host_values(target_log_probs);
  const std::vector<double> z = host_values(copy_logits.value());
  const std::vector<double> weight = host_values(weights);
  const std::vector<double> input_id = host_values(input_ids), target_id = host_values(targets);
  std::vector<double> copy_probability(rows), copy_posterior(rows, 0.0);
  double weighted = 0, weight_total = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    weight_total += weight[r];
    copy_probability[r] =
        z[r] >= 0 ? 1 / (1 + std::exp(-z[r])) : std::exp(z[r]) / (1 + std::exp(z[r]));
    if (weight[r] == 0) continue;
    const double log_copy = -softplus(-z[r]);
    const double from_softmax = -softplus(z[r]) + log_softmax_t[r];
    double log_p = from_softmax;
    if (input_id[r] == target_id[r]) {
      const double high = std::max(log_copy, from_softmax), low = std::min(log_copy, from_softmax);
      log_p = high + std::log1p(std::exp(low - high));
      copy_posterior[r] = std::exp(log_copy - log_p);
    }
    weighted += weight[r] * -log_p;
  }
  const double normaliser = weight_total + 1e-6;  // cross_entropy's floor (no rows: loss 0)
  Tensor output = Tensor::full(Shape{1}, weighted / normaliser, input.dtype()).to(input.device());

  return tape.record(
      op, {logits, copy_logits}, output,
      [logits = logits, copy_logits = copy_logits, log_probs, flat_index, weight, copy_probability,
       copy_posterior, normaliser, rows, vocab](const Var& out) mutable {
        const double dloss = out.grad().item(0);
        const DType dtype = log_probs.dtype();
        const Device device = log_probs.device();
        if (logits.requires_grad()) {
          // dlogits += g_r·(softmax − onehot), g_r = dloss·w_r·(1 − r_r)/normaliser: scatter −g_r
          // at the targets of a zero [R, V] dy, then log_softmax's backward (dy − softmax·Σdy).
          Tensor scaled = Tensor::empty(Shape{rows, 1}, DType::f64);
          for (std::int64_t r = 0; r < rows; ++r)
            scaled.data<double>()[r] = -dloss * weight[r] * (1 - copy_posterior[r]) / normaliser;
          Tensor dy = Tensor::zeros(Shape{rows * vocab, 1}, dtype, device);
          kernels::embedding_backward_accumulate(flat_index, scaled.to(dtype).to(device), dy);
          Tensor dlogits = logits.grad_buffer().reshape(Shape{rows, vocab});
          kernels::log_softmax_backward_accumulate(log_probs, dy.reshape(Shape{rows, vocab}),
                                                   dlogits);
        }
        if (copy_logits.requires_grad()) {
          Tensor dz = Tensor::empty(Shape{rows}, DType::f64);
          for (std::int64_t r = 0; r < rows; ++r)
            dz.data<double>()[r] =
                dloss * weight[r] * (copy_probability[r] - copy_posterior[r]) / normaliser;
          kernels::axpy(1.0, dz.to(dtype).to(device), copy_logits.grad_buffer());
        }
      });
}

}  // namespace electra::ops
