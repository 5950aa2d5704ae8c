// The deterministic reductions (engine/cpu/reduce.cpp, engine/cuda/reduce.cu): arguments
// checked once here, then the device's kernel runs.
#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

double sum(const Tensor& x) {
  const Device device = device_of("sum", x);
  check_float_input("sum", x);
  ELECTRA_DISPATCH(sum, device, (x));
}

double dot(const Tensor& a, const Tensor& b) {
  const Device device = device_of("dot", a, b);
  check_float_input("dot", a);
  check_same_numel("dot", a, b);
  ELECTRA_DISPATCH(dot, device, (a, b));
}

double squared_norm(const Tensor& x) {
  const Device device = device_of("squared_norm", x);
  check_float_input("squared_norm", x);
  ELECTRA_DISPATCH(squared_norm, device, (x));
}

TensorStats stats(const Tensor& x) {
  const Device device = device_of("stats", x);
  check_float_input("stats", x);
  ELECTRA_DISPATCH(stats, device, (x));
}

bool all_finite(const Tensor& x) {
  const Device device = device_of("all_finite", x);
  check_float_input("all_finite", x);
  ELECTRA_DISPATCH(all_finite, device, (x));
}

}  // namespace electra::kernels
