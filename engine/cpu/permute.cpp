// [A, B, C, D] → [A, C, B, D]: attention heads between the sequence axis and their own, for
// split_heads/merge_heads.
#include <cstring>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

template <bool accumulate>
void permute_0213_impl(const char* kernel, const Tensor& x, Tensor& out) {
  const std::int64_t a_size = x.dim(0), b_size = x.dim(1), c_size = x.dim(2), d_size = x.dim(3);
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

void cpu::permute_0213(const Tensor& x, Tensor& out) {
  permute_0213_impl<false>("permute_0213", x, out);
}

void cpu::permute_0213_accumulate(const Tensor& x, Tensor& out) {
  permute_0213_impl<true>("permute_0213_accumulate", x, out);
}

}  // namespace electra::kernels
