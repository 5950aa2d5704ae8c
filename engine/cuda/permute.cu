// The head permutation on CUDA: x [A, B, C, D] → out [A, C, B, D], one thread per element.
#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

using detail::blocks_for;
using detail::f32;
using detail::threads_per_block;

// x [A, B, C, D] → out [A, C, B, D]; out = or += permuted x.
template <bool accumulate>
__global__ void permute_0213_kernel(const float* x, std::int64_t a_size, std::int64_t b_size,
                                    std::int64_t c_size, std::int64_t d_size, float* out) {
  const std::int64_t count = a_size * b_size * c_size * d_size;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    // i indexes out [a, c, b, d].
    const std::int64_t d = i % d_size;
    const std::int64_t b = (i / d_size) % b_size;
    const std::int64_t c = (i / (d_size * b_size)) % c_size;
    const std::int64_t a = i / (d_size * b_size * c_size);
    const float value = x[((a * b_size + b) * c_size + c) * d_size + d];
    if constexpr (accumulate)
      out[i] += value;
    else
      out[i] = value;
  }
}

template <bool accumulate>
void launch_permute(const char* kernel, const Tensor& x, Tensor& out) {
  permute_0213_kernel<accumulate><<<blocks_for(x.numel()), threads_per_block>>>(
      f32(x), x.dim(0), x.dim(1), x.dim(2), x.dim(3), f32(out));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace

void permute_0213(const Tensor& x, Tensor& out) { launch_permute<false>("permute_0213", x, out); }

void permute_0213_accumulate(const Tensor& x, Tensor& out) {
  launch_permute<true>("permute_0213_accumulate", x, out);
}

}  // namespace electra::kernels::cuda
