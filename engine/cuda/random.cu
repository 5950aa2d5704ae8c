// Random kernels on CUDA with the CPU's Philox mapping (engine/cuda/philox_device.hpp mirrors
// engine/philox.hpp): element i draws from index key.counter + i, so a dropout mask, a uniform
// tensor or a normal draw is the same on both devices. Also the deterministic argmax per row.
// (Categorical sampling: sampling.cu.)
#include <cmath>

#include "engine/cuda/cuda_common.cuh"
#include "engine/cuda/philox_device.hpp"

namespace electra::kernels::cuda {
namespace {

using detail::blocks_for;
using detail::f32;
using detail::threads_per_block;

// y = x ⊙ keep (or y += x ⊙ keep), keep = (u ≥ p) · 1/(1 − p) redrawn from the key.
__global__ void dropout_kernel(const float* x, double drop_probability, float kept_scale,
                               RandomKey key, std::int64_t count, bool accumulate, float* y) {
  ELECTRA_GRID_STRIDE(i, count) {
    const std::uint32_t word = philox_device::uniform_word(
        key.seed, key.stream, key.counter + static_cast<std::uint64_t>(i));
    const float mask =
        philox_device::uniform_from_word(word) >= drop_probability ? kept_scale : 0.0f;
    y[i] = accumulate ? y[i] + x[i] * mask : x[i] * mask;
  }
}

__global__ void uniform_kernel(RandomKey key, std::int64_t count, float* out) {
  ELECTRA_GRID_STRIDE(i, count) {
    out[i] = static_cast<float>(philox_device::uniform_from_word(philox_device::uniform_word(
        key.seed, key.stream, key.counter + static_cast<std::uint64_t>(i))));
  }
}

__global__ void truncated_normal_kernel(RandomKey key, double std, std::int64_t count, float* out) {
  ELECTRA_GRID_STRIDE(i, count) {
    out[i] = static_cast<float>(
        std * philox_device::truncated_standard_normal(
                  key.seed, key.stream, key.counter + static_cast<std::uint64_t>(i), 2.0));
  }
}

// The best candidate a thread (then the block) has seen; `found` false means none yet.
struct Candidate {
  double score;
  std::int32_t index;
  bool found;
};

// Higher score wins; equal scores keep the lower index (the CPU scans left to right).
struct BetterCandidate {
  __device__ Candidate operator()(const Candidate& a, const Candidate& b) const {
    if (!a.found) return b;
    if (!b.found) return a;
    if (a.score > b.score) return a;
    if (b.score > a.score) return b;
    return a.index < b.index ? a : b;
  }
};

// One block per row of x [R, C]; out[r] = first index of the maximum non-NaN entry, 0 when the
// row is all NaN (the CPU's rule).
__global__ void argmax_rows_kernel(const float* x, std::int64_t columns, std::int32_t* out) {
  __shared__ Candidate scratch[threads_per_block];
  const std::int64_t row = blockIdx.x;
  Candidate best{0.0, 0, false};
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    const float value = x[row * columns + c];
    if (isnan(value)) continue;
    if (!best.found || value > best.score) best = {value, static_cast<std::int32_t>(c), true};
  }
  best = detail::block_reduce(best, BetterCandidate{}, scratch);
  if (threadIdx.x == 0) out[row] = best.found ? best.index : 0;
}

}  // namespace

void dropout(const Tensor& x, double drop_probability, const RandomKey& key, Tensor& y,
             bool accumulate) {
  const char* kernel = "dropout";
  const auto kept_scale = static_cast<float>(1.0 / (1.0 - drop_probability));
  dropout_kernel<<<blocks_for(x.numel()), threads_per_block>>>(f32(x), drop_probability, kept_scale,
                                                               key, x.numel(), accumulate, f32(y));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

void uniform(const RandomKey& key, Tensor& out) {
  uniform_kernel<<<blocks_for(out.numel()), threads_per_block>>>(key, out.numel(), f32(out));
  ELECTRA_CUDA_CHECK_LAUNCH("uniform");
}

void truncated_normal(const RandomKey& key, double std, Tensor& out) {
  truncated_normal_kernel<<<blocks_for(out.numel()), threads_per_block>>>(key, std, out.numel(),
                                                                          f32(out));
  ELECTRA_CUDA_CHECK_LAUNCH("truncated_normal");
  // A NaN here means 128 Box–Muller candidates fell outside ±2σ: report it as the CPU does.
  check(all_finite(out), "truncated_normal: no draw within ±2σ after 128 candidates (seed ",
        key.seed, ", stream ", key.stream, ")");
}

void argmax_rows(const Tensor& x, Tensor& out) {
  const std::int64_t rows = x.shape().rows();
  const std::int64_t columns = x.shape().cols();
  argmax_rows_kernel<<<static_cast<unsigned>(rows), detail::threads_for_row(columns)>>>(
      f32(x), columns, detail::i32(out));
  ELECTRA_CUDA_CHECK_LAUNCH("argmax_rows");
}

}  // namespace electra::kernels::cuda
