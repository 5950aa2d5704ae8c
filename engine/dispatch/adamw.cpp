// The AdamW update (engine/cpu/adamw.cpp, engine/cuda/adamw.cu): arguments checked once here,
// then the device's kernel runs.
#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

void adamw_update(Tensor& parameter, const Tensor& gradient, Tensor& first_moment,
                  Tensor& second_moment, const AdamWSettings& settings) {
  const char* kernel = "adamw_update";
  const Device device = device_of(kernel, parameter, gradient, first_moment, second_moment);
  check_float_input(kernel, parameter);
  check(gradient.defined() && first_moment.defined() && second_moment.defined(), kernel,
        ": gradient and both moments must be defined for parameter ", parameter);
  check_same(kernel, parameter, gradient);
  check_same(kernel, parameter, first_moment);
  check_same(kernel, parameter, second_moment);
  check(settings.beta1 >= 0 && settings.beta1 < 1 && settings.beta2 >= 0 && settings.beta2 < 1,
        kernel, ": betas must lie in [0, 1), got ", settings.beta1, ", ", settings.beta2);
  check(settings.epsilon > 0, kernel, ": epsilon must be > 0, got ", settings.epsilon);
  check(!settings.bias_correction || settings.step >= 1, kernel,
        ": step must be ≥ 1 with bias correction, got ", settings.step);
  ELECTRA_DISPATCH(adamw_update, device,
                   (parameter, gradient, first_moment, second_moment, settings));
}

}  // namespace electra::kernels
