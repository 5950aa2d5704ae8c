#pragma once
// Caching allocators: freed blocks go back to a per-size free list instead of to the system, so a
// training step in steady state makes no malloc/cudaMalloc calls at all.
#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include "engine/tensor.hpp"

namespace electra {

struct AllocatorStats {
  std::size_t bytes_in_use = 0;
  std::size_t peak_bytes_in_use = 0;
  std::size_t bytes_cached = 0;        // free blocks held for reuse
  std::size_t system_allocations = 0;  // calls that reached the system allocator
};

class CachingAllocator {
 public:
  using SystemAlloc = void* (*)(std::size_t bytes);
  using SystemFree = void (*)(void* pointer);
  CachingAllocator(SystemAlloc system_alloc, SystemFree system_free);
  ~CachingAllocator();

  void* allocate(std::size_t bytes);
  void release(void* pointer, std::size_t bytes);
  void empty_cache();  // give every cached block back to the system
  AllocatorStats stats() const;
  void reset_peak();

  // Requests are rounded up so that nearby sizes share a free list.
  static std::size_t round_size(std::size_t bytes);

 private:
  SystemAlloc system_alloc_;
  SystemFree system_free_;
  mutable std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_blocks_;
  AllocatorStats stats_;
};

CachingAllocator& allocator_for(Device device);

}  // namespace electra
