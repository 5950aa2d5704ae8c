// Row lookups (embeddings, gathering masked positions) and their scatter-add backward.
#include <algorithm>
#include <cstring>

#include "engine/cpu/cpu_common.hpp"
#include "engine/kernels.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

// Every id must index a row of a table with `rows` rows; names the first bad id and the size.
void check_ids(const char* kernel, const Tensor& ids, std::int64_t rows) {
  cpu::require_nonempty(kernel, ids);
  check_dtype(kernel, ids, DType::i32);
  const std::int32_t* id = ids.data<std::int32_t>();
  for (std::int64_t i = 0; i < ids.numel(); ++i)
    ELECTRA_CHECK(id[i] >= 0 && id[i] < rows, kernel, ": id ", id[i], " at position ", i,
          " is out of range for a table of ", rows, " rows");
}

// out [N, E] = table [V, E] rows at ids (N elements).
void lookup_rows(const char* kernel, const Tensor& table, const Tensor& ids, Tensor& out) {
  cpu::require_nonempty(kernel, table);
  cpu::require_float(kernel, table);
  const std::int64_t rows = table.shape().rows(), width = table.shape().cols();
  check_ids(kernel, ids, rows);
  ELECTRA_CHECK(out.shape().rows() == ids.numel() && out.shape().cols() == width && out.rank() >= 2, kernel,
        ": out expected [", ids.numel(), ", ", width, "] for ids ", ids.shape().str(),
        " and table ", table.shape().str(), ", got ", out.shape().str());
  ELECTRA_CHECK(out.dtype() == table.dtype(), kernel, ": dtype mismatch table ", table.describe(),
        " vs out ", out.describe());
  const std::int32_t* id = ids.data<std::int32_t>();
  const std::size_t row_bytes = width * dtype_size(table.dtype());
  const auto* source = static_cast<const char*>(table.raw());
  auto* destination = static_cast<char*>(out.raw());
  const std::int64_t grain = std::max<std::int64_t>(1, cpu::elementwise_grain / width);
  parallel_for(0, ids.numel(), grain, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t n = first; n < last; ++n)
      std::memcpy(destination + n * row_bytes, source + id[n] * row_bytes, row_bytes);
  });
}

}  // namespace

void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(embedding_forward, (table, ids, out), table, ids, out);
  ELECTRA_CHECK(table.rank() == 2, "embedding_forward: table must be [V, E], got ", table.shape().str());
  lookup_rows("embedding_forward", table, ids, out);
}

void gather_rows(const Tensor& x, const Tensor& index, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(gather_rows, (x, index, out), x, index, out);
  ELECTRA_CHECK(x.rank() >= 2, "gather_rows: x must have rank ≥ 2 (rows × columns), got ", x.shape().str());
  lookup_rows("gather_rows", x, index, out);
}

// dtable [V, E] += dout [N, E] scattered by ids. Threads own blocks of embedding columns and
// walk the positions in order, so each entry receives its contributions in position order
// whatever the thread count: bit-identical results, no atomics, no per-thread copies of dtable.
void embedding_backward_accumulate(const Tensor& ids, const Tensor& dout, Tensor& dtable) {
  ELECTRA_CUDA_DISPATCH(embedding_backward_accumulate, (ids, dout, dtable), ids, dout, dtable);
  const char* kernel = "embedding_backward_accumulate";
  cpu::require_nonempty(kernel, dtable);
  cpu::require_float(kernel, dtable);
  ELECTRA_CHECK(dtable.rank() == 2, kernel, ": dtable must be [V, E], got ", dtable.shape().str());
  const std::int64_t rows = dtable.dim(0), width = dtable.dim(1);
  check_ids(kernel, ids, rows);
  ELECTRA_CHECK(dout.shape().rows() == ids.numel() && dout.shape().cols() == width && dout.rank() >= 2,
        kernel, ": dout expected [", ids.numel(), ", ", width, "] for ids ", ids.shape().str(),
        " and dtable ", dtable.shape().str(), ", got ", dout.shape().str());
  ELECTRA_CHECK(dout.dtype() == dtable.dtype(), kernel, ": dtype mismatch dout ", dout.describe(),
        " vs dtable ", dtable.describe());
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
