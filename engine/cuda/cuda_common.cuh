#pragma once
// Shared by the CUDA kernel files (engine/cuda/*.cu): argument checks whose messages name the
// kernel, launch sizes, a deterministic block reduction, and the few host helpers that several
// families use (device sums, column partials, index validation). Internal to electra_engine.
#include <cstdint>
#include <vector>

#include "engine/cuda/cuda_check.hpp"
#include "engine/tensor.hpp"

namespace electra::cuda_kernels::detail {

// ---------------------------------------------------------------- argument checks (host)
inline void require_on_cuda(const char* kernel, const Tensor& tensor) {
  check(tensor.defined(), kernel, ": undefined tensor");
  check(tensor.device() == Device::cuda, kernel, ": tensor ", tensor.describe(),
        " is not on cuda (the CUDA kernels take cuda tensors only)");
}

// A defined, non-empty f32 tensor on cuda. f64 exists for gradcheck on the CPU only.
inline void require_f32(const char* kernel, const Tensor& tensor) {
  require_on_cuda(kernel, tensor);
  check(tensor.numel() > 0, kernel, ": empty tensor ", tensor.describe());
  check(tensor.dtype() == DType::f32, kernel, ": the CUDA backend computes in f32 only, got ",
        tensor.describe(), " (f64 is for CPU gradcheck)");
}
template <typename... Tensors>
void require_f32(const char* kernel, const Tensor& first, const Tensors&... rest) {
  require_f32(kernel, first);
  (require_f32(kernel, rest), ...);
}

inline void require_i32(const char* kernel, const char* what, const Tensor& tensor) {
  require_on_cuda(kernel, tensor);
  check(tensor.dtype() == DType::i32, kernel, ": ", what, " must be i32, got ", tensor.describe());
}

inline void require_same_shape(const char* kernel, const Tensor& a, const Tensor& b) {
  check(a.shape() == b.shape(), kernel, ": shape mismatch ", a.shape().str(), " vs ",
        b.shape().str());
}

inline float* f32(const Tensor& tensor) { return tensor.data<float>(); }
inline std::int32_t* i32(const Tensor& tensor) { return tensor.data<std::int32_t>(); }

// ---------------------------------------------------------------- launch sizes
constexpr int threads_per_block = 256;

// Blocks for a grid-stride loop over `count` items; capped because each thread loops anyway.
inline unsigned blocks_for(std::int64_t count, int threads = threads_per_block) {
  const std::int64_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

// Threads for one-block-per-row kernels: a power of two in [32, 256] covering the row when short.
inline int threads_for_row(std::int64_t columns) {
  int threads = 32;
  while (threads < threads_per_block && threads < columns) threads *= 2;
  return threads;
}

// Column sums over many rows are cut into at most 64 chunks of rows (at least 32 rows each):
// enough blocks to fill the GPU, few enough that the double partials [chunks, C] stay small even
// for a 30 522-word vocabulary. Depends on `rows` only, so the summation order is fixed.
inline std::int64_t rows_per_column_chunk(std::int64_t rows) {
  const std::int64_t even_split = (rows + 63) / 64;
  return even_split < 32 ? 32 : even_split;
}

// ---------------------------------------------------------------- device helpers
#ifdef __CUDACC__
// Tree reduction over the block (blockDim.x a power of two, scratch holds blockDim.x values).
// The pairing is fixed, so the result is bit-identical run to run. Every thread gets the result.
template <typename T, typename Combine>
__device__ T block_reduce(T value, Combine combine, T* scratch) {
  const unsigned thread = threadIdx.x;
  scratch[thread] = value;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (thread < half) scratch[thread] = combine(scratch[thread], scratch[thread + half]);
    __syncthreads();
  }
  const T result = scratch[0];
  __syncthreads();  // scratch may be reused right after
  return result;
}

struct AddOp {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};
#endif

// ---------------------------------------------------------------- host helpers (reduce.cu)
// Σ values[0, count) in double with a fixed grid and tree: deterministic. Waits for the result.
double sum_on_device(const float* values, std::int64_t count);
double sum_on_device(const double* values, std::int64_t count);
// out [C] += Σ_chunk partials [chunks, C], adding the chunks in order.
void add_column_partials(const double* partials, std::int64_t chunks, std::int64_t columns,
                         float* out);

// ---------------------------------------------------------------- host helpers (embedding.cu)
// Copies i32 indices to the host and checks each lies in [0, limit); the message names the
// kernel, the position and the value. Returns the host copy (callers may reuse it).
std::vector<std::int32_t> indices_on_host(const char* kernel, const char* what,
                                          const Tensor& indices, std::int64_t limit);

}  // namespace electra::cuda_kernels::detail
