// What the op table (op_table_cuda_test.cpp) does not compare: the CUDA runtime's copies and
// caching allocator, and the errors CUDA calls give for input the CPU would refuse too (f64 and
// host tensors, ids and targets out of range), found on the device.
#include "engine/cuda/cuda_runtime.hpp"

#include <doctest/doctest.h>

#include <cstdint>

#include "engine/allocator.hpp"
#include "engine/kernels.hpp"
#include "helpers/random_tensors.hpp"

using namespace electra;
using namespace electra::test;

TEST_CASE("cuda runtime: copies round-trip and the allocator reuses blocks") {
  const Tensor host = random_tensor(Shape{33, 17}, 81, -1, 1, DType::f32);
  const Tensor back = host.to(Device::cuda).clone().to(Device::cpu);
  CHECK(back.to_vector() == host.to_vector());
  CachingAllocator& allocator = cuda::device_allocator();
  { Tensor warm = Tensor::empty(Shape{1000, 37}, DType::f32, Device::cuda); }
  const std::size_t before = allocator.stats().system_allocations;
  for (int i = 0; i < 10; ++i)
    Tensor again = Tensor::empty(Shape{1000, 37}, DType::f32, Device::cuda);
  CHECK(allocator.stats().system_allocations == before);
  cuda::synchronize();
}

TEST_CASE("cuda kernels: f64 and host tensors are refused with a message") {
  const Tensor f64_gpu = Tensor::zeros(Shape{4, 5}, DType::f64, Device::cuda);
  Tensor out = Tensor::zeros(Shape{4, 5}, DType::f64, Device::cuda);
  CHECK_THROWS_WITH_AS(kernels::gelu_forward(f64_gpu, out), doctest::Contains("f32 only"), Error);
  Tensor cpu_out = Tensor::zeros(Shape{4, 5});
  CHECK_THROWS_WITH_AS(
      kernels::scale(Tensor::zeros(Shape{4, 5}, DType::f32, Device::cuda), 2.0, cpu_out),
      doctest::Contains("tensors on different devices"), Error);
}

TEST_CASE("cuda kernels: an id or a target out of range is named with its position") {
  const Tensor table = random_tensor(Shape{50, 13}, 91, -1, 1, DType::f32).to(Device::cuda);
  Tensor bad_ids = random_ids(Shape{7, 9}, 50, 92);
  bad_ids.data<std::int32_t>()[4] = 50;
  Tensor out = Tensor::empty(Shape{7, 9, 13}, DType::f32, Device::cuda);
  CHECK_THROWS_WITH_AS(kernels::embedding_forward(table, bad_ids.to(Device::cuda), out),
                       doctest::Contains("id 50 at position 4"), Error);

  const Tensor logits = random_tensor(Shape{43, 301}, 111, -30, 30, DType::f32).to(Device::cuda);
  Tensor bad_targets = random_ids(Shape{43}, 301, 112);
  bad_targets.data<std::int32_t>()[2] = 301;
  const Tensor weights = Tensor::full(Shape{43}, 1.0, DType::f32).to(Device::cuda);
  Tensor probs = Tensor::empty(Shape{43, 301}, DType::f32, Device::cuda);
  CHECK_THROWS_WITH_AS(
      kernels::cross_entropy_forward(logits, bad_targets.to(Device::cuda), weights, probs),
      doctest::Contains("target 301 at row 2"), Error);
}
