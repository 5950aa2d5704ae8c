// Row lookups on CUDA: embedding forward/backward and gather_rows.
//
// Ids are checked on the host (one small copy, a sync per call): an out-of-range id must throw
// naming the id, as on the CPU, and a device-side flag would need the same sync anyway.
// Embedding backward is deterministic without atomics: positions are grouped by id on the host
// (a stable counting sort of N ids, O(N + V)), then one block per (distinct id, column tile)
// sums that id's rows in position order, exactly the CPU's order of summation.
#include <algorithm>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

using detail::blocks_for;
using detail::f32;
using detail::threads_per_block;

// out [N, E] = table [V, E] rows at ids [N] (ids already validated).
__global__ void gather_rows_kernel(const float* table, const std::int32_t* ids, std::int64_t count,
                                   std::int64_t columns, float* out) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t position = i / columns, column = i % columns;
    out[i] = table[static_cast<std::int64_t>(ids[position]) * columns + column];
  }
}

// groups: [order (N positions sorted stably by id) | segment_start (U + 1) | segment_id (U)].
// Block (segment, column tile): dtable[id, column] += Σ_{positions of id, in order} dout[p,
// column].
__global__ void scatter_segments_kernel(const std::int32_t* order,
                                        const std::int32_t* segment_start,
                                        const std::int32_t* segment_id, const float* dout,
                                        std::int64_t columns, float* dtable) {
  const std::int64_t column = blockIdx.y * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (column >= columns) return;
  const std::int32_t segment = blockIdx.x;
  double total = 0;
  for (std::int32_t k = segment_start[segment]; k < segment_start[segment + 1]; ++k)
    total += dout[static_cast<std::int64_t>(order[k]) * columns + column];
  dtable[static_cast<std::int64_t>(segment_id[segment]) * columns + column] +=
      static_cast<float>(total);
}

// table [V, E] (any rank ≥ 2, as rows × columns), ids [N] → out [N, E]; embedding_forward and
// gather_rows are this lookup.
void lookup_rows(const char* kernel, const Tensor& table, const Tensor& ids, Tensor& out) {
  const std::int64_t count = ids.numel(), columns = table.shape().cols();
  if (count == 0) return;
  detail::ids_on_host(kernel, ids, table.shape().rows());
  gather_rows_kernel<<<blocks_for(count * columns), threads_per_block>>>(
      f32(table), detail::i32(ids), count * columns, columns, f32(out));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace

namespace detail {

std::vector<std::int32_t> ids_on_host(const char* kernel, const Tensor& ids, std::int64_t rows) {
  std::vector<std::int32_t> host(static_cast<std::size_t>(ids.numel()));
  if (host.empty()) return host;
  ELECTRA_CUDA_CHECK(cudaMemcpy(host.data(), ids.raw(), ids.nbytes(), cudaMemcpyDeviceToHost));
  for (std::size_t position = 0; position < host.size(); ++position)
    check(host[position] >= 0 && host[position] < rows, kernel, ": id ", host[position],
          " at position ", position, " is out of range for a table of ", rows, " rows");
  return host;
}

}  // namespace detail

void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out) {
  lookup_rows("embedding_forward", table, ids, out);
}

void gather_rows(const Tensor& x, const Tensor& index, Tensor& out) {
  lookup_rows("gather_rows", x, index, out);
}

void embedding_backward_accumulate(const Tensor& ids, const Tensor& dout, Tensor& dtable) {
  const char* kernel = "embedding_backward_accumulate";
  const std::int64_t vocabulary = dtable.dim(0), columns = dtable.dim(1);
  const std::int64_t count = ids.numel();
  const std::vector<std::int32_t> host_ids = detail::ids_on_host(kernel, ids, vocabulary);
  if (count == 0) return;

  // Stable counting sort of positions by id; segments are the distinct ids in increasing order.
  std::vector<std::int32_t> start(static_cast<std::size_t>(vocabulary) + 1, 0);
  for (std::int32_t id : host_ids) ++start[static_cast<std::size_t>(id) + 1];
  for (std::int64_t v = 0; v < vocabulary; ++v) start[v + 1] += start[v];
  std::vector<std::int32_t> groups(static_cast<std::size_t>(count));
  std::vector<std::int32_t> cursor(start.begin(), start.end() - 1);
  for (std::int64_t position = 0; position < count; ++position)
    groups[cursor[host_ids[position]]++] = static_cast<std::int32_t>(position);
  std::vector<std::int32_t> segment_start, segment_id;
  for (std::int64_t v = 0; v < vocabulary; ++v) {
    if (start[v + 1] == start[v]) continue;
    segment_start.push_back(start[v]);
    segment_id.push_back(static_cast<std::int32_t>(v));
  }
  const auto segments = static_cast<std::int64_t>(segment_id.size());
  segment_start.push_back(static_cast<std::int32_t>(count));
  groups.insert(groups.end(), segment_start.begin(), segment_start.end());
  groups.insert(groups.end(), segment_id.begin(), segment_id.end());
  const Tensor device_groups =
      Tensor::from_vector(groups, Shape{static_cast<std::int64_t>(groups.size())}).to(Device::cuda);
  const std::int32_t* order = detail::i32(device_groups);
  const dim3 grid(static_cast<unsigned>(segments),
                  static_cast<unsigned>((columns + threads_per_block - 1) / threads_per_block));
  scatter_segments_kernel<<<grid, threads_per_block>>>(
      order, order + count, order + count + segments + 1, f32(dout), columns, f32(dtable));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace electra::kernels::cuda
