// Categorical sampling by inverse CDF on CUDA (the CPU's engine/cpu/sampling.cpp): one Philox
// uniform per row, u of element index key.counter + r, the same word the CPU draws. One block
// per row: the maximum score, each thread's exp-sum over its own contiguous chunk of classes,
// then a scan over the chunk sums (in thread order) finds the chunk, and that chunk the class.
// The order of every sum is fixed, so a row gives the same class run to run; it equals the
// CPU's unless u · total falls within rounding of a class boundary.
#include <cmath>

#include "engine/cuda/cuda_common.cuh"
#include "engine/cuda/philox_device.hpp"

namespace electra::kernels::cuda {
namespace {

using detail::f32;
using detail::threads_per_block;

struct MinOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a < b ? a : b;
  }
};

// exp(s − max) with s = logit / temperature; 0 for NaN and −inf scores (never drawn).
__device__ double class_weight(float logit, double inverse_temperature, double max_score) {
  const double shifted = static_cast<double>(logit) * inverse_temperature - max_score;
  return isnan(shifted) ? 0.0 : exp(shifted);
}

__global__ void sample_categorical_kernel(const float* logits, double inverse_temperature,
                                          RandomKey key, std::int64_t columns, std::int32_t* out) {
  __shared__ double scratch[threads_per_block];
  __shared__ std::int64_t index_scratch[threads_per_block];
  const std::int64_t row = blockIdx.x;
  const float* x = logits + row * columns;

  // The maximum finite score and the first +inf one (which wins outright, as in the CPU kernel).
  double best = -INFINITY;
  std::int64_t first_infinite = columns;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    const double score = static_cast<double>(x[c]) * inverse_temperature;
    if (score == INFINITY) {
      if (c < first_infinite) first_infinite = c;
    } else if (score > best) {  // NaN never compares greater
      best = score;
    }
  }
  const double max_score = detail::block_reduce(best, detail::MaxOp{}, scratch);
  first_infinite = detail::block_reduce(first_infinite, MinOp{}, index_scratch);
  if (first_infinite < columns || max_score == -INFINITY) {
    if (threadIdx.x == 0)
      out[row] = first_infinite < columns ? static_cast<std::int32_t>(first_infinite) : 0;
    return;  // the whole block returns: no barrier follows for anyone
  }

  // Thread t owns classes [t·per_thread, (t + 1)·per_thread).
  const std::int64_t per_thread = (columns + blockDim.x - 1) / blockDim.x;
  const std::int64_t begin = threadIdx.x * per_thread;
  const std::int64_t end = begin + per_thread < columns ? begin + per_thread : columns;
  double sum = 0;
  for (std::int64_t c = begin; c < end; ++c)
    sum += class_weight(x[c], inverse_temperature, max_score);
  scratch[threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.x != 0) return;

  // Thread 0: total ≥ 1 (the maximum contributes exp(0)); the first chunk whose running total
  // exceeds u · total, then the first class in it, the last positive one if rounding falls short.
  double total = 0;
  for (unsigned t = 0; t < blockDim.x; ++t) total += scratch[t];
  const double u = philox_device::uniform_from_word(philox_device::uniform_word(
      key.seed, key.stream, key.counter + static_cast<std::uint64_t>(row)));
  const double target = u * total;
  double cumulative = 0;
  unsigned owner = 0;
  while (owner + 1 < blockDim.x && cumulative + scratch[owner] <= target)
    cumulative += scratch[owner++];
  const std::int64_t first = owner * per_thread;
  const std::int64_t last = first + per_thread < columns ? first + per_thread : columns;
  std::int64_t chosen = -1;
  for (std::int64_t c = first; c < last; ++c) {
    const double weight = class_weight(x[c], inverse_temperature, max_score);
    if (weight <= 0) continue;
    cumulative += weight;
    chosen = c;
    if (cumulative > target) break;
  }
  out[row] = static_cast<std::int32_t>(chosen < 0 ? 0 : chosen);
}

}  // namespace

void sample_categorical(const Tensor& logits, double temperature, const RandomKey& key,
                        Tensor& out) {
  const char* kernel = "sample_categorical";
  const std::int64_t rows = logits.shape().rows(), columns = logits.shape().cols();
  sample_categorical_kernel<<<static_cast<unsigned>(rows), detail::threads_for_row(columns)>>>(
      f32(logits), 1.0 / temperature, key, columns, detail::i32(out));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace electra::kernels::cuda
