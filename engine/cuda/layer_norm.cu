// Layer normalisation over the last axis on CUDA. Forward: one block per row, two passes (mean,
// then squared deviations) in double like the CPU. Backward: dx one block per row; dgamma and
// dbeta as column sums over row chunks (partials in double, then chunks added in order), so the
// parameter gradients are deterministic without atomics.
#include <cmath>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

using detail::f32;
using detail::threads_per_block;

// x [rows, C], gamma/beta [C] → y [rows, C], mean [rows], rstd [rows].
__global__ void layer_norm_forward_kernel(const float* x, const float* gamma, const float* beta,
                                          double eps, std::int64_t columns, float* y, float* mean,
                                          float* rstd) {
  __shared__ double scratch[threads_per_block];
  const std::int64_t row = blockIdx.x;
  const float* in = x + row * columns;
  double total = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) total += in[c];
  const double mu = detail::block_reduce(total, detail::AddOp{}, scratch) / columns;
  double squares = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    const double deviation = in[c] - mu;
    squares += deviation * deviation;
  }
  squares = detail::block_reduce(squares, detail::AddOp{}, scratch);
  const double inverse_std = 1.0 / sqrt(squares / columns + eps);
  float* out = y + row * columns;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
    out[c] = static_cast<float>((in[c] - mu) * inverse_std) * gamma[c] + beta[c];
  if (threadIdx.x == 0) {
    mean[row] = static_cast<float>(mu);
    rstd[row] = static_cast<float>(inverse_std);
  }
}

// With x̂ = (x − mean)·rstd and g = dy ⊙ gamma: dx += rstd · (g − mean_c(g) − x̂ · mean_c(g ⊙ x̂)).
__global__ void layer_norm_dx_kernel(const float* x, const float* gamma, const float* mean,
                                     const float* rstd, const float* dy, std::int64_t columns,
                                     float* dx) {
  __shared__ double scratch[threads_per_block];
  const std::int64_t row = blockIdx.x;
  const std::int64_t offset = row * columns;
  const double mu = mean[row], inverse_std = rstd[row];
  double sum_g = 0, sum_g_xhat = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    const double g = static_cast<double>(dy[offset + c]) * gamma[c];
    sum_g += g;
    sum_g_xhat += g * ((x[offset + c] - mu) * inverse_std);
  }
  const double mean_g = detail::block_reduce(sum_g, detail::AddOp{}, scratch) / columns;
  const double mean_g_xhat = detail::block_reduce(sum_g_xhat, detail::AddOp{}, scratch) / columns;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    const double xhat = (x[offset + c] - mu) * inverse_std;
    const double g = static_cast<double>(dy[offset + c]) * gamma[c];
    dx[offset + c] += static_cast<float>(inverse_std * (g - mean_g - xhat * mean_g_xhat));
  }
}

// Per row chunk (blockIdx.y) and column: Σ dy·x̂ into gamma_partials, Σ dy into beta_partials,
// both [chunks, C], rows in order.
__global__ void layer_norm_parameter_partials_kernel(const float* x, const float* mean,
                                                     const float* rstd, const float* dy,
                                                     std::int64_t rows, std::int64_t columns,
                                                     std::int64_t rows_per_chunk,
                                                     double* gamma_partials,
                                                     double* beta_partials) {
  const std::int64_t column = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (column >= columns) return;
  const std::int64_t chunk = blockIdx.y;
  const std::int64_t row_end = min(rows, (chunk + 1) * rows_per_chunk);
  double sum_gamma = 0, sum_beta = 0;
  for (std::int64_t row = chunk * rows_per_chunk; row < row_end; ++row) {
    const double d_out = dy[row * columns + column];
    const double xhat = (x[row * columns + column] - static_cast<double>(mean[row])) * rstd[row];
    sum_gamma += d_out * xhat;
    sum_beta += d_out;
  }
  gamma_partials[chunk * columns + column] = sum_gamma;
  beta_partials[chunk * columns + column] = sum_beta;
}

}  // namespace

void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                        Tensor& y, Tensor& mean, Tensor& rstd) {
  const char* kernel = "layer_norm_forward";
  const std::int64_t columns = x.shape().cols();
  layer_norm_forward_kernel<<<static_cast<unsigned>(x.shape().rows()),
                              detail::threads_for_row(columns)>>>(
      f32(x), f32(gamma), f32(beta), eps, columns, f32(y), f32(mean), f32(rstd));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

void layer_norm_backward_accumulate(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                    const Tensor& rstd, const Tensor& dy, Tensor& dx,
                                    Tensor& dgamma, Tensor& dbeta) {
  const char* kernel = "layer_norm_backward_accumulate";

  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  if (dx.defined()) {
    layer_norm_dx_kernel<<<static_cast<unsigned>(rows), detail::threads_for_row(columns)>>>(
        f32(x), f32(gamma), f32(mean), f32(rstd), f32(dy), columns, f32(dx));
    ELECTRA_CUDA_CHECK_LAUNCH(kernel);
  }
  if (!dgamma.defined() && !dbeta.defined()) return;
  const std::int64_t rows_per_chunk = detail::rows_per_column_chunk(rows);
  const std::int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  // partials [2, chunks, C]: Σ dy·x̂ then Σ dy per chunk.
  Tensor partials = Tensor::empty(Shape{2, chunks, columns}, DType::f64, Device::cuda);
  double* gamma_partials = partials.data<double>();
  double* beta_partials = gamma_partials + chunks * columns;
  const dim3 grid(static_cast<unsigned>((columns + threads_per_block - 1) / threads_per_block),
                  static_cast<unsigned>(chunks));
  layer_norm_parameter_partials_kernel<<<grid, threads_per_block>>>(
      f32(x), f32(mean), f32(rstd), f32(dy), rows, columns, rows_per_chunk, gamma_partials,
      beta_partials);
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
  if (dgamma.defined()) detail::add_column_partials(gamma_partials, chunks, columns, f32(dgamma));
  if (dbeta.defined()) detail::add_column_partials(beta_partials, chunks, columns, f32(dbeta));
}

}  // namespace electra::kernels::cuda
