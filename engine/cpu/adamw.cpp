// Adam with decoupled weight decay, one fused pass per parameter tensor (elementwise, so the
// result does not depend on how the elements are split over the cores).
#include <cmath>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

template <typename T>
void adamw_elements(Tensor& parameter, const Tensor& gradient, Tensor& first_moment,
                    Tensor& second_moment, const AdamWSettings& settings) {
  T* p = parameter.data<T>();
  const T* g = gradient.data<T>();
  T* m = first_moment.data<T>();
  T* v = second_moment.data<T>();
  const T beta1 = static_cast<T>(settings.beta1), beta2 = static_cast<T>(settings.beta2);
  // 1 − β in double: in f32, 1 − 0.999f is off by 1.3e-5 relative (0.999 is not representable
  // and the subtraction cancels), which would shift every second moment by that much.
  const T one_minus_beta1 = static_cast<T>(1.0 - settings.beta1);
  const T one_minus_beta2 = static_cast<T>(1.0 - settings.beta2);
  const T scale = static_cast<T>(settings.gradient_scale);
  const T epsilon = static_cast<T>(settings.epsilon);
  const T decay = static_cast<T>(settings.weight_decay);
  const T learning_rate = static_cast<T>(settings.learning_rate);
  // m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t) with bias correction; m̂ = m, v̂ = v without.
  T first_correction = 1, second_correction = 1;
  if (settings.bias_correction) {
    const double step = static_cast<double>(settings.step);
    first_correction = static_cast<T>(1.0 / (1.0 - std::pow(settings.beta1, step)));
    second_correction = static_cast<T>(1.0 / (1.0 - std::pow(settings.beta2, step)));
  }
  parallel_for(0, parameter.numel(), cpu::elementwise_grain,
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t i = begin; i < end; ++i) {
                   const T grad = g[i] * scale;
                   m[i] = beta1 * m[i] + one_minus_beta1 * grad;
                   v[i] = beta2 * v[i] + one_minus_beta2 * grad * grad;
                   const T update =
                       (m[i] * first_correction) / (std::sqrt(v[i] * second_correction) + epsilon) +
                       decay * p[i];
                   p[i] -= learning_rate * update;
                 }
               });
}

}  // namespace

void cpu::adamw_update(Tensor& parameter, const Tensor& gradient, Tensor& first_moment,
                       Tensor& second_moment, const AdamWSettings& settings) {
  const char* kernel = "adamw_update";
  cpu::dispatch_float(kernel, parameter, [&](auto scalar) {
    adamw_elements<decltype(scalar)>(parameter, gradient, first_moment, second_moment, settings);
  });
}

}  // namespace electra::kernels
