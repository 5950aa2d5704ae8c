#pragma once
// What every public kernel (engine/dispatch/*.cpp) does before it computes: find the one device
// of its tensors (telling the call observer), then call the cpu:: or cuda:: kernel of the same
// name. Internal to electra_engine.
#include "engine/backends.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "engine/tensor.hpp"

namespace electra::kernels::dispatch {

// kernels::set_call_observer's pointer: one test per kernel call while it is null.
inline CallObserver observer = nullptr;

// The device of a call: that of its defined tensors (undefined optional tensors are skipped;
// cpu when none is defined). Tensors are never moved silently: a mix of devices throws naming
// the kernel and both tensors, and a cuda tensor in a build without the CUDA kernels throws
// saying so.
template <typename... Tensors>
Device device_of(const char* kernel, const Tensors&... tensors) {
  const Tensor* first_defined = nullptr;
  const auto visit = [&](const Tensor& tensor) {
    if (!tensor.defined()) return;
    if (first_defined == nullptr) {
      first_defined = &tensor;
      return;
    }
    check(tensor.device() == first_defined->device(), kernel, ": tensors on different devices: ",
          *first_defined, " and ", tensor, " (move them to one device with .to(Device) first)");
  };
  (visit(tensors), ...);
  const Device device = first_defined == nullptr ? Device::cpu : first_defined->device();
  if (device == Device::cuda)
    check(cuda_backend_built, kernel, ": tensor ", *first_defined,
          " is on cuda, but this build of electra has no CUDA backend (rebuild where nvcc exists)");
  if (observer != nullptr) observer(kernel, device);
  return device;
}

}  // namespace electra::kernels::dispatch

// The last statement of every public kernel, e.g. ELECTRA_DISPATCH(gelu_forward, device, (x, y));
// returns cuda::gelu_forward(x, y) on cuda, cpu::gelu_forward(x, y) otherwise. `if constexpr`
// keeps the CUDA call type-checked in every build but only referenced (linked) in a build that
// has the CUDA kernels.
#define ELECTRA_DISPATCH(kernel_name, device, call_arguments)                 \
  do {                                                                        \
    if constexpr (::electra::kernels::cuda_backend_built) {                   \
      if ((device) == ::electra::Device::cuda)                                \
        return ::electra::kernels::cuda::kernel_name call_arguments;          \
    }                                                                         \
    return ::electra::kernels::cpu::kernel_name call_arguments;               \
  } while (false)
