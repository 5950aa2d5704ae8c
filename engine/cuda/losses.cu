// Weighted cross-entropy and sigmoid BCE with logits on CUDA, normalised as the official ELECTRA
// code: Σ w·loss / (Σ w + 1e-6). Per-row (per-element) losses go to a double buffer and are
// summed by the deterministic device reduction; the arithmetic mirrors engine/cpu/losses.cpp.
// Targets are checked where the kernels read them, without copying them to the host: a row
// whose target is outside [0, C) raises a device flag (rows − row, by integer atomicMax, so the
// first such row wins; 0 = none), and the host reads that one int after the launch and throws
// naming the row and the target, as the CPU does. (The CPU checks before it writes; here the
// outputs of the failing call are written before the error is raised.)
#include <cmath>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

using detail::blocks_for;
using detail::f32;
using detail::threads_per_block;

constexpr double weight_floor = 1e-6;  // the official code's "+ 1e-6"

// Records row as out of range in the flag (see the top).
__device__ void flag_bad_target(int* bad_target, std::int64_t rows, std::int64_t row) {
  atomicMax(bad_target, static_cast<int>(rows - row));
}

// One block per row of logits [R, C]: probs = softmax, row_loss[r] = w_r · (lse − logit[target]).
__global__ void cross_entropy_forward_kernel(const float* logits, const std::int32_t* targets,
                                             const float* weights, std::int64_t columns,
                                             float* probs, double* row_loss, int* bad_target) {
  __shared__ float float_scratch[threads_per_block];
  __shared__ double double_scratch[threads_per_block];
  const std::int64_t row = blockIdx.x;
  const float* in = logits + row * columns;
  float* out = probs + row * columns;
  float maximum = -INFINITY;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) maximum = fmaxf(maximum, in[c]);
  maximum = detail::block_reduce(maximum, detail::MaxOp{}, float_scratch);
  double total = 0;
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
    const double shifted = exp(static_cast<double>(in[c]) - maximum);
    out[c] = static_cast<float>(shifted);
    total += shifted;
  }
  total = detail::block_reduce(total, detail::AddOp{}, double_scratch);
  const float inverse = static_cast<float>(1.0 / total);
  for (std::int64_t c = threadIdx.x; c < columns; c += blockDim.x) out[c] *= inverse;
  if (threadIdx.x == 0) {
    const std::int32_t target = targets[row];
    if (target < 0 || target >= columns) {
      flag_bad_target(bad_target, gridDim.x, row);
      row_loss[row] = 0;
      return;
    }
    const double log_sum_exp = maximum + log(total);
    row_loss[row] = static_cast<double>(weights[row]) * (log_sum_exp - in[target]);
  }
}

// dlogits += factor · w_r · (probs − onehot(target)), factor = dloss / (Σw + 1e-6).
__global__ void cross_entropy_backward_kernel(const float* probs, const std::int32_t* targets,
                                              const float* weights, double factor,
                                              std::int64_t count, std::int64_t columns,
                                              float* dlogits, int* bad_target) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t row = i / columns;
    // A bad target subtracts from no column; the row's first element reports it.
    if (i % columns == 0 && (targets[row] < 0 || targets[row] >= columns))
      flag_bad_target(bad_target, count / columns, row);
    const auto row_factor = static_cast<float>(factor * weights[row]);
    if (row_factor == 0.0f) continue;
    float grad = dlogits[i] + row_factor * probs[i];
    if (i % columns == targets[row]) grad -= row_factor;
    dlogits[i] = grad;
  }
}

// loss_i = w_i · (max(z,0) − z·y + log1p(e^−|z|)): never exponentiates a positive number.
__global__ void bce_forward_kernel(const float* logits, const float* labels, const float* weights,
                                   std::int64_t count, double* losses) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double z = logits[i];
    const double loss = fmax(z, 0.0) - z * labels[i] + log1p(exp(-fabs(z)));
    losses[i] = static_cast<double>(weights[i]) * loss;
  }
}

// σ(z) without overflow: e^−|z| is at most 1.
__device__ double stable_sigmoid(double z) {
  const double small = exp(-fabs(z));
  return z >= 0 ? 1.0 / (1.0 + small) : small / (1.0 + small);
}

