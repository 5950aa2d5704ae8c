#pragma once
// Helpers shared by the CPU kernels (engine/cpu/*.cpp): the dispatch to the CUDA kernels for cuda
// tensors, dtype dispatch onto a scalar type, shape checks whose messages name the kernel and both
// shapes, and Eigen maps over raw tensor buffers. Header-only, internal to electra_engine.
#include <Eigen/Core>
#include <cstdint>
#include <utility>

#include "engine/cuda/kernels_cuda.hpp"  // declarations only: compiles without CUDA headers
#include "engine/dispatch/dispatch.hpp"
#include "engine/error.hpp"
#include "engine/tensor.hpp"

namespace electra::kernels::cpu {

// Elements per task for memory-bound loops: big enough that a task outweighs TBB's scheduling
// cost (~1 µs), small enough that a [128·128, 256] activation splits over every core.
constexpr std::int64_t elementwise_grain = 16384;
// Reductions sum fixed chunks of this many elements, each serially in double, then add the chunk
// sums in chunk order: the result is bit-identical for any thread count.
constexpr std::int64_t reduction_chunk = 16384;

// ---------------------------------------------------------------- device dispatch
using kernels::cuda_backend_built;
// True when the call's tensors are on cuda (see dispatch::device_of, which also tells the call
// observer).
template <typename... Tensors>
bool on_cuda(const char* kernel, const Tensors&... tensors) {
  return dispatch::device_of(kernel, tensors...) == Device::cuda;
}

}  // namespace electra::kernels::cpu

// The one-line dispatch at the top of every public CPU kernel, e.g.
//   ELECTRA_CUDA_DISPATCH(gelu_forward, (x, y), x, y);
// returns electra::cuda_kernels::gelu_forward(x, y) when x and y live on cuda. The arguments
// after the call's are the tensors whose device decides. `if constexpr` keeps the CUDA call
// type-checked in every build but only referenced (linked) in a build that has the CUDA kernels.
#define ELECTRA_CUDA_DISPATCH(kernel_name, call_arguments, ...)      \
  if (::electra::kernels::cpu::on_cuda(#kernel_name, __VA_ARGS__)) { \
    if constexpr (::electra::kernels::cpu::cuda_backend_built)       \
      return ::electra::cuda_kernels::kernel_name call_arguments;    \
  }                                                                  \
  static_assert(true, "ELECTRA_CUDA_DISPATCH is used as a statement")

namespace electra::kernels::cpu {

// A defined tensor with at least one element.
inline void require_nonempty(const char* kernel, const Tensor& tensor) {
  ELECTRA_CHECK(tensor.defined(), kernel, ": undefined tensor");
  ELECTRA_CHECK(tensor.numel() > 0, kernel, ": empty tensor ", tensor.describe());
}

inline void require_float(const char* kernel, const Tensor& tensor) {
  ELECTRA_CHECK(tensor.dtype() == DType::f32 || tensor.dtype() == DType::f64, kernel,
        ": expected an f32 or f64 tensor, got ", tensor.describe());
}

// Same shape and same dtype; the message names the kernel and both tensors.
inline void require_same(const char* kernel, const Tensor& a, const Tensor& b) {
  ELECTRA_CHECK(a.shape() == b.shape(), kernel, ": shape mismatch ", a.shape().str(), " vs ",
        b.shape().str());
  ELECTRA_CHECK(a.dtype() == b.dtype(), kernel, ": dtype mismatch ", a.describe(), " vs ", b.describe());
}

// Same number of elements (shapes may differ) and same dtype.
inline void require_same_numel(const char* kernel, const Tensor& a, const Tensor& b) {
  ELECTRA_CHECK(a.numel() == b.numel(), kernel, ": element count mismatch ", a.shape().str(), " vs ",
        b.shape().str());
  ELECTRA_CHECK(a.dtype() == b.dtype(), kernel, ": dtype mismatch ", a.describe(), " vs ", b.describe());
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
