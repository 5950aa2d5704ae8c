// Exact (erf) GELU, as BERT/ELECTRA use it: y = x·Φ(x), Φ the standard normal CDF.
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
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
    parallel_for(
        0, x.numel(), cpu::elementwise_grain / 4, [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t i = begin; i < end; ++i)
            out[i] =
                static_cast<T>(0.5) * in[i] * (static_cast<T>(1) + std::erf(in[i] * inv_sqrt2));
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
    const T* in = x.data<T>();
    const T* grad_out = dy.data<T>();
    T* grad_in = dx.data<T>();
    const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
    const T inv_sqrt_2pi = static_cast<T>(1.0 / std::sqrt(2.0 * std::numbers::pi));
    parallel_for(
        0, x.numel(), cpu::elementwise_grain / 4, [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t i = begin; i < end; ++i) {
            const T v = in[i];
            const T cdf = static_cast<T>(0.5) * (static_cast<T>(1) + std::erf(v * inv_sqrt2));
            const T pdf = inv_sqrt_2pi * std::exp(static_cast<T>(-0.5) * v * v);
            grad_in[i] += grad_out[i] * (cdf + v * pdf);
          }
        });
  });
}

}  // namespace electra::kernels
