// The softmax family (engine/cpu/softmax.cpp, engine/cuda/softmax.cu): arguments checked once
// here, then the device's kernel runs.
#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

namespace {
// x [rows, C] and a tensor of its shape and dtype.
void check_rows(const char* kernel, Device device, const Tensor& x, const Tensor& other) {
  check_float_input(kernel, x);
  check(x.rank() >= 1, kernel, ": expected a tensor of rank ≥ 1, got ", x);
  check_same(kernel, x, other);
  if (device == Device::cuda)
    check(x.shape().rows() < cuda_int_limit, kernel, ": too many rows for one grid: ", x);
}
}  // namespace

void softmax_forward(const Tensor& x, const Tensor& mask, std::int64_t rows_per_mask_row,
                     Tensor& y) {
  const char* kernel = "softmax_forward";
  const Device device = device_of(kernel, x, mask, y);
  check_rows(kernel, device, x, y);
  if (mask.defined()) {
    check(mask.dtype() == x.dtype(), kernel, ": mask ", mask, " must have the dtype of x ", x);
    check(mask.numel() > 0 && mask.shape().cols() == x.shape().cols(), kernel, ": mask ",
          mask.shape(), " must have ", x.shape().cols(), " columns like x ", x.shape());
    check(rows_per_mask_row >= 1, kernel, ": rows_per_mask_row must be ≥ 1, got ",
          rows_per_mask_row);
    check(x.shape().rows() % rows_per_mask_row == 0 &&
              (x.shape().rows() / rows_per_mask_row) % mask.shape().rows() == 0,
          kernel, ": x ", x.shape(), " rows are not a whole number of mask ", mask.shape(),
          " rows × rows_per_mask_row ", rows_per_mask_row);
  }
  ELECTRA_DISPATCH(softmax_forward, device, (x, mask, rows_per_mask_row, y));
}

void softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const char* kernel = "softmax_backward_accumulate";
  const Device device = device_of(kernel, y, dy, dx);
  check_rows(kernel, device, y, dy);
  check_same(kernel, y, dx);
  ELECTRA_DISPATCH(softmax_backward_accumulate, device, (y, dy, dx));
}

void log_softmax_forward(const Tensor& x, Tensor& y) {
  const char* kernel = "log_softmax_forward";
  const Device device = device_of(kernel, x, y);
  check_rows(kernel, device, x, y);
  ELECTRA_DISPATCH(log_softmax_forward, device, (x, y));
}

void log_softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const char* kernel = "log_softmax_backward_accumulate";
  const Device device = device_of(kernel, y, dy, dx);
  check_rows(kernel, device, y, dy);
  check_same(kernel, y, dx);
  ELECTRA_DISPATCH(log_softmax_backward_accumulate, device, (y, dy, dx));
}

}  // namespace electra::kernels
