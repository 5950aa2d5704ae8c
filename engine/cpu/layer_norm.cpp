// Layer normalisation over the last axis (BERT: biased variance, eps inside the square root),
// forward saving mean and rstd per row, backward accumulating dx, dgamma and dbeta.
//
// dgamma and dbeta are sums over rows. To make them bit-identical for any thread count, rows are
// cut into fixed blocks of `rows_per_block` (independent of the threads); each block sums its
// rows serially into its own partial, and the partials are then added in block order.
#include <cmath>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

constexpr std::int64_t rows_per_block = 32;

// x [rows, C], gamma/beta [C] → y [rows, C], mean [rows], rstd [rows].
template <typename T>
void layer_norm_rows(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                     Tensor& y, Tensor& mean, Tensor& rstd) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  const T* input = x.data<T>();
  const T* scale = gamma.data<T>();
  const T* shift = beta.data<T>();
  T* output = y.data<T>();
  T* row_mean = mean.data<T>();
  T* row_rstd = rstd.data<T>();
  parallel_for(0, rows, cpu::row_grain(columns), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const T* in = input + row * columns;
      // Two passes (mean, then squared deviations): one-pass E[x²]−E[x]² cancels badly when the
      // mean is large next to the spread.
      double total = 0;
      for (std::int64_t c = 0; c < columns; ++c) total += in[c];
      const double mu = total / static_cast<double>(columns);
      double squares = 0;
      for (std::int64_t c = 0; c < columns; ++c) {
        const double deviation = in[c] - mu;
        squares += deviation * deviation;
      }
      const double inverse_std = 1.0 / std::sqrt(squares / static_cast<double>(columns) + eps);
      T* out = output + row * columns;
      for (std::int64_t c = 0; c < columns; ++c)
        out[c] = static_cast<T>((in[c] - mu) * inverse_std) * scale[c] + shift[c];
      row_mean[row] = static_cast<T>(mu);
      row_rstd[row] = static_cast<T>(inverse_std);
    }
  });
}

// With x̂ = (x − mean)·rstd and g = dy ⊙ gamma:
//   dx += rstd · (g − mean_c(g) − x̂ · mean_c(g ⊙ x̂)),  dgamma += Σ_rows dy ⊙ x̂,  dbeta += Σ_rows
//   dy.
template <typename T>
void layer_norm_backward_rows(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                              const Tensor& rstd, const Tensor& dy, Tensor& dx, Tensor& dgamma,
                              Tensor& dbeta) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  const T* input = x.data<T>();
  const T* scale = gamma.data<T>();
  const T* row_mean = mean.data<T>();
  const T* row_rstd = rstd.data<T>();
  const T* grad_out = dy.data<T>();
  T* grad_in = dx.defined() ? dx.data<T>() : nullptr;
  const bool want_params = dgamma.defined() || dbeta.defined();
  const std::int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
  // partials [blocks, 2, C] in double: per block, Σ dy·x̂ then Σ dy.
  Tensor partials;
  if (want_params) partials = Tensor::zeros(Shape{blocks, 2, columns}, DType::f64);
  double* partial = want_params ? partials.data<double>() : nullptr;

  parallel_for(0, blocks, std::max<std::int64_t>(1, cpu::row_grain(columns) / rows_per_block),
               [&](std::int64_t block_begin, std::int64_t block_end) {
                 for (std::int64_t block = block_begin; block < block_end; ++block) {
                   double* block_dgamma = partial ? partial + block * 2 * columns : nullptr;
                   double* block_dbeta = partial ? block_dgamma + columns : nullptr;
                   const std::int64_t row_end = std::min(rows, (block + 1) * rows_per_block);
                   for (std::int64_t row = block * rows_per_block; row < row_end; ++row) {
                     const T* in = input + row * columns;
                     const T* d_out = grad_out + row * columns;
                     const double mu = row_mean[row], inverse_std = row_rstd[row];
                     if (partial) {
                       for (std::int64_t c = 0; c < columns; ++c) {
                         block_dgamma[c] += d_out[c] * ((in[c] - mu) * inverse_std);
                         block_dbeta[c] += d_out[c];
                       }
                     }
                     if (!grad_in) continue;
                     double mean_g = 0, mean_g_xhat = 0;
                     for (std::int64_t c = 0; c < columns; ++c) {
                       const double g = static_cast<double>(d_out[c]) * scale[c];
                       mean_g += g;
                       mean_g_xhat += g * ((in[c] - mu) * inverse_std);
                     }
                     mean_g /= static_cast<double>(columns);
                     mean_g_xhat /= static_cast<double>(columns);
                     T* d_in = grad_in + row * columns;
                     for (std::int64_t c = 0; c < columns; ++c) {
                       const double xhat = (in[c] - mu) * inverse_std;
                       const double g = static_cast<double>(d_out[c]) * scale[c];
                       d_in[c] += static_cast<T>(inverse_std * (g - mean_g - xhat * mean_g_xhat));
                     }
                   }
                 }
               });
  if (!partial) return;
  // Column-parallel, block order within each column: deterministic.
  T* grad_gamma = dgamma.defined() ? dgamma.data<T>() : nullptr;
  T* grad_beta = dbeta.defined() ? dbeta.data<T>() : nullptr;
  parallel_for(0, columns, std::max<std::int64_t>(1, 4096 / blocks),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t c = begin; c < end; ++c) {
                   double sum_gamma = 0, sum_beta = 0;
                   for (std::int64_t block = 0; block < blocks; ++block) {
                     sum_gamma += partial[block * 2 * columns + c];
                     sum_beta += partial[block * 2 * columns + columns + c];
                   }
                   if (grad_gamma) grad_gamma[c] += static_cast<T>(sum_gamma);
                   if (grad_beta) grad_beta[c] += static_cast<T>(sum_beta);
                 }
               });
}

}  // namespace

void cpu::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                             Tensor& y, Tensor& mean, Tensor& rstd) {
  const char* kernel = "layer_norm_forward";
  cpu::dispatch_float(kernel, x, [&](auto scalar) {
    layer_norm_rows<decltype(scalar)>(x, gamma, beta, eps, y, mean, rstd);
  });
}

void cpu::layer_norm_backward_accumulate(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                         const Tensor& rstd, const Tensor& dy, Tensor& dx,
                                         Tensor& dgamma, Tensor& dbeta) {
  const char* kernel = "layer_norm_backward_accumulate";
  cpu::dispatch_float(kernel, x, [&](auto scalar) {
    layer_norm_backward_rows<decltype(scalar)>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
  });
}

}  // namespace electra::kernels
