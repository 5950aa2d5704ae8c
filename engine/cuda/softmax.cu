// Softmax and log-softmax over the last axis, forward and backward: one thread block per row,
// threads striding over the columns, row maximum and sums through the fixed-tree block
// reduction (sums in double, as the CPU does, so long vocabulary rows keep their digits).
#include <cmath>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

using detail::f32;

// x [rows, C] (+ mask [mask_rows, C], row r uses (r / rows_per_mask_row) % mask_rows) → y.
__global__ void softmax_forward_kernel(const float* x, const float* mask, std::int64_t columns,
                                       std::int64_t rows_per_mask_row, std::int64_t mask_rows,
                                       float* y) {
  __shared__ float float_scratch[detail::threads_per_block];
  __shared__ double double_scratch[detail::threads_per_block];
  const std::int64_t row = blockIdx.x;
  const float* in = x + row * columns;
  const float* row_mask = mask ? mask + ((row / rows_per_mask_row) % mask_rows) * columns : nullptr;
  float* out = y + row * columns;
  float maximum = -INFINITY;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    const float v = row_mask ? in[c] + row_mask[c] : in[c];
    out[c] = v;
    maximum = fmaxf(maximum, v);
  }
  maximum = detail::block_reduce(maximum, detail::MaxOp{}, float_scratch);
  if (maximum == -INFINITY) {
    // Every entry masked with −inf: nothing to attend to, so attend to all equally (as the CPU).
    for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
      out[c] = 1.0f / static_cast<float>(columns);
    return;
  }
  double total = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    out[c] = expf(out[c] - maximum);
    total += out[c];
  }
  total = detail::block_reduce(total, detail::AddOp{}, double_scratch);
  const float inverse = static_cast<float>(1.0 / total);
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) out[c] *= inverse;
}

// dx += y ⊙ (dy − Σ_c dy·y).
__global__ void softmax_backward_kernel(const float* y, const float* dy, std::int64_t columns,
                                        float* dx) {
  __shared__ double scratch[detail::threads_per_block];
  const std::int64_t offset = static_cast<std::int64_t>(blockIdx.x) * columns;
  double weighted = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
    weighted += static_cast<double>(dy[offset + c]) * y[offset + c];
  const float dot = static_cast<float>(detail::block_reduce(weighted, detail::AddOp{}, scratch));
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
    dx[offset + c] += y[offset + c] * (dy[offset + c] - dot);
}

// y = x − max − log Σ exp(x − max).
__global__ void log_softmax_forward_kernel(const float* x, std::int64_t columns, float* y) {
  __shared__ float float_scratch[detail::threads_per_block];
  __shared__ double double_scratch[detail::threads_per_block];
  const std::int64_t offset = static_cast<std::int64_t>(blockIdx.x) * columns;
  float maximum = -INFINITY;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
    maximum = fmaxf(maximum, x[offset + c]);
  maximum = detail::block_reduce(maximum, detail::MaxOp{}, float_scratch);
  double total = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
    total += expf(x[offset + c] - maximum);
  total = detail::block_reduce(total, detail::AddOp{}, double_scratch);
  const float shift = maximum + static_cast<float>(log(total));
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
    y[offset + c] = x[offset + c] - shift;
}

// dx += dy − exp(y) · Σ_c dy.
__global__ void log_softmax_backward_kernel(const float* y, const float* dy, std::int64_t columns,
                                            float* dx) {
  __shared__ double scratch[detail::threads_per_block];
  const std::int64_t offset = static_cast<std::int64_t>(blockIdx.x) * columns;
  double total = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) total += dy[offset + c];
  const float grad_sum = static_cast<float>(detail::block_reduce(total, detail::AddOp{}, scratch));
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x)
    dx[offset + c] += dy[offset + c] - expf(y[offset + c]) * grad_sum;
}

unsigned grid_rows(const Tensor& x) { return static_cast<unsigned>(x.shape().rows()); }

}  // namespace

void softmax_forward(const Tensor& x, const Tensor& mask, std::int64_t rows_per_mask_row,
                     Tensor& y) {
  const char* kernel = "softmax_forward";
  std::int64_t mask_rows = 1;
  if (mask.defined()) mask_rows = mask.shape().rows();
  const std::int64_t columns = x.shape().cols();
  softmax_forward_kernel<<<grid_rows(x), detail::threads_for_row(columns)>>>(
      f32(x), mask.defined() ? f32(mask) : nullptr, columns, mask.defined() ? rows_per_mask_row : 1,
      mask_rows, f32(y));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

void softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const char* kernel = "softmax_backward_accumulate";
  const std::int64_t columns = y.shape().cols();
  softmax_backward_kernel<<<grid_rows(y), detail::threads_for_row(columns)>>>(f32(y), f32(dy),
                                                                              columns, f32(dx));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

void log_softmax_forward(const Tensor& x, Tensor& y) {
  const char* kernel = "log_softmax_forward";
  const std::int64_t columns = x.shape().cols();
  log_softmax_forward_kernel<<<grid_rows(x), detail::threads_for_row(columns)>>>(f32(x), columns,
                                                                                 f32(y));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

void log_softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const char* kernel = "log_softmax_backward_accumulate";
  const std::int64_t columns = y.shape().cols();
  log_softmax_backward_kernel<<<grid_rows(y), detail::threads_for_row(columns)>>>(f32(y), f32(dy),
                                                                                  columns, f32(dx));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace electra::kernels::cuda
