#pragma once
// Device questions asked above the engine (models/, tools/), answered the same way in builds
// with and without the CUDA backend, so no caller includes engine/cuda headers or tests
// ELECTRA_HAS_CUDA itself.
#include <cstddef>
#include <string>

#include "engine/tensor.hpp"

namespace electra {

// "cpu" → Device::cpu, "cuda" → Device::cuda; anything else throws naming `what` (a flag or a
// config key) and the value.
Device parse_device(const std::string& name, const std::string& what);

// True when tensors can be made on cuda: the build has the CUDA backend and a GPU is visible.
// Otherwise false, and *why_not (when given) says which of the two is missing, in one line.
bool cuda_available(std::string* why_not = nullptr);
// Throws "<what> cuda: <reason>" when `device` is cuda and cuda_available() is false.
void require_device(Device device, const std::string& what);

// "cpu: 16 threads" / "cuda: NVIDIA H100 80GB HBM3, 79 GiB, compute 9.0" (or why there is none).
std::string device_description(Device device);

// TF32 tensor-core products in the CUDA gemms (10-bit mantissa inputs): off by default, so CUDA
// matches the CPU to f32 rounding. Switching it on needs the CUDA backend (throws without);
// switching it off always succeeds.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Waits until the device has finished all queued work (a no-op on cpu): timers around GPU work
// must stop after it, since kernel launches return before the kernels run.
void synchronize(Device device);

// The caching allocator's peak and current bytes on `device` since the last reset.
struct DeviceMemory {
  std::size_t bytes_in_use = 0;
  std::size_t peak_bytes_in_use = 0;
  std::size_t bytes_cached = 0;
};
DeviceMemory device_memory(Device device);
void reset_peak_device_memory(Device device);

}  // namespace electra
