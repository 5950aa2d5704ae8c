// Exact (erf) GELU, as BERT/ELECTRA use it: y = x·Φ(x), Φ the standard normal CDF.
//
// The loops are Eigen array expressions so that erf and exp run on SIMD packets: for f32, Eigen's
// erf is a rational approximation within a few ulp of std::erf (the scalar libm call was the
// step's largest non-GEMM cost); for f64 Eigen calls std::erf, so gradcheck sees libm accuracy.
#include <unsupported/Eigen/SpecialFunctions>

#include <cmath>
#include <numbers>

#include "engine/cpu/cpu_common.hpp"
#include "engine/kernels.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {

// x [any] → y [same]
void gelu_forward(const Tensor& x, Tensor& y) {
  ELECTRA_CUDA_DISPATCH(gelu_forward, (x, y), x, y);
  cpu::require_nonempty("gelu_forward", x);
  cpu::require_float("gelu_forward", x);
  cpu::require_same("gelu_forward", x, y);
  cpu::dispatch_float("gelu_forward", x, [&](auto zero) {
    using T = decltype(zero);
    const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
    parallel_for(
        0, x.numel(), cpu::elementwise_grain / 4, [&](std::int64_t begin, std::int64_t end) {
          const auto in = cpu::const_array_map<T>(x, begin, end);
          auto out = cpu::array_map<T>(y, begin, end);
          out = static_cast<T>(0.5) * in * (static_cast<T>(1) + (in * inv_sqrt2).erf());
        });
  });
}

// dx += dy · (Φ(x) + x·φ(x)), φ(x) = exp(−x²/2)/√(2π).
void gelu_backward_accumulate(const Tensor& x, const Tensor& dy, Tensor& dx) {
  ELECTRA_CUDA_DISPATCH(gelu_backward_accumulate, (x, dy, dx), x, dy, dx);
  const char* kernel = "gelu_backward_accumulate";
  cpu::require_nonempty(kernel, x);
  cpu::require_float(kernel, x);
  cpu::require_same(kernel, x, dy);
  cpu::require_same(kernel, x, dx);
  cpu::dispatch_float(kernel, x, [&](auto zero) {
    using T = decltype(zero);
    const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
    const T inv_sqrt_2pi = static_cast<T>(1.0 / std::sqrt(2.0 * std::numbers::pi));
    parallel_for(
        0, x.numel(), cpu::elementwise_grain / 4, [&](std::int64_t begin, std::int64_t end) {
          const auto in = cpu::const_array_map<T>(x, begin, end);
          const auto grad_out = cpu::const_array_map<T>(dy, begin, end);
          auto grad_in = cpu::array_map<T>(dx, begin, end);
          const auto cdf = static_cast<T>(0.5) * (static_cast<T>(1) + (in * inv_sqrt2).erf());
          const auto pdf = inv_sqrt_2pi * (static_cast<T>(-0.5) * in.square()).exp();
          grad_in += grad_out * (cdf + in * pdf);
        });
  });
}

}  // namespace electra::kernels
