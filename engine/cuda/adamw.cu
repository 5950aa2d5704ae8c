// AdamW on CUDA: one fused elementwise kernel per parameter tensor (read p, g, m, v once, write
// p, m, v once), the same f32 arithmetic in the same order as engine/cpu/adamw.cpp.
#include <cmath>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

struct AdamWConstants {
  float beta1, beta2, gradient_scale, epsilon, weight_decay, learning_rate;
  float first_correction, second_correction;  // 1/(1 − β^t) with bias correction, else 1
};

// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= lr · (m̂/(√v̂ + ε) + wd·p), g = grad · scale.
__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, AdamWConstants k,
                             std::int64_t count) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float grad = g[i] * k.gradient_scale;
    const float first = k.beta1 * m[i] + (1.0f - k.beta1) * grad;
    const float second = k.beta2 * v[i] + (1.0f - k.beta2) * grad * grad;
    m[i] = first;
    v[i] = second;
    const float update =
        (first * k.first_correction) / (sqrtf(second * k.second_correction) + k.epsilon) +
        k.weight_decay * p[i];
    p[i] -= k.learning_rate * update;
  }
}

}  // namespace

void adamw_update(Tensor& parameter, const Tensor& gradient, Tensor& first_moment,
                  Tensor& second_moment, const AdamWSettings& settings) {
  const char* kernel = "adamw_update";
  AdamWConstants constants{};
  constants.beta1 = static_cast<float>(settings.beta1);
  constants.beta2 = static_cast<float>(settings.beta2);
  constants.gradient_scale = static_cast<float>(settings.gradient_scale);
  constants.epsilon = static_cast<float>(settings.epsilon);
  constants.weight_decay = static_cast<float>(settings.weight_decay);
  constants.learning_rate = static_cast<float>(settings.learning_rate);
  constants.first_correction = constants.second_correction = 1.0f;
  if (settings.bias_correction) {
    const auto step = static_cast<double>(settings.step);
    constants.first_correction = static_cast<float>(1.0 / (1.0 - std::pow(settings.beta1, step)));
    constants.second_correction = static_cast<float>(1.0 / (1.0 - std::pow(settings.beta2, step)));
  }
  adamw_kernel<<<detail::blocks_for(parameter.numel()), detail::threads_per_block>>>(
      detail::f32(parameter), detail::f32(gradient), detail::f32(first_moment),
      detail::f32(second_moment), constants, parameter.numel());
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace electra::kernels::cuda
