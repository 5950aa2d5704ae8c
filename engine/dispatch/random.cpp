// Philox draws and argmax (engine/cpu/random.cpp, engine/cuda/random.cu): arguments checked
// once here, then the device's kernel runs.
#include <cmath>

#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

void dropout(const Tensor& x, double drop_probability, const RandomKey& key, Tensor& y,
             bool accumulate) {
  const char* kernel = "dropout";
  const Device device = device_of(kernel, x, y);
  check_float_input(kernel, x);
  check_same(kernel, x, y);
  check(drop_probability >= 0 && drop_probability < 1, kernel,
        ": drop probability must be in [0, 1), got ", drop_probability);
  ELECTRA_DISPATCH(dropout, device, (x, drop_probability, key, y, accumulate));
}

void uniform(const RandomKey& key, Tensor& out) {
  const Device device = device_of("uniform", out);
  check_float_input("uniform", out);
  ELECTRA_DISPATCH(uniform, device, (key, out));
}

void truncated_normal(const RandomKey& key, double std, Tensor& out) {
  const Device device = device_of("truncated_normal", out);
  check_float_input("truncated_normal", out);
  check(std > 0 && std::isfinite(std), "truncated_normal: std must be positive and finite, got ",
        std);
  ELECTRA_DISPATCH(truncated_normal, device, (key, std, out));
}

void argmax_rows(const Tensor& x, Tensor& out) {
  const Device device = device_of("argmax_rows", x, out);
  check_float_input("argmax_rows", x);
  check_dtype("argmax_rows", out, DType::i32);
  const std::int64_t rows = x.shape().rows();
  check(out.numel() == rows, "argmax_rows: out expected [", rows, "] for x ", x.shape(), ", got ",
        out.shape());
  if (device == Device::cuda)
    check(rows < cuda_int_limit && x.shape().cols() < cuda_int_limit, "argmax_rows: ", x.shape(),
          " is too large for one grid / i32 classes");
  ELECTRA_DISPATCH(argmax_rows, device, (x, out));
}

}  // namespace electra::kernels
