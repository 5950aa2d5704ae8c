#include "engine/threads.hpp"

#include <cblas.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/error.hpp"

extern "C" {
// OpenBLAS extensions (declared in its cblas.h for recent versions; repeated for older ones).
void openblas_set_num_threads(int num_threads);
}

namespace electra {
namespace {
int threads_in_use = 0;
std::unique_ptr<tbb::global_control> tbb_limit;
std::mutex settings_mutex;
}  // namespace

int hardware_threads() {
  const int count = tbb::info::default_concurrency();
  return count > 0 ? count : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void set_num_threads(int threads) {
  check(threads >= 0, "--threads: expected 0 (all cores) or a positive count, got ", threads);
  std::lock_guard lock(settings_mutex);
  threads_in_use = threads == 0 ? hardware_threads() : threads;
  tbb_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    threads_in_use);
  openblas_set_num_threads(1);
}

int num_threads() {
  if (threads_in_use == 0) set_num_threads(0);
  return threads_in_use;
}

void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (end <= begin) return;
  if (num_threads() == 1 || end - begin <= grain) {
    body(begin, end);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<std::int64_t>(begin, end, std::max<std::int64_t>(grain, 1)),
      [&](const tbb::blocked_range<std::int64_t>& range) { body(range.begin(), range.end()); });
}

// Large host copies and clears are split across the cores: gradient buffers are zeroed on the
// main thread between kernels, where one core alone measured ~2% of a training step.
namespace {
constexpr std::size_t parallel_bytes = std::size_t{1} << 20;
}  // namespace

void parallel_memcpy(void* destination, const void* source, std::size_t bytes) {
  if (bytes < parallel_bytes) {
    std::memcpy(destination, source, bytes);
    return;
  }
  parallel_for(0, static_cast<std::int64_t>(bytes), static_cast<std::int64_t>(parallel_bytes / 4),
               [&](std::int64_t begin, std::int64_t end) {
                 std::memcpy(static_cast<char*>(destination) + begin,
                             static_cast<const char*>(source) + begin,
                             static_cast<std::size_t>(end - begin));
               });
}

void parallel_memset_zero(void* destination, std::size_t bytes) {
  if (bytes < parallel_bytes) {
    std::memset(destination, 0, bytes);
    return;
  }
  parallel_for(0, static_cast<std::int64_t>(bytes), static_cast<std::int64_t>(parallel_bytes / 4),
               [&](std::int64_t begin, std::int64_t end) {
                 std::memset(static_cast<char*>(destination) + begin, 0,
                             static_cast<std::size_t>(end - begin));
               });
}

}  // namespace electra
