#pragma once
// Helpers shared by the CPU kernels (engine/cpu/*.cpp, which define the electra::kernels::cpu::
// functions of engine/backends.hpp): task sizes, dtype dispatch onto a scalar type and Eigen maps
// over raw tensor buffers. The kernels only compute: their public kernel (engine/dispatch/) has
// checked every argument. Header-only, internal to electra_engine.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <utility>

#include "engine/backends.hpp"
#include "engine/error.hpp"
#include "engine/tensor.hpp"

namespace electra::kernels::cpu {

// Elements per task for memory-bound loops: big enough that a task outweighs TBB's scheduling
// cost (~1 µs), small enough that a [128·128, 256] activation splits over every core.
constexpr std::int64_t elementwise_grain = 16384;
// Reductions sum fixed chunks of this many elements, each serially in double, then add the chunk
// sums in chunk order: the result is bit-identical for any thread count.
constexpr std::int64_t reduction_chunk = 16384;
// Rows per task for row-wise loops over [rows, columns]: about elementwise_grain elements each.
inline std::int64_t row_grain(std::int64_t columns) {
  return std::max<std::int64_t>(1, elementwise_grain / std::max<std::int64_t>(columns, 1));
}

// Calls body(T{}) with T = float or double according to dtype.
template <typename Body>
decltype(auto) dispatch_float(const char* kernel, const Tensor& tensor, Body&& body) {
  switch (tensor.dtype()) {
    case DType::f32:
      return std::forward<Body>(body)(float{});
    case DType::f64:
      return std::forward<Body>(body)(double{});
    case DType::i32:
      break;
  }
  throw_error(kernel, ": expected an f32 or f64 tensor, got ", tensor.describe());
}

template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// Element range [begin, end) of a tensor's buffer as an Eigen array.
template <typename T>
ArrayMap<T> array_map(const Tensor& tensor, std::int64_t begin, std::int64_t end) {
  return ArrayMap<T>(tensor.data<T>() + begin, end - begin);
}
template <typename T>
ConstArrayMap<T> const_array_map(const Tensor& tensor, std::int64_t begin, std::int64_t end) {
  return ConstArrayMap<T>(tensor.data<T>() + begin, end - begin);
}

}  // namespace electra::kernels::cpu
