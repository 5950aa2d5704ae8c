// Categorical sampling (engine/cpu/sampling.cpp, engine/cuda/sampling.cu): arguments checked
// once here, then the device's kernel runs.
#include <cmath>

#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

void sample_categorical(const Tensor& logits, double temperature, const RandomKey& key,
                        Tensor& out) {
  const char* kernel = "sample_categorical";
  const Device device = device_of(kernel, logits, out);
  check_float_input(kernel, logits);
  check(logits.rank() >= 2, kernel, ": logits must be [R, C], got ", logits.shape());
  check_dtype(kernel, out, DType::i32);
  const std::int64_t rows = logits.shape().rows(), classes = logits.shape().cols();
  check(out.numel() == rows, kernel, ": out expected [", rows, "] for logits ", logits.shape(),
        ", got ", out.shape());
  check(classes < cuda_int_limit, kernel, ": ", logits.shape(),
        " has too many classes for i32 ids");
  if (device == Device::cuda)
    check(rows < cuda_int_limit, kernel, ": ", logits.shape(), " is too large for one grid");
  check(temperature > 0 && std::isfinite(temperature), kernel,
        ": temperature must be positive and finite, got ", temperature);
  ELECTRA_DISPATCH(sample_categorical, device, (logits, temperature, key, out));
}

}  // namespace electra::kernels
