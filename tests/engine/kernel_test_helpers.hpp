#pragma once
// Small helpers shared by the engine kernel tests.
#include <functional>
#include <random>
#include <string>

#include "engine/tensor.hpp"
#include "engine/threads.hpp"

namespace electra::testing {

// Uniform [low, high) f64 values, reproducible from seed.
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, double low = -1.0,
                            double high = 1.0) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  Tensor tensor = Tensor::empty(shape, DType::f64);
  for (std::int64_t i = 0; i < tensor.numel(); ++i)
    tensor.data<double>()[i] = distribution(generator);
  return tensor;
}

// The message of the electra::Error thrown by body, or "" when none is thrown.
inline std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs body once on one thread and once on two; restores the previous setting.
template <typename Result>
std::pair<Result, Result> on_one_and_two_threads(const std::function<Result()>& body) {
  const int previous = num_threads();
  set_num_threads(1);
  Result one = body();
  set_num_threads(2);
  Result two = body();
  set_num_threads(previous);
  return {one, two};
}

}  // namespace electra::testing
