// Elementwise kernels, bias broadcast and its gradient, and exact GELU. Each element is its own
// thread in a grid-stride loop; only sum_rows_accumulate reduces, through row-chunk partials.
#include <cmath>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

using detail::blocks_for;
using detail::f32;
using detail::threads_per_block;

enum class Binary { add, mul, mul_accumulate };

template <Binary op>
__global__ void binary_kernel(const float* a, const float* b, float* out, std::int64_t count) {
  ELECTRA_GRID_STRIDE(i, count) {
    if constexpr (op == Binary::add) out[i] = a[i] + b[i];
    if constexpr (op == Binary::mul) out[i] = a[i] * b[i];
    if constexpr (op == Binary::mul_accumulate) out[i] += a[i] * b[i];
  }
}

__global__ void scale_kernel(const float* a, float alpha, float* out, std::int64_t count) {
  ELECTRA_GRID_STRIDE(i, count) out[i] = alpha * a[i];
}

__global__ void axpy_kernel(float alpha, const float* x, float* y, std::int64_t count) {
  ELECTRA_GRID_STRIDE(i, count) y[i] += alpha * x[i];
}

// x [rows, C] += bias [C].
__global__ void add_bias_kernel(float* x, const float* bias, std::int64_t count,
                                std::int64_t columns) {
  ELECTRA_GRID_STRIDE(i, count) x[i] += bias[i % columns];
}

// out [rows, C] = bias [C] in every row.
__global__ void broadcast_rows_kernel(const float* bias, std::int64_t count, std::int64_t columns,
                                      float* out) {
  ELECTRA_GRID_STRIDE(i, count) out[i] = bias[i % columns];
}

// partials [chunks, C]: chunk j sums rows [j·rows_per_chunk, …) of x [rows, C] in row order.
// Block (column tile, chunk); consecutive threads read consecutive columns (coalesced).
__global__ void column_chunk_sums_kernel(const float* x, std::int64_t rows, std::int64_t columns,
                                         std::int64_t rows_per_chunk, double* partials) {
  const std::int64_t column = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (column >= columns) return;
  const std::int64_t chunk = blockIdx.y;
  const std::int64_t row_end = min(rows, (chunk + 1) * rows_per_chunk);
  double total = 0;
  for (std::int64_t row = chunk * rows_per_chunk; row < row_end; ++row)
    total += x[row * columns + column];
  partials[chunk * columns + column] = total;
}

// Φ(x) and φ(x) of the standard normal, in float like the f32 CPU kernel.
__device__ float normal_cdf(float x) { return 0.5f * (1.0f + erff(x * 0.70710678118654752f)); }
__device__ float normal_pdf(float x) { return 0.39894228040143268f * expf(-0.5f * x * x); }

// y = x · Φ(x) (exact, erf-based GELU as BERT/ELECTRA).
__global__ void gelu_forward_kernel(const float* x, float* y, std::int64_t count) {
  ELECTRA_GRID_STRIDE(i, count) y[i] = x[i] * normal_cdf(x[i]);
}

// dx += dy · (Φ(x) + x · φ(x)).
__global__ void gelu_backward_kernel(const float* x, const float* dy, float* dx,
                                     std::int64_t count) {
  ELECTRA_GRID_STRIDE(i, count) {
    const float v = x[i];
    dx[i] += dy[i] * (normal_cdf(v) + v * normal_pdf(v));
  }
}

template <Binary op>
void launch_binary(const char* kernel, const Tensor& a, const Tensor& b, Tensor& out) {
  binary_kernel<op>
      <<<blocks_for(a.numel()), threads_per_block>>>(f32(a), f32(b), f32(out), a.numel());
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace

// Any dtype (ids are copied too): a device-to-device copy of the bytes.
void copy(const Tensor& source, Tensor& destination) {
  ELECTRA_CUDA_CHECK(cudaMemcpyAsync(destination.raw(), source.raw(), source.nbytes(),
                                     cudaMemcpyDeviceToDevice, 0));
}

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  launch_binary<Binary::add>("add", a, b, out);
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  launch_binary<Binary::mul>("mul", a, b, out);
}

void mul_accumulate(const Tensor& a, const Tensor& b, Tensor& out) {
  launch_binary<Binary::mul_accumulate>("mul_accumulate", a, b, out);
}

void scale(const Tensor& a, double alpha, Tensor& out) {
  scale_kernel<<<blocks_for(a.numel()), threads_per_block>>>(f32(a), static_cast<float>(alpha),
                                                             f32(out), a.numel());
  ELECTRA_CUDA_CHECK_LAUNCH("scale");
}

void axpy(double alpha, const Tensor& x, Tensor& y) {
  axpy_kernel<<<blocks_for(x.numel()), threads_per_block>>>(static_cast<float>(alpha), f32(x),
                                                            f32(y), x.numel());
  ELECTRA_CUDA_CHECK_LAUNCH("axpy");
}

void add_bias(Tensor& x, const Tensor& bias) {
  add_bias_kernel<<<blocks_for(x.numel()), threads_per_block>>>(f32(x), f32(bias), x.numel(),
                                                                x.shape().cols());
  ELECTRA_CUDA_CHECK_LAUNCH("add_bias");
}

void broadcast_rows(const Tensor& bias, Tensor& out) {
  broadcast_rows_kernel<<<blocks_for(out.numel()), threads_per_block>>>(
      f32(bias), out.numel(), out.shape().cols(), f32(out));
  ELECTRA_CUDA_CHECK_LAUNCH("broadcast_rows");
}

void sum_rows_accumulate(const Tensor& x, Tensor& out) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  const std::int64_t rows_per_chunk = detail::rows_per_column_chunk(rows);
  const std::int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  Tensor partials = Tensor::empty(Shape{chunks, columns}, DType::f64, Device::cuda);
  const dim3 grid(static_cast<unsigned>((columns + threads_per_block - 1) / threads_per_block),
                  static_cast<unsigned>(chunks));
  column_chunk_sums_kernel<<<grid, threads_per_block>>>(f32(x), rows, columns, rows_per_chunk,
                                                        partials.data<double>());
  ELECTRA_CUDA_CHECK_LAUNCH("sum_rows_accumulate");
  detail::add_column_partials(partials.data<double>(), chunks, columns, f32(out));
}

void gelu_forward(const Tensor& x, Tensor& y) {
  gelu_forward_kernel<<<blocks_for(x.numel()), threads_per_block>>>(f32(x), f32(y), x.numel());
  ELECTRA_CUDA_CHECK_LAUNCH("gelu_forward");
}

void gelu_backward_accumulate(const Tensor& x, const Tensor& dy, Tensor& dx) {
  gelu_backward_kernel<<<blocks_for(x.numel()), threads_per_block>>>(f32(x), f32(dy), f32(dx),
                                                                     x.numel());
  ELECTRA_CUDA_CHECK_LAUNCH("gelu_backward_accumulate");
}

}  // namespace electra::kernels::cuda
