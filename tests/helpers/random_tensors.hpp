#pragma once
// Reproducible random inputs for the tests: uniform values and ids from a seed. Engine-level only
// (no autograd), so the engine tests can use it too. The values are drawn in f64 and then
// converted, so one seed gives the same numbers (rounded) in every dtype.
#include <cstdint>
#include <random>
#include <vector>

#include "engine/tensor.hpp"

namespace electra::test {

// Entries uniform in [low, high), drawn in order from mt19937_64(seed), in `dtype`.
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, double low = -1.0,
                            double high = 1.0, DType dtype = DType::f64) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  Tensor tensor = Tensor::empty(shape, DType::f64);
  for (std::int64_t i = 0; i < tensor.numel(); ++i)
    tensor.data<double>()[i] = distribution(generator);
  return dtype == DType::f64 ? tensor : tensor.to(dtype);
}

// i32 ids uniform in [0, limit), reproducible from seed.
inline Tensor random_ids(const Shape& shape, std::int32_t limit, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_int_distribution<std::int32_t> distribution(0, limit - 1);
  std::vector<std::int32_t> values(static_cast<std::size_t>(shape.numel()));
  for (std::int32_t& value : values) value = distribution(generator);
  return Tensor::from_vector(values, shape);
}

}  // namespace electra::test
