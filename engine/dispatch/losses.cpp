// The losses (engine/cpu/losses.cpp, engine/cuda/losses.cu): arguments checked once here, then
// the device's kernel runs. Whether every target names a class is a question about the targets'
// values, so the kernels answer it where they read them (on CUDA through one device flag).
#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

namespace {
// logits/probs [R, C], targets i32 [R], weights [R] of the logits' dtype.
void check_cross_entropy(const char* kernel, Device device, const Tensor& logits,
                         const Tensor& targets, const Tensor& weights) {
  check_float_input(kernel, logits);
  check(logits.rank() >= 2, kernel, ": expected logits [R, C], got ", logits);
  const std::int64_t rows = logits.shape().rows();
  check(targets.defined() && targets.dtype() == DType::i32, kernel, ": targets must be i32, got ",
        targets);
  check(targets.numel() == rows, kernel, ": targets ", targets.shape(), " must have ", rows,
        " elements, one per row of logits ", logits.shape());
  check(weights.defined() && weights.dtype() == logits.dtype(), kernel, ": weights ", weights,
        " must have the dtype of logits ", logits);
  check(weights.numel() == rows, kernel, ": weights ", weights.shape(), " must have ", rows,
        " elements, one per row of logits ", logits.shape());
  if (device == Device::cuda)
    check(rows < cuda_int_limit, kernel, ": too many rows for one grid: ", logits);
}

// logits, labels and weights: same shape, same float dtype.
void check_binary(const char* kernel, const Tensor& logits, const Tensor& labels,
                  const Tensor& weights) {
  check_float_input(kernel, logits);
  check(labels.defined() && weights.defined(), kernel, ": labels and weights must be defined");
  check_same(kernel, logits, labels);
  check_same(kernel, logits, weights);
}
}  // namespace

double cross_entropy_forward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                             Tensor& probs) {
  const char* kernel = "cross_entropy_forward";
  const Device device = device_of(kernel, logits, targets, weights, probs);
  check_cross_entropy(kernel, device, logits, targets, weights);
  check_same(kernel, logits, probs);
  ELECTRA_DISPATCH(cross_entropy_forward, device, (logits, targets, weights, probs));
}

void cross_entropy_backward_accumulate(const Tensor& probs, const Tensor& targets,
                                       const Tensor& weights, double dloss, Tensor& dlogits) {
  const char* kernel = "cross_entropy_backward_accumulate";
  const Device device = device_of(kernel, probs, targets, weights, dlogits);
  check_cross_entropy(kernel, device, probs, targets, weights);
  check_same(kernel, probs, dlogits);
  ELECTRA_DISPATCH(cross_entropy_backward_accumulate, device,
                   (probs, targets, weights, dloss, dlogits));
}

double bce_with_logits_forward(const Tensor& logits, const Tensor& labels, const Tensor& weights) {
  const char* kernel = "bce_with_logits_forward";
  const Device device = device_of(kernel, logits, labels, weights);
  check_binary(kernel, logits, labels, weights);
  ELECTRA_DISPATCH(bce_with_logits_forward, device, (logits, labels, weights));
}

void bce_with_logits_backward_accumulate(const Tensor& logits, const Tensor& labels,
                                         const Tensor& weights, double dloss, Tensor& dlogits) {
  const char* kernel = "bce_with_logits_backward_accumulate";
  const Device device = device_of(kernel, logits, labels, weights, dlogits);
  check_binary(kernel, logits, labels, weights);
  check_same(kernel, logits, dlogits);
  ELECTRA_DISPATCH(bce_with_logits_backward_accumulate, device,
                   (logits, labels, weights, dloss, dlogits));
}

}  // namespace electra::kernels
