// Weighted cross-entropy and sigmoid binary cross-entropy with logits, normalised as the official
// ELECTRA code: Σ w·loss / (Σ w + 1e-6). Both stay finite at logits of ±30 and far beyond:
// cross-entropy works with logsumexp shifted by the row maximum, BCE with
// max(z,0) − z·y + log1p(e^−|z|), which never exponentiates a positive number.
//
// The per-row losses are summed in fixed blocks of rows (each serially, in double) and the block
// sums are added in block order, so the loss is bit-identical for any thread count.
#include <cmath>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

constexpr double weight_floor = 1e-6;  // the official code's "+ 1e-6"
constexpr std::int64_t rows_per_block = 256;

// Σ_r term(r) for r in [0, rows), deterministic: fixed blocks, block sums added in order.
template <typename Term>
double deterministic_sum(std::int64_t rows, std::int64_t columns, const Term& term) {
  const std::int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
  Tensor block_sums = Tensor::zeros(Shape{blocks}, DType::f64);
  double* sums = block_sums.data<double>();
  parallel_for(0, blocks, std::max<std::int64_t>(1, cpu::row_grain(columns) / rows_per_block),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t block = begin; block < end; ++block) {
                   double total = 0;
                   const std::int64_t row_end = std::min(rows, (block + 1) * rows_per_block);
                   for (std::int64_t row = block * rows_per_block; row < row_end; ++row)
                     total += term(row);
                   sums[block] = total;
                 }
               });
  double total = 0;
  for (std::int64_t block = 0; block < blocks; ++block) total += sums[block];
  return total;
}

template <typename T>
double weight_total(const Tensor& weights) {
  const T* w = weights.data<T>();
  return deterministic_sum(weights.numel(), 1, [&](std::int64_t i) { return double(w[i]); });
}

// Every target names one of `classes` classes (the public kernel has checked everything else;
// this needs the targets' values).
void check_targets(const char* kernel, const Tensor& targets, std::int64_t classes) {
  const std::int32_t* target = targets.data<std::int32_t>();
  for (std::int64_t row = 0; row < targets.numel(); ++row)
    check(target[row] >= 0 && target[row] < classes, kernel, ": target ", target[row], " at row ",
          row, " is out of range [0, ", classes, ")");
}

template <typename T>
double cross_entropy_rows(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                          Tensor& probs) {
  const std::int64_t rows = logits.shape().rows(), columns = logits.shape().cols();
  const T* input = logits.data<T>();
  const std::int32_t* target = targets.data<std::int32_t>();
  const T* weight = weights.data<T>();
  T* output = probs.data<T>();
  // Each row's loss is lse − logit[target]; the softmax is written alongside for backward.
  const double weighted = deterministic_sum(rows, columns, [&](std::int64_t row) {
    const T* in = input + row * columns;
    T* out = output + row * columns;
    T maximum = in[0];
    for (std::int64_t c = 1; c < columns; ++c) maximum = std::max(maximum, in[c]);
    double total = 0;
    for (std::int64_t c = 0; c < columns; ++c) {
      const double shifted = std::exp(static_cast<double>(in[c]) - maximum);
      out[c] = static_cast<T>(shifted);
      total += shifted;
    }
    const T inverse = static_cast<T>(1.0 / total);
    for (std::int64_t c = 0; c < columns; ++c) out[c] *= inverse;
    const double log_sum_exp = maximum + std::log(total);
    return static_cast<double>(weight[row]) * (log_sum_exp - in[target[row]]);
  });
  return weighted / (weight_total<T>(weights) + weight_floor);
}

template <typename T>
void cross_entropy_backward_rows(const Tensor& probs, const Tensor& targets, const Tensor& weights,
                                 double dloss, Tensor& dlogits) {
  const std::int64_t rows = probs.shape().rows(), columns = probs.shape().cols();
  const T* prob = probs.data<T>();
  const std::int32_t* target = targets.data<std::int32_t>();
  const T* weight = weights.data<T>();
  T* grad = dlogits.data<T>();
  const double factor = dloss / (weight_total<T>(weights) + weight_floor);
  parallel_for(0, rows, cpu::row_grain(columns), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const T row_factor = static_cast<T>(factor * weight[row]);
      if (row_factor == T(0)) continue;
      const std::int64_t offset = row * columns;
      for (std::int64_t c = 0; c < columns; ++c) grad[offset + c] += row_factor * prob[offset + c];
      grad[offset + target[row]] -= row_factor;
    }
  });
}

template <typename T>
double bce_elements(const Tensor& logits, const Tensor& labels, const Tensor& weights) {
  const T* z = logits.data<T>();
  const T* y = labels.data<T>();
  const T* w = weights.data<T>();
  const double weighted = deterministic_sum(logits.numel(), 1, [&](std::int64_t i) {
    const double logit = z[i];
    const double loss =
        std::max(logit, 0.0) - logit * y[i] + std::log1p(std::exp(-std::abs(logit)));
    return static_cast<double>(w[i]) * loss;
  });
  return weighted / (weight_total<T>(weights) + weight_floor);
}

// σ(z) without overflow: e^−|z| is at most 1.
double stable_sigmoid(double z) {
  const double small = std::exp(-std::abs(z));
  return z >= 0 ? 1.0 / (1.0 + small) : small / (1.0 + small);
}

template <typename T>
void bce_backward_elements(const Tensor& logits, const Tensor& labels, const Tensor& weights,
                           double dloss, Tensor& dlogits) {
  const T* z = logits.data<T>();
  const T* y = labels.data<T>();
  const T* w = weights.data<T>();
  T* grad = dlogits.data<T>();
  const double factor = dloss / (weight_total<T>(weights) + weight_floor);
  parallel_for(0, logits.numel(), cpu::elementwise_grain,
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t i = begin; i < end; ++i)
                   grad[i] += static_cast<T>(factor * w[i] * (stable_sigmoid(z[i]) - y[i]));
               });
}

}  // namespace

double cpu::cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                  const Tensor& weights, Tensor& probs) {
  const char* kernel = "cross_entropy_forward";
  check_targets(kernel, targets, logits.shape().cols());
  return cpu::dispatch_float(kernel, logits, [&](auto scalar) {
    return cross_entropy_rows<decltype(scalar)>(logits, targets, weights, probs);
  });
}

void cpu::cross_entropy_backward_accumulate(const Tensor& probs, const Tensor& targets,
                                            const Tensor& weights, double dloss, Tensor& dlogits) {
  const char* kernel = "cross_entropy_backward_accumulate";
  check_targets(kernel, targets, probs.shape().cols());
  cpu::dispatch_float(kernel, probs, [&](auto scalar) {
    cross_entropy_backward_rows<decltype(scalar)>(probs, targets, weights, dloss, dlogits);
  });
}

double cpu::bce_with_logits_forward(const Tensor& logits, const Tensor& labels,
                                    const Tensor& weights) {
  const char* kernel = "bce_with_logits_forward";
  return cpu::dispatch_float(kernel, logits, [&](auto scalar) {
    return bce_elements<decltype(scalar)>(logits, labels, weights);
  });
}

void cpu::bce_with_logits_backward_accumulate(const Tensor& logits, const Tensor& labels,
                                              const Tensor& weights, double dloss,
                                              Tensor& dlogits) {
  const char* kernel = "bce_with_logits_backward_accumulate";
  cpu::dispatch_float(kernel, logits, [&](auto scalar) {
    bce_backward_elements<decltype(scalar)>(logits, labels, weights, dloss, dlogits);
  });
}

}  // namespace electra::kernels
