// Deterministic reductions. Pass 1: a grid whose size depends only on the element count; each
// thread folds a fixed grid-stride subset in double, each block reduces its threads with a fixed
// tree and writes one partial. Pass 2: one block reduces the partials the same way. No atomics,
// so the same input gives the same bits on every run.
#include <cmath>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
namespace {

using detail::threads_per_block;
constexpr unsigned max_partials = 1024;

// A Reducer has: Value, identity(), load(i) → Value, combine(Value, Value) → Value.
template <typename Reducer>
__global__ void reduce_partials_kernel(Reducer reducer, std::int64_t count,
                                       typename Reducer::Value* partials) {
  using Value = typename Reducer::Value;
  __shared__ Value scratch[threads_per_block];
  Value value = reducer.identity();
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += stride)
    value = reducer.combine(value, reducer.load(i));
  value = detail::block_reduce(
      value, [&](const Value& a, const Value& b) { return reducer.combine(a, b); }, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = value;
}

template <typename Reducer>
__global__ void reduce_final_kernel(Reducer reducer, const typename Reducer::Value* partials,
                                    unsigned partial_count, typename Reducer::Value* result) {
  using Value = typename Reducer::Value;
  __shared__ Value scratch[threads_per_block];
  Value value = reducer.identity();
  for (unsigned i = threadIdx.x; i < partial_count; i += blockDim.x)
    value = reducer.combine(value, partials[i]);
  value = detail::block_reduce(
      value, [&](const Value& a, const Value& b) { return reducer.combine(a, b); }, scratch);
  if (threadIdx.x == 0) *result = value;
}

// Runs both passes and copies the single result to the host (waits for the device).
template <typename Reducer>
typename Reducer::Value reduce_on_device(const Reducer& reducer, std::int64_t count,
                                         const char* kernel) {
  using Value = typename Reducer::Value;
  static_assert(sizeof(Value) % sizeof(float) == 0, "partials are carved from an f32 tensor");
  unsigned blocks = detail::blocks_for(count);
  if (blocks > max_partials) blocks = max_partials;
  // Scratch through the caching allocator: blocks partials + 1 result.
  const std::int64_t floats_per_value = sizeof(Value) / sizeof(float);
  Tensor scratch = Tensor::empty(Shape{(blocks + 1) * floats_per_value}, DType::f32, Device::cuda);
  auto* partials = static_cast<Value*>(scratch.raw());
  Value* result = partials + blocks;
  reduce_partials_kernel<<<blocks, threads_per_block>>>(reducer, count, partials);
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
  reduce_final_kernel<<<1, threads_per_block>>>(reducer, partials, blocks, result);
  ELECTRA_CUDA_CHECK_LAUNCH(kernel);
  Value host{};
  ELECTRA_CUDA_CHECK(cudaMemcpy(&host, result, sizeof(Value), cudaMemcpyDeviceToHost));
  return host;
}

template <typename T>
struct SumReducer {
  using Value = double;
  const T* x;
  __device__ Value identity() const { return 0.0; }
  __device__ Value load(std::int64_t i) const { return static_cast<double>(x[i]); }
  __device__ Value combine(Value a, Value b) const { return a + b; }
};

struct DotReducer {
  using Value = double;
  const float* a;
  const float* b;
  __device__ Value identity() const { return 0.0; }
  __device__ Value load(std::int64_t i) const {
    return static_cast<double>(a[i]) * static_cast<double>(b[i]);
  }
  __device__ Value combine(Value x, Value y) const { return x + y; }
};

struct SquaresReducer {
  using Value = double;
  const float* x;
  __device__ Value identity() const { return 0.0; }
  __device__ Value load(std::int64_t i) const {
    const double v = x[i];
    return v * v;
  }
  __device__ Value combine(Value a, Value b) const { return a + b; }
};

// min, max, sum and abs_max over the finite elements; NaN and Inf are counted instead (the CPU's
// definition). Counts are kept as doubles so the struct stays a multiple of 4 bytes and exact
// below 2⁵³ elements.
struct StatsValue {
  double min, max, sum, abs_max, finite, nan, inf;
};

struct StatsReducer {
  using Value = StatsValue;
  const float* x;
  __device__ Value identity() const { return {INFINITY, -INFINITY, 0.0, 0.0, 0.0, 0.0, 0.0}; }
  __device__ Value load(std::int64_t i) const {
    const double v = x[i];
    if (isnan(v)) return {INFINITY, -INFINITY, 0.0, 0.0, 0.0, 1.0, 0.0};
    if (isinf(v)) return {INFINITY, -INFINITY, 0.0, 0.0, 0.0, 0.0, 1.0};
    return {v, v, v, fabs(v), 1.0, 0.0, 0.0};
  }
  __device__ Value combine(const Value& a, const Value& b) const {
    return {fmin(a.min, b.min),  fmax(a.max, b.max), a.sum + b.sum, fmax(a.abs_max, b.abs_max),
            a.finite + b.finite, a.nan + b.nan,      a.inf + b.inf};
  }
};

// out [C] += Σ_chunk partials [chunks, C] in chunk order; one thread per column.
__global__ void add_column_partials_kernel(const double* partials, std::int64_t chunks,
                                           std::int64_t columns, float* out) {
  const std::int64_t column = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (column >= columns) return;
  double total = 0;
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk) total += partials[chunk * columns + column];
  out[column] += static_cast<float>(total);
}

}  // namespace

namespace detail {

double sum_on_device(const float* values, std::int64_t count) {
  return reduce_on_device(SumReducer<float>{values}, count, "sum");
}

double sum_on_device(const double* values, std::int64_t count) {
  return reduce_on_device(SumReducer<double>{values}, count, "sum");
}

void add_column_partials(const double* partials, std::int64_t chunks, std::int64_t columns,
                         float* out) {
  add_column_partials_kernel<<<blocks_for(columns), threads_per_block>>>(partials, chunks, columns,
                                                                         out);
  ELECTRA_CUDA_CHECK_LAUNCH("add_column_partials");
}

}  // namespace detail

double sum(const Tensor& x) { return detail::sum_on_device(detail::f32(x), x.numel()); }

double dot(const Tensor& a, const Tensor& b) {
  return reduce_on_device(DotReducer{detail::f32(a), detail::f32(b)}, a.numel(), "dot");
}

double squared_norm(const Tensor& x) {
  return reduce_on_device(SquaresReducer{detail::f32(x)}, x.numel(), "squared_norm");
}

TensorStats stats(const Tensor& x) {
  const StatsValue total = reduce_on_device(StatsReducer{detail::f32(x)}, x.numel(), "stats");
  TensorStats result;
  result.nan_count = static_cast<std::int64_t>(total.nan);
  result.inf_count = static_cast<std::int64_t>(total.inf);
  if (total.finite > 0) {
    result.min = total.min;
    result.max = total.max;
    result.abs_max = total.abs_max;
    result.mean = total.sum / total.finite;
  }
  return result;
}

bool all_finite(const Tensor& x) {
  const TensorStats counts = stats(x);
  return counts.nan_count == 0 && counts.inf_count == 0;
}

}  // namespace electra::kernels::cuda
