// Device queries that hide whether this build has the CUDA backend (see device.hpp).
#include "engine/device.hpp"

#include "engine/allocator.hpp"
#include "engine/threads.hpp"
#ifdef ELECTRA_HAS_CUDA
#include "engine/backends.hpp"
#include "engine/cuda/cuda_runtime.hpp"
#endif

namespace electra {
namespace {
constexpr const char* no_cuda_backend =
    "this build of electra has no CUDA backend (rebuild with nvcc available, ELECTRA_CUDA=AUTO or "
    "ON)";
}  // namespace

Device parse_device(const std::string& name, const std::string& what) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda") return Device::cuda;
  throw_error(what, ": expected cpu or cuda, got '", name, "'");
}

bool cuda_available(std::string* why_not) {
#ifdef ELECTRA_HAS_CUDA
  if (cuda::device_available()) return true;
  if (why_not) *why_not = cuda::device_description();
  return false;
#else
  if (why_not) *why_not = no_cuda_backend;
  return false;
#endif
}

void require_device(Device device, const std::string& what) {
  if (device == Device::cpu) return;
  std::string why_not;
  check(cuda_available(&why_not), what, " cuda: ", why_not);
}

std::string device_description(Device device) {
  if (device == Device::cpu) return "cpu: " + std::to_string(num_threads()) + " threads";
#ifdef ELECTRA_HAS_CUDA
  return "cuda: " + cuda::device_description();
#else
  return std::string("cuda: ") + no_cuda_backend;
#endif
}

void set_allow_tf32(bool allow) {
#ifdef ELECTRA_HAS_CUDA
  kernels::cuda::set_allow_tf32(allow);
#else
  check(!allow, "tf32: ", no_cuda_backend, "; TF32 applies to CUDA matrix products only");
#endif
}

bool allow_tf32() {
#ifdef ELECTRA_HAS_CUDA
  return kernels::cuda::allow_tf32();
#else
  return false;
#endif
}

void synchronize(Device device) {
  if (device == Device::cpu) return;
#ifdef ELECTRA_HAS_CUDA
  cuda::synchronize();
#else
  throw_error("synchronize cuda: ", no_cuda_backend);
#endif
}

DeviceMemory device_memory(Device device) {
  const AllocatorStats stats = allocator_for(device).stats();
  return {stats.bytes_in_use, stats.peak_bytes_in_use, stats.bytes_cached};
}

void reset_peak_device_memory(Device device) { allocator_for(device).reset_peak(); }

}  // namespace electra
