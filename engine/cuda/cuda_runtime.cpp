// The CUDA runtime pieces the engine calls into: device discovery, the caching device allocator
// and host↔device copies. Everything runs on the legacy default stream, so a block released to
// the cache and handed out again is only touched after the kernels that used it (stream order).
#include "engine/cuda/cuda_runtime.hpp"

#include <sstream>

#include "engine/cuda/cuda_check.hpp"

namespace electra::cuda {
namespace {

struct DeviceProbe {
  bool available = false;
  std::string description;
};

// Probed once: cudaGetDeviceCount fails cleanly (no driver, no device, driver too old) rather
// than crashing, and the reason is kept for device_description().
const DeviceProbe& probe() {
  static const DeviceProbe result = [] {
    DeviceProbe found;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      cudaGetLastError();  // reset the last-error state so later calls start clean
      found.description = std::string("no usable CUDA device: cudaGetDeviceCount failed: ") +
                          cudaGetErrorName(status) + ": " + cudaGetErrorString(status);
      return found;
    }
    if (count == 0) {
      found.description = "no usable CUDA device: cudaGetDeviceCount reports 0 devices";
      return found;
    }
    cudaDeviceProp properties{};
    const cudaError_t props_status = cudaGetDeviceProperties(&properties, 0);
    if (props_status != cudaSuccess) {
      cudaGetLastError();
      found.description = std::string("no usable CUDA device: cudaGetDeviceProperties failed: ") +
                          cudaGetErrorString(props_status);
      return found;
    }
    std::ostringstream text;
    text << properties.name << ", " << (properties.totalGlobalMem >> 30) << " GiB, compute "
         << properties.major << "." << properties.minor;
    if (count > 1) text << " (device 0 of " << count << ")";
    found.available = true;
    found.description = text.str();
    return found;
  }();
  return result;
}

// The allocator's system hooks must not throw: a failed cudaMalloc returns nullptr so that the
// CachingAllocator can empty its cache and retry before reporting out of memory.
void* device_alloc(std::size_t bytes) {
  void* pointer = nullptr;
  if (cudaMalloc(&pointer, bytes) != cudaSuccess) {
    cudaGetLastError();  // an out-of-memory error is not sticky; clear it for the retry
    return nullptr;
  }
  return pointer;
}

// Errors are ignored here: this runs from destructors, possibly while the runtime shuts down.
void device_free(void* pointer) { cudaFree(pointer); }

cudaMemcpyKind copy_kind(Device destination, Device source) {
  if (destination == Device::cuda)
    return source == Device::cuda ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice;
  return source == Device::cuda ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost;
}

}  // namespace

bool device_available() { return probe().available; }

std::string device_description() { return probe().description; }

CachingAllocator& device_allocator() {
  check(device_available(), "device cuda: ", device_description());
  // Deliberately leaked, like the CPU allocator: tensors held by static objects may be released
  // after main returns, and cudaFree after the runtime unloads must not run from a destructor.
  static auto* allocator = new CachingAllocator(device_alloc, device_free);
  return *allocator;
}

void copy_bytes(void* destination, Device destination_device, const void* source,
                Device source_device, std::size_t bytes) {
  if (bytes == 0) return;
  check(destination != nullptr && source != nullptr, "cuda::copy_bytes: null pointer for ", bytes,
        " bytes");
  // cudaMemcpy on the legacy default stream waits for the kernels queued before it and returns
  // when the copy is done, so the host may read or reuse its buffer at once.
  ELECTRA_CUDA_CHECK(
      cudaMemcpy(destination, source, bytes, copy_kind(destination_device, source_device)));
}

void synchronize() { ELECTRA_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace electra::cuda
