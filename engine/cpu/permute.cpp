// Moves of row blocks: [A, B, C, D] → [A, C, B, D] (attention heads between the sequence axis and
// their own, for split_heads/merge_heads) and the row-block copies of concat_rows.
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

// ---------------------------------------------------------------- row blocks of the first axis
namespace {

// Checks that `block` fills rows [first_row, first_row + block rows) of `whole` (same dtype, same
// elements per row) and returns the element offset of that block in `whole`.
std::int64_t row_block_offset(const char* kernel, const Tensor& whole, const Tensor& block,
                              std::int64_t first_row) {
  cpu::require_nonempty(kernel, whole);
  cpu::require_nonempty(kernel, block);
  cpu::require_float(kernel, whole);
  ELECTRA_CHECK(whole.dtype() == block.dtype(), kernel, ": dtype mismatch ", whole.describe(),
                " vs ", block.describe());
  ELECTRA_CHECK(whole.rank() >= 1 && block.rank() >= 1 &&
                    whole.numel() / whole.dim(0) == block.numel() / block.dim(0),
                kernel, ": rows of ", block.shape().str(), " and ", whole.shape().str(),
                " differ in size");
  ELECTRA_CHECK(first_row >= 0 && first_row + block.dim(0) <= whole.dim(0), kernel, ": rows [",
                first_row, ", ", first_row + block.dim(0), ") are outside ", whole.shape().str());
  return first_row * (whole.numel() / whole.dim(0));
}

}  // namespace

void copy_rows_into(const Tensor& source, Tensor& destination, std::int64_t first_row) {
  ELECTRA_CUDA_DISPATCH(copy_rows_into, (source, destination, first_row), source, destination);
  const std::int64_t offset = row_block_offset("copy_rows_into", destination, source, first_row);
  cpu::dispatch_float("copy_rows_into", source, [&](auto zero) {
    using T = decltype(zero);
    std::memcpy(destination.data<T>() + offset, source.data<T>(), source.numel() * sizeof(T));
  });
}

void rows_of_accumulate(const Tensor& source, std::int64_t first_row, Tensor& destination) {
  ELECTRA_CUDA_DISPATCH(rows_of_accumulate, (source, first_row, destination), source,
                        destination);
  const std::int64_t offset =
      row_block_offset("rows_of_accumulate", source, destination, first_row);
  cpu::dispatch_float("rows_of_accumulate", source, [&](auto zero) {
    using T = decltype(zero);
    const T* in = source.data<T>() + offset;
    T* out = destination.data<T>();
    parallel_for(0, destination.numel(), cpu::elementwise_grain,
                 [&](std::int64_t first, std::int64_t last) {
                   for (std::int64_t i = first; i < last; ++i) out[i] += in[i];
                 });
  });
}

}  // namespace electra::kernels
