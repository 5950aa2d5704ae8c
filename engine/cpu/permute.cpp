// [A, B, C, D] → [A, C, B, D]: moves attention heads between the sequence axis and their own.
#include <cstring>

#include "engine/cpu/cpu_common.hpp"
#include "engine/kernels.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

template <bool accumulate>
void permute_0213_impl(const char* kernel, const Tensor& x, Tensor& out) {
  cpu::require_nonempty(kernel, x);
  cpu::require_float(kernel, x);
  ELECTRA_CHECK(x.rank() == 4, kernel, ": x must be [A, B, C, D], got ", x.shape().str());
  const std::int64_t a_size = x.dim(0), b_size = x.dim(1), c_size = x.dim(2), d_size = x.dim(3);
  ELECTRA_CHECK((out.shape() == Shape{a_size, c_size, b_size, d_size}), kernel, ": out expected ",
        Shape{a_size, c_size, b_size, d_size}.str(), " for x ", x.shape().str(), ", got ",
        out.shape().str());
  ELECTRA_CHECK(out.dtype() == x.dtype(), kernel, ": dtype mismatch ", x.describe(), " vs ",
        out.describe());
  cpu::dispatch_float(kernel, x, [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T* result = out.data<T>();
    // One task unit = one output slab out[a, c, :, :] of B·D elements.
    const std::int64_t grain =
        std::max<std::int64_t>(1, cpu::elementwise_grain / (b_size * d_size));
    parallel_for(0, a_size * c_size, grain, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t slab = first; slab < last; ++slab) {
        const std::int64_t a = slab / c_size, c = slab % c_size;
        for (std::int64_t b = 0; b < b_size; ++b) {
          const T* source = in + ((a * b_size + b) * c_size + c) * d_size;
          T* destination = result + (slab * b_size + b) * d_size;
          if constexpr (accumulate) {
            for (std::int64_t d = 0; d < d_size; ++d) destination[d] += source[d];
          } else {
            std::memcpy(destination, source, d_size * sizeof(T));
          }
        }
      }
    });
  });
}

}  // namespace

void permute_0213(const Tensor& x, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(permute_0213, (x, out), x, out);
  permute_0213_impl<false>("permute_0213", x, out);
}

void permute_0213_accumulate(const Tensor& x, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(permute_0213_accumulate, (x, out), x, out);
  permute_0213_impl<true>("permute_0213_accumulate", x, out);
}

}  // namespace electra::kernels
