// Deterministic reductions: the buffer is cut into fixed chunks of cpu::reduction_chunk elements
// (independent of the thread count), each chunk is reduced serially in double, and the chunk
// results are combined in chunk order. Same input → bit-identical result on 1 or N threads.
#include <cmath>
#include <limits>
#include <vector>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

// Reduces [0, count) chunk by chunk: partial[c] = chunk_body(begin, end), in parallel.
template <typename Partial, typename ChunkBody>
std::vector<Partial> chunk_partials(std::int64_t count, const ChunkBody& chunk_body) {
  const std::int64_t chunks = (count + cpu::reduction_chunk - 1) / cpu::reduction_chunk;
  std::vector<Partial> partials(chunks);
  parallel_for(0, chunks, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t c = first; c < last; ++c) {
      const std::int64_t begin = c * cpu::reduction_chunk;
      partials[c] = chunk_body(begin, std::min(count, begin + cpu::reduction_chunk));
    }
  });
  return partials;
}

double add_in_order(const std::vector<double>& partials) {
  double total = 0;
  for (double partial : partials) total += partial;
  return total;
}

}  // namespace

double cpu::sum(const Tensor& x) {
  return cpu::dispatch_float("sum", x, [&](auto zero) {
    using T = decltype(zero);
    return add_in_order(
        chunk_partials<double>(x.numel(), [&](std::int64_t begin, std::int64_t end) {
          return cpu::const_array_map<T>(x, begin, end).template cast<double>().sum();
        }));
  });
}

double cpu::dot(const Tensor& a, const Tensor& b) {
  return cpu::dispatch_float("dot", a, [&](auto zero) {
    using T = decltype(zero);
    return add_in_order(
        chunk_partials<double>(a.numel(), [&](std::int64_t begin, std::int64_t end) {
          return (cpu::const_array_map<T>(a, begin, end).template cast<double>() *
                  cpu::const_array_map<T>(b, begin, end).template cast<double>())
              .sum();
        }));
  });
}

double cpu::squared_norm(const Tensor& x) {
  return cpu::dispatch_float("squared_norm", x, [&](auto zero) {
    using T = decltype(zero);
    return add_in_order(
        chunk_partials<double>(x.numel(), [&](std::int64_t begin, std::int64_t end) {
          return cpu::const_array_map<T>(x, begin, end).template cast<double>().square().sum();
        }));
  });
}

// min, max, mean and abs_max are over the finite elements (NaN/Inf are counted instead, so one
// NaN does not hide the range of the rest); all zero when no element is finite.
TensorStats cpu::stats(const Tensor& x) {
  struct Partial {
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    double sum = 0, abs_max = 0;
    std::int64_t finite = 0, nan = 0, inf = 0;
  };
  const std::vector<Partial> partials = cpu::dispatch_float("stats", x, [&](auto zero) {
    using T = decltype(zero);
    const T* data = x.data<T>();
    return chunk_partials<Partial>(x.numel(), [&](std::int64_t begin, std::int64_t end) {
      Partial p;
      for (std::int64_t i = begin; i < end; ++i) {
        const double v = data[i];
        if (std::isnan(v)) {
          ++p.nan;
          continue;
        }
        if (std::isinf(v)) {
          ++p.inf;
          continue;
        }
        ++p.finite;
        p.sum += v;
        p.min = std::min(p.min, v);
        p.max = std::max(p.max, v);
        p.abs_max = std::max(p.abs_max, std::abs(v));
      }
      return p;
    });
  });
  Partial total;
  for (const Partial& p : partials) {
    total.min = std::min(total.min, p.min);
    total.max = std::max(total.max, p.max);
    total.abs_max = std::max(total.abs_max, p.abs_max);
    total.sum += p.sum;
    total.finite += p.finite;
    total.nan += p.nan;
    total.inf += p.inf;
  }
  TensorStats result;
  result.nan_count = total.nan;
  result.inf_count = total.inf;
  if (total.finite > 0) {
    result.min = total.min;
    result.max = total.max;
    result.abs_max = total.abs_max;
    result.mean = total.sum / static_cast<double>(total.finite);
  }
  return result;
}

bool cpu::all_finite(const Tensor& x) {
  const std::vector<char> finite = cpu::dispatch_float("all_finite", x, [&](auto zero) {
    using T = decltype(zero);
    return chunk_partials<char>(x.numel(), [&](std::int64_t begin, std::int64_t end) {
      return static_cast<char>(cpu::const_array_map<T>(x, begin, end).isFinite().all());
    });
  });
  for (char chunk_finite : finite)
    if (!chunk_finite) return false;
  return true;
}

}  // namespace electra::kernels
