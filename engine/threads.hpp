#pragma once
// One owner of the cores: oneTBB. The thread count is a setting (default: all cores) for TBB's
// workers; OpenBLAS always runs single-threaded, and engine/cpu/gemm.cpp splits each product
// across the TBB workers itself. Two pools on the same cores (TBB's and OpenBLAS's, whose idle
// workers spin in sched_yield) cost ~10% of a training step in perf, and OpenBLAS's own split
// of the narrow generator products was 1.3-4x slower than two halves on two workers.
#include <cstddef>
#include <cstdint>
#include <functional>

namespace electra {

int hardware_threads();
// Sets the number of threads oneTBB may use (OpenBLAS stays at one); 0 means all cores.
void set_num_threads(int threads);
int num_threads();

// Splits [begin, end) into chunks of at least `grain` items over the TBB workers (serial when the
// range is small or one thread is set). body(chunk_begin, chunk_end).
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body);

// memcpy / memset to zero of host memory, split over the workers above 1 MiB: every host copy
// of the engine (Tensor::clone and to(), kernels::copy on cpu) goes through parallel_memcpy.
void parallel_memcpy(void* destination, const void* source, std::size_t bytes);
void parallel_memset_zero(void* destination, std::size_t bytes);

}  // namespace electra
