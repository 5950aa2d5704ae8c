// Lookups by id (engine/cpu/embedding.cpp, engine/cuda/embedding.cu): arguments checked once
// here, then the device's kernel runs. Whether every id indexes a row is a question about the
// ids' values: checked here when they are in host memory, by the CUDA kernel (which copies them
// to the host anyway) when they are on the GPU.
#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

namespace {
// i32 ids, each indexing one of `rows` rows (the values only when they are on cpu); names the
// first bad id and the table size.
void check_ids(const char* kernel, Device device, const Tensor& ids, std::int64_t rows) {
  check_nonempty_input(kernel, ids);
  check_dtype(kernel, ids, DType::i32);
  if (device != Device::cpu) return;
  const std::int32_t* id = ids.data<std::int32_t>();
  for (std::int64_t i = 0; i < ids.numel(); ++i)
    check(id[i] >= 0 && id[i] < rows, kernel, ": id ", id[i], " at position ", i,
          " is out of range for a table of ", rows, " rows");
}

// out [N, E] = table [V, E] rows at ids (N elements).
void check_lookup(const char* kernel, Device device, const Tensor& table, const Tensor& ids,
                  const Tensor& out) {
  check_float_input(kernel, table);
  check_ids(kernel, device, ids, table.shape().rows());
  const std::int64_t width = table.shape().cols();
  check(out.shape().rows() == ids.numel() && out.shape().cols() == width && out.rank() >= 2, kernel,
        ": out expected [", ids.numel(), ", ", width, "] for ids ", ids.shape(), " and table ",
        table.shape(), ", got ", out.shape());
  check(out.dtype() == table.dtype(), kernel, ": dtype mismatch table ", table, " vs out ", out);
}
}  // namespace

void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out) {
  const Device device = device_of("embedding_forward", table, ids, out);
  check(table.rank() == 2, "embedding_forward: table must be [V, E], got ", table.shape());
  check_lookup("embedding_forward", device, table, ids, out);
  ELECTRA_DISPATCH(embedding_forward, device, (table, ids, out));
}

void gather_rows(const Tensor& x, const Tensor& index, Tensor& out) {
  const Device device = device_of("gather_rows", x, index, out);
  check(x.rank() >= 2, "gather_rows: x must have rank ≥ 2 (rows × columns), got ", x.shape());
  check_lookup("gather_rows", device, x, index, out);
  ELECTRA_DISPATCH(gather_rows, device, (x, index, out));
}

void embedding_backward_accumulate(const Tensor& ids, const Tensor& dout, Tensor& dtable) {
  const char* kernel = "embedding_backward_accumulate";
  const Device device = device_of(kernel, ids, dout, dtable);
  check_float_input(kernel, dtable);
  check(dtable.rank() == 2, kernel, ": dtable must be [V, E], got ", dtable.shape());
  check_ids(kernel, device, ids, dtable.dim(0));
  const std::int64_t width = dtable.dim(1);
  check(dout.shape().rows() == ids.numel() && dout.shape().cols() == width && dout.rank() >= 2,
        kernel, ": dout expected [", ids.numel(), ", ", width, "] for ids ", ids.shape(),
        " and dtable ", dtable.shape(), ", got ", dout.shape());
  check(dout.dtype() == dtable.dtype(), kernel, ": dtype mismatch dout ", dout, " vs dtable ",
        dtable);
  if (device == Device::cuda)
    check(ids.numel() < cuda_int_limit, kernel, ": too many ids for i32 positions: ", ids.numel());
  ELECTRA_DISPATCH(embedding_backward_accumulate, device, (ids, dout, dtable));
}

}  // namespace electra::kernels
