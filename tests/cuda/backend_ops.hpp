#pragma once
// Helpers of the CUDA-vs-CPU kernel tests (backend_ops_*_test.cpp), in the spirit of ggml's
// test-backend-ops: random inputs run through electra::kernels on the CPU and through
// electra::cuda_kernels on the GPU, outputs compared by normalised MSE (≤ 1e-7 in f32), NaN/Inf
// in a CUDA output fail outright, and sentinel bytes in the allocation slack past the last
// element catch writes beyond the end. Overwriting kernels get NaN-filled outputs, so an element
// a kernel forgot to write fails too. Like everything in tests/cuda/, built only with the CUDA
// backend, and run only where a GPU is visible (test_main.cpp reports the file skipped otherwise).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/allocator.hpp"
#include "engine/cuda/cuda_runtime.hpp"
#include "engine/cuda/kernels_cuda.hpp"
#include "engine/kernels.hpp"

namespace electra::backend_ops_test {

inline constexpr double f32_tolerance = 1e-7;  // normalised MSE, as ggml's test-backend-ops
inline constexpr unsigned char sentinel = 0xA5;

inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, double low = -1.0,
                            double high = 1.0) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  std::vector<float> values(static_cast<std::size_t>(shape.numel()));
  for (float& value : values) value = static_cast<float>(distribution(generator));
  return Tensor::from_vector(values, shape);
}

inline Tensor random_ids(const Shape& shape, std::int32_t limit, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_int_distribution<std::int32_t> distribution(0, limit - 1);
  std::vector<std::int32_t> values(static_cast<std::size_t>(shape.numel()));
  for (std::int32_t& value : values) value = distribution(generator);
  return Tensor::from_vector(values, shape);
}

// Bytes between the end of the tensor's elements and the end of its allocation block.
inline std::size_t slack_bytes(const Tensor& tensor) {
  return CachingAllocator::round_size(tensor.nbytes()) - tensor.nbytes();
}

// A cuda copy of `initial` whose allocation slack holds sentinel bytes.
inline Tensor guarded(const Tensor& initial) {
  Tensor device = initial.to(Device::cuda);
  const std::vector<unsigned char> fill(slack_bytes(device), sentinel);
  if (!fill.empty())
    cuda::copy_bytes(static_cast<char*>(device.raw()) + device.nbytes(), Device::cuda, fill.data(),
                     Device::cpu, fill.size());
  return device;
}

// An output for an overwriting kernel: NaN everywhere, so unwritten elements fail the compare.
inline Tensor guarded_nan(const Shape& shape) {
  return guarded(Tensor::full(shape, std::nan(""), DType::f32));
}

inline void check_guard(const char* what, const Tensor& device) {
  const std::size_t size = slack_bytes(device);
  if (size == 0) return;
  std::string slack(size, '\0');
  cuda::copy_bytes(slack.data(), Device::cpu, static_cast<const char*>(device.raw()) + device.nbytes(),
                   Device::cuda, slack.size());
  std::size_t overwritten = 0;
  for (char byte : slack) overwritten += static_cast<unsigned char>(byte) != sentinel;
  INFO(what << ": " << overwritten << " of " << slack.size() << " sentinel bytes past the end");
  CHECK(overwritten == 0);
}

// Σ(actual − expected)² / Σ expected² (plain squared error when the expected values are all 0).
inline double normalised_mse(const std::vector<double>& expected,
                             const std::vector<double>& actual) {
  double error = 0, norm = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return norm > 0 ? error / norm : error;
}

inline void expect_match(const char* what, const Tensor& cpu_result, const Tensor& cuda_result,
                         double tolerance = f32_tolerance) {
  REQUIRE(cuda_result.device() == Device::cuda);
  REQUIRE(cpu_result.shape() == cuda_result.shape());
  check_guard(what, cuda_result);
  const std::vector<double> expected = cpu_result.to_vector();
  const std::vector<double> actual = cuda_result.to_vector();
  std::size_t non_finite = 0;
  for (double value : actual) non_finite += !std::isfinite(value);
  INFO(what << ": " << non_finite << " NaN/Inf of " << actual.size() << " CUDA values");
  REQUIRE(non_finite == 0);
  const double error = normalised_mse(expected, actual);
  INFO(what << ": normalised MSE " << error << " (tolerance " << tolerance << ")");
  CHECK(error <= tolerance);
}

inline void expect_scalar_match(const char* what, double cpu_value, double cuda_value,
                                double tolerance = f32_tolerance) {
  INFO(what << ": cpu " << cpu_value << ", cuda " << cuda_value);
  REQUIRE(std::isfinite(cuda_value));
  CHECK(normalised_mse({cpu_value}, {cuda_value}) <= tolerance);
}

// Element-for-element equality (ids, dropout masks, uniform draws).
inline void expect_identical(const char* what, const Tensor& cpu_result, const Tensor& cuda_result) {
  REQUIRE(cpu_result.shape() == cuda_result.shape());
  check_guard(what, cuda_result);
  const std::vector<double> expected = cpu_result.to_vector();
  const std::vector<double> actual = cuda_result.to_vector();
  std::size_t differing = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) differing += expected[i] != actual[i];
  INFO(what << ": " << differing << " of " << expected.size() << " elements differ");
  CHECK(differing == 0);
}

}  // namespace electra::backend_ops_test
