#pragma once
// Helpers shared by the CPU kernels (engine/cpu/*.cpp): the device check, dtype dispatch onto a
// scalar type, shape checks whose messages name the kernel and both shapes, and Eigen maps over
// raw tensor buffers. Header-only, internal to electra_engine.
#include <Eigen/Core>
#include <cstdint>
#include <utility>

#include "engine/error.hpp"
#include "engine/tensor.hpp"

namespace electra::kernels::cpu {

// Elements per task for memory-bound loops: big enough that a task outweighs TBB's scheduling
// cost (~1 µs), small enough that a [128·128, 256] activation splits over every core.
constexpr std::int64_t elementwise_grain = 16384;
// Reductions sum fixed chunks of this many elements, each serially in double, then add the chunk
// sums in chunk order: the result is bit-identical for any thread count.
constexpr std::int64_t reduction_chunk = 16384;

// The CUDA backend is a separate implementation of the same table; a cuda tensor reaching a CPU
// kernel is a dispatch bug or a build without CUDA kernels, never silently copied.
inline void require_cpu(const char* kernel, const Tensor& tensor) {
  if (tensor.defined() && tensor.device() != Device::cpu)
    throw_error(kernel, ": tensor ", tensor.describe(),
                " is on cuda, but this kernel has no CUDA implementation in this build");
}
template <typename... Tensors>
void require_cpu(const char* kernel, const Tensor& first, const Tensors&... rest) {
  require_cpu(kernel, first);
  (require_cpu(kernel, rest), ...);
}

// A defined tensor with at least one element.
inline void require_nonempty(const char* kernel, const Tensor& tensor) {
  check(tensor.defined(), kernel, ": undefined tensor");
  check(tensor.numel() > 0, kernel, ": empty tensor ", tensor.describe());
}

inline void require_float(const char* kernel, const Tensor& tensor) {
  check(tensor.dtype() == DType::f32 || tensor.dtype() == DType::f64, kernel,
        ": expected an f32 or f64 tensor, got ", tensor.describe());
}

// Same shape and same dtype; the message names the kernel and both tensors.
inline void require_same(const char* kernel, const Tensor& a, const Tensor& b) {
  check(a.shape() == b.shape(), kernel, ": shape mismatch ", a.shape().str(), " vs ",
        b.shape().str());
  check(a.dtype() == b.dtype(), kernel, ": dtype mismatch ", a.describe(), " vs ", b.describe());
}

// Same number of elements (shapes may differ) and same dtype.
inline void require_same_numel(const char* kernel, const Tensor& a, const Tensor& b) {
  check(a.numel() == b.numel(), kernel, ": element count mismatch ", a.shape().str(), " vs ",
        b.shape().str());
  check(a.dtype() == b.dtype(), kernel, ": dtype mismatch ", a.describe(), " vs ", b.describe());
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
