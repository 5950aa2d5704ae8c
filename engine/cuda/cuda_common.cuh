#pragma once
// Shared by the CUDA kernel files (engine/cuda/*.cu, which define the electra::kernels::cuda::
// functions of engine/backends.hpp; their public kernel in engine/dispatch/ has checked every
// argument): typed pointers, launch sizes, a deterministic block reduction, and the few host
// helpers that several families use (device sums, column partials, id checks). Internal to
// electra_engine.
#include <cstdint>
#include <vector>

#include "engine/backends.hpp"
#include "engine/cuda/cuda_check.hpp"
#include "engine/tensor.hpp"

namespace electra::kernels::cuda::detail {

// ---------------------------------------------------------------- typed device pointers
inline float* f32(const Tensor& tensor) { return tensor.data<float>(); }
inline std::int32_t* i32(const Tensor& tensor) { return tensor.data<std::int32_t>(); }

// ---------------------------------------------------------------- launch sizes
constexpr int threads_per_block = 256;

// for (i over [0, count)) spread over the whole grid: each thread takes i, i + gridDim·blockDim, …
#define ELECTRA_GRID_STRIDE(i, count)                                                     \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; \
       i < (count); i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

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
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};
struct MaxOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a > b ? a : b;
  }
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
// Copies i32 ids to the host and checks each indexes one of the `rows` rows of a table; the
// message names the kernel, the id and its position, as the CPU's. Returns the host copy
// (embedding backward sorts it).
std::vector<std::int32_t> ids_on_host(const char* kernel, const Tensor& ids, std::int64_t rows);

}  // namespace electra::kernels::cuda::detail
