#include "engine/allocator.hpp"

#include <cstdlib>
#include <new>

#ifdef ELECTRA_HAS_CUDA
#include "engine/cuda/cuda_runtime.hpp"
#endif

namespace electra {

CachingAllocator::CachingAllocator(SystemAlloc system_alloc, SystemFree system_free)
    : system_alloc_(system_alloc), system_free_(system_free) {}

CachingAllocator::~CachingAllocator() { empty_cache(); }

std::size_t CachingAllocator::round_size(std::size_t bytes) {
  // 64-byte granularity for small blocks; above 1 MiB round to 1/8 of the next power of two so
  // that activations of slightly different sizes (last batch, shorter run) still hit the cache.
  if (bytes == 0) bytes = 1;
  if (bytes <= (std::size_t{1} << 20)) return (bytes + 63) & ~std::size_t{63};
  std::size_t power = std::size_t{1} << 20;
  while (power < bytes) power <<= 1;
  const std::size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(std::size_t bytes) {
  const std::size_t size = round_size(bytes);
  std::lock_guard lock(mutex_);
  void* pointer = nullptr;
  auto cached = free_blocks_.find(size);
  if (cached != free_blocks_.end() && !cached->second.empty()) {
    pointer = cached->second.back();
    cached->second.pop_back();
    stats_.bytes_cached -= size;
  } else {
    pointer = system_alloc_(size);
    if (pointer == nullptr) {
      // Out of memory: free the cache and try once more before giving up.
      for (auto& [block_size, blocks] : free_blocks_)
        for (void* block : blocks) system_free_(block);
      free_blocks_.clear();
      stats_.bytes_cached = 0;
      pointer = system_alloc_(size);
      if (pointer == nullptr) throw_error("allocator: out of memory allocating ", size, " bytes");
    }
    ++stats_.system_allocations;
  }
  stats_.bytes_in_use += size;
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use)
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
  return pointer;
}

void CachingAllocator::release(void* pointer, std::size_t bytes) {
  if (pointer == nullptr) return;
  const std::size_t size = round_size(bytes);
  std::lock_guard lock(mutex_);
  free_blocks_[size].push_back(pointer);
  stats_.bytes_in_use -= size;
  stats_.bytes_cached += size;
}

void CachingAllocator::empty_cache() {
  std::lock_guard lock(mutex_);
  for (auto& [size, blocks] : free_blocks_)
    for (void* block : blocks) system_free_(block);
  free_blocks_.clear();
  stats_.bytes_cached = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

namespace {
// 64-byte alignment: a cache line, and enough for any SIMD load Eigen or OpenBLAS makes.
void* host_alloc(std::size_t bytes) { return std::aligned_alloc(64, bytes); }
void host_free(void* pointer) { std::free(pointer); }
}  // namespace

CachingAllocator& allocator_for(Device device) {
  if (device == Device::cpu) {
    // Deliberately leaked: tensors held by static objects may be released after main returns.
    static auto* cpu = new CachingAllocator(host_alloc, host_free);
    return *cpu;
  }
#ifdef ELECTRA_HAS_CUDA
  return cuda::device_allocator();
#else
  throw_error("device cuda: this build of electra has no CUDA backend (rebuild where nvcc exists)");
#endif
}

}  // namespace electra
