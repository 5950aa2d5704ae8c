#include "engine/tensor.hpp"

#include <doctest/doctest.h>

#include "engine/allocator.hpp"

using namespace electra;

TEST_CASE("shape: rank, numel, negative axes and rows") {
  Shape shape{4, 3, 2};
  CHECK(shape.rank() == 3);
  CHECK(shape.numel() == 24);
  CHECK(shape[-1] == 2);
  CHECK(shape.rows() == 12);
  CHECK(shape.str() == "[4, 3, 2]");
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5}), Error);
  CHECK_THROWS_AS(shape[3], Error);
}

TEST_CASE("tensor: reshape is a view, clone is a copy") {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor view = a.reshape(Shape{3, 2});
  view.data<float>()[0] = 10;
  CHECK(a.item(0) == 10);
  Tensor copy = a.clone();
  copy.data<float>()[1] = 20;
  CHECK(a.item(1) == 2);
  CHECK_THROWS_AS(a.reshape(Shape{4}), Error);
}

TEST_CASE("tensor: typed access refuses the wrong dtype") {
  Tensor a = Tensor::zeros(Shape{3}, DType::i32);
  CHECK_THROWS_AS(a.data<float>(), Error);
  CHECK(a.to(DType::f64).dtype() == DType::f64);
  CHECK(Tensor::full(Shape{2}, 1.5, DType::f64).to(DType::f32).item(1) == doctest::Approx(1.5));
}

TEST_CASE("allocator: freed blocks are reused, not returned to the system") {
  CachingAllocator& allocator = allocator_for(Device::cpu);
  { Tensor warm = Tensor::empty(Shape{1000, 37}); }
  const std::size_t before = allocator.stats().system_allocations;
  for (int i = 0; i < 10; ++i) {
    Tensor again = Tensor::empty(Shape{1000, 37});
    again.zero_();
  }
  CHECK(allocator.stats().system_allocations == before);
}
