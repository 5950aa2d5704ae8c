#pragma once
// What every public kernel (engine/dispatch/*.cpp) does before it computes: find the one device
// of its tensors (telling the call observer), then call the cpu:: or cuda:: kernel of the same
// name. Internal to electra_engine.
#include <cstdint>

#include "engine/backends.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "engine/tensor.hpp"

namespace electra::kernels::dispatch {

// kernels::set_call_observer's pointer: one test per kernel call while it is null.
inline CallObserver observer = nullptr;

// The device of a call: that of its defined tensors (undefined optional tensors are skipped;
// cpu when none is defined). On cuda, no tensor may be f64. Tensors are never moved silently: a mix
// of devices throws naming the kernel and both tensors, and a cuda tensor in a build without the
// CUDA kernels throws saying so.
template <typename... Tensors>
Device device_of(const char* kernel, const Tensors&... tensors) {
  const Tensor* first_defined = nullptr;
  const auto visit = [&](const Tensor& tensor) {
    if (!tensor.defined()) return;
    if (first_defined == nullptr) {
      first_defined = &tensor;
      return;
    }
    check(tensor.device() == first_defined->device(), kernel,
          ": tensors on different devices: ", *first_defined, " and ", tensor,
          " (move them to one device with .to(Device) first)");
  };
  (visit(tensors), ...);
  const Device device = first_defined == nullptr ? Device::cpu : first_defined->device();
  if (device == Device::cuda) {
    check(cuda_backend_built, kernel, ": tensor ", *first_defined,
          " is on cuda, but this build of electra has no CUDA backend (rebuild where nvcc exists)");
    // f64 exists for gradcheck on the CPU only; i32 ids and labels are fine.
    const auto computes_in_f32 = [&](const Tensor& tensor) {
      check(!tensor.defined() || tensor.dtype() != DType::f64, kernel,
            ": the CUDA backend computes in f32 only, got ", tensor, " (f64 is for CPU gradcheck)");
    };
    (computes_in_f32(tensors), ...);
  }
  if (observer != nullptr) observer(kernel, device);
  return device;
}

// ---------------------------------------------------------------- argument checks
// The checks the kernels share, in the engine's one vocabulary: check(condition, parts...)
// (engine/error.hpp), whose parts are taken by reference and formatted only on failure, so a
// Tensor or Shape is passed as itself (it prints its description), never as a built string.

// A defined tensor with at least one element.
inline void check_nonempty_input(const char* kernel, const Tensor& tensor) {
  check(tensor.defined(), kernel, ": undefined tensor");
  check(tensor.numel() > 0, kernel, ": empty tensor ", tensor);
}

inline void check_float(const char* kernel, const Tensor& tensor) {
  check(tensor.dtype() == DType::f32 || tensor.dtype() == DType::f64, kernel,
        ": expected an f32 or f64 tensor, got ", tensor);
}

// Non-empty and f32 or f64.
inline void check_float_input(const char* kernel, const Tensor& tensor) {
  check_nonempty_input(kernel, tensor);
  check_float(kernel, tensor);
}

// Same shape and same dtype; the message names the kernel and both tensors.
inline void check_same(const char* kernel, const Tensor& a, const Tensor& b) {
  check(a.shape() == b.shape(), kernel, ": shape mismatch ", a.shape(), " vs ", b.shape());
  check(a.dtype() == b.dtype(), kernel, ": dtype mismatch ", a, " vs ", b);
}

// Same number of elements (shapes may differ) and same dtype.
inline void check_same_numel(const char* kernel, const Tensor& a, const Tensor& b) {
  check(a.numel() == b.numel(), kernel, ": element count mismatch ", a.shape(), " vs ", b.shape());
  check(a.dtype() == b.dtype(), kernel, ": dtype mismatch ", a, " vs ", b);
}

// The CUDA kernels launch grids and call cuBLAS with 32-bit sizes.
constexpr std::int64_t cuda_int_limit = 2147483647;

}  // namespace electra::kernels::dispatch

// The last statement of every public kernel, e.g. ELECTRA_DISPATCH(gelu_forward, device, (x, y));
// returns cuda::gelu_forward(x, y) on cuda, cpu::gelu_forward(x, y) otherwise. `if constexpr`
// keeps the CUDA call type-checked in every build but only referenced (linked) in a build that
// has the CUDA kernels.
#define ELECTRA_DISPATCH(kernel_name, device, call_arguments)        \
  do {                                                               \
    if constexpr (::electra::kernels::cuda_backend_built) {          \
      if ((device) == ::electra::Device::cuda)                       \
        return ::electra::kernels::cuda::kernel_name call_arguments; \
    }                                                                \
    return ::electra::kernels::cpu::kernel_name call_arguments;      \
  } while (false)
