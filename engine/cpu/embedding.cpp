// Row lookups (embeddings, gathering masked positions) and their scatter-add backward.
#include <algorithm>
#include <cstring>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

// out [N, E] = table [V, E] rows at ids (N elements).
void lookup_rows(const Tensor& table, const Tensor& ids, Tensor& out) {
  const std::int64_t width = table.shape().cols();
  const std::int32_t* id = ids.data<std::int32_t>();
  const std::size_t row_bytes = width * dtype_size(table.dtype());
  const auto* source = static_cast<const char*>(table.raw());
  auto* destination = static_cast<char*>(out.raw());
  const std::int64_t grain = cpu::row_grain(width);
  parallel_for(0, ids.numel(), grain, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t n = first; n < last; ++n)
      std::memcpy(destination + n * row_bytes, source + id[n] * row_bytes, row_bytes);
  });
}

}  // namespace

void cpu::embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out) {
  lookup_rows(table, ids, out);
}

void cpu::gather_rows(const Tensor& x, const Tensor& index, Tensor& out) {
  lookup_rows(x, index, out);
}

// dtable [V, E] += dout [N, E] scattered by ids. Threads own blocks of embedding columns and
// walk the positions in order, so each entry receives its contributions in position order
// whatever the thread count: bit-identical results, no atomics, no per-thread copies of dtable.
void cpu::embedding_backward_accumulate(const Tensor& ids, const Tensor& dout, Tensor& dtable) {
  const char* kernel = "embedding_backward_accumulate";
  const std::int64_t width = dtable.dim(1);
  cpu::dispatch_float(kernel, dtable, [&](auto zero) {
    using T = decltype(zero);
    const std::int32_t* id = ids.data<std::int32_t>();
    const T* gradient = dout.data<T>();
    T* table_gradient = dtable.data<T>();
    const std::int64_t positions = ids.numel();
    constexpr std::int64_t block = 16;  // columns per task: one cache line of f32
    const std::int64_t blocks = (width + block - 1) / block;
    // Few wide tasks (one column range per thread): each task walks all positions once.
    const std::int64_t grain =
        std::max<std::int64_t>({1, cpu::elementwise_grain / (positions * block),
                                (blocks + num_threads() - 1) / num_threads()});
    parallel_for(0, blocks, grain, [&](std::int64_t first, std::int64_t last) {
      const std::int64_t begin = first * block, end = std::min(width, last * block);
      for (std::int64_t n = 0; n < positions; ++n) {
        T* row = table_gradient + static_cast<std::int64_t>(id[n]) * width;
        const T* source = gradient + n * width;
        for (std::int64_t c = begin; c < end; ++c) row[c] += source[c];
      }
    });
  });
}

}  // namespace electra::kernels