// dlogits += factor · w_i · (σ(z_i) − y_i).
__global__ void bce_backward_kernel(const float* logits, const float* labels, const float* weights,
                                    double factor, std::int64_t count, float* dlogits) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dlogits[i] += static_cast<float>(factor * weights[i] * (stable_sigmoid(logits[i]) - labels[i]));
}

// The flag of the kernels above: one device int, 0 until a bad target is seen (cleared on the
// stream of the kernels, without a host round trip).
Tensor new_target_flag() {
  Tensor flag = Tensor::empty(Shape{1}, DType::i32, Device::cuda);
  ELECTRA_CUDA_CHECK(cudaMemsetAsync(flag.raw(), 0, sizeof(std::int32_t), 0));
  return flag;
}

// Reads the flag once (4 bytes, after the launch) and, when raised, the one bad target.
void throw_if_bad_target(const char* kernel, const Tensor& flag, const Tensor& targets,
                         std::int64_t classes) {
  std::int32_t raised = 0;
  ELECTRA_CUDA_CHECK(cudaMemcpy(&raised, flag.raw(), sizeof raised, cudaMemcpyDeviceToHost));
  if (raised == 0) return;
  const std::int64_t row = targets.numel() - raised;
  std::int32_t target = 0;
  ELECTRA_CUDA_CHECK(
      cudaMemcpy(&target, detail::i32(targets) + row, sizeof target, cudaMemcpyDeviceToHost));
  throw_error(kernel, ": target ", target, " at row ", row, " is out of range [0, ", classes, ")");
}

double weight_total(const Tensor& weights) {
  return detail::sum_on_device(f32(weights), weights.numel());
}

}  // namespace

double cross_entropy_forward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                             Tensor& probs) {
  const char* kernel = "cross_entropy_forward";
  const std::int64_t rows = logits.shape().rows(), columns = logits.shape().cols();
  Tensor row_loss = Tensor::empty(Shape{rows}, DType::f64, Device::cuda);
  const Tensor bad_target = new_target_flag();
  cross_entropy_forward_kernel<<<static_cast<unsigned>(rows), detail::threads_for_row(columns)>>>(
      f32(logits), detail::i32(targets), f32(weights), columns, f32(probs), row_loss.data<double>(),
      detail::i32(bad_target));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
  const double weighted = detail::sum_on_device(row_loss.data<double>(), rows);
  throw_if_bad_target(kernel, bad_target, targets, columns);
  return weighted / (weight_total(weights) + weight_floor);
}

void cross_entropy_backward_accumulate(const Tensor& probs, const Tensor& targets,
                                       const Tensor& weights, double dloss, Tensor& dlogits) {
  const char* kernel = "cross_entropy_backward_accumulate";
  const double factor = dloss / (weight_total(weights) + weight_floor);
  const Tensor bad_target = new_target_flag();
  cross_entropy_backward_kernel<<<blocks_for(probs.numel()), threads_per_block>>>(
      f32(probs), detail::i32(targets), f32(weights), factor, probs.numel(), probs.shape().cols(),
      f32(dlogits), detail::i32(bad_target));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
  throw_if_bad_target(kernel, bad_target, targets, probs.shape().cols());
}

double bce_with_logits_forward(const Tensor& logits, const Tensor& labels, const Tensor& weights) {
  const char* kernel = "bce_with_logits_forward";
  Tensor losses = Tensor::empty(Shape{logits.numel()}, DType::f64, Device::cuda);
  bce_forward_kernel<<<blocks_for(logits.numel()), threads_per_block>>>(
      f32(logits), f32(labels), f32(weights), logits.numel(), losses.data<double>());
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
  const double weighted = detail::sum_on_device(losses.data<double>(), logits.numel());
  return weighted / (weight_total(weights) + weight_floor);
}

void bce_with_logits_backward_accumulate(const Tensor& logits, const Tensor& labels,
                                         const Tensor& weights, double dloss, Tensor& dlogits) {
  const char* kernel = "bce_with_logits_backward_accumulate";
  const double factor = dloss / (weight_total(weights) + weight_floor);
  bce_backward_kernel<<<blocks_for(logits.numel()), threads_per_block>>>(
      f32(logits), f32(labels), f32(weights), factor, logits.numel(), f32(dlogits));
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
}

}  // namespace electra::kernels::cuda
