// The host side of the CUDA backend, checked in every build and on machines without a GPU (the
// GPU cases are in tests/cuda/): the host/device Philox mirror word for word against
// engine/philox.hpp, and the device probe answering with a reason instead of crashing.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "engine/cuda/philox_device.hpp"
#include "engine/device.hpp"
#include "engine/error.hpp"
#include "engine/philox.hpp"
#include "engine/tensor.hpp"

using namespace electra;

TEST_CASE("cuda philox mirror: equals the CPU Philox for words, uniforms and normals") {
  const std::uint64_t seeds[] = {0, 1, 0x123456789ABCDEF0ull, ~0ull};
  const std::uint32_t streams[] = {0, 7, 0xFFFFFFFFu};
  const std::uint64_t starts[] = {0, 3, (1ull << 32) - 2, (1ull << 40) + 1};
  int compared = 0;
  for (std::uint64_t seed : seeds)
    for (std::uint32_t stream : streams)
      for (std::uint64_t start : starts)
        for (std::uint64_t j = start; j < start + 9; ++j) {
          CAPTURE(seed);
          CAPTURE(stream);
          CAPTURE(j);
          const std::uint32_t word = philox::uniform_word(seed, stream, j);
          REQUIRE(philox_device::uniform_word(seed, stream, j) == word);
          CHECK(philox_device::uniform_from_word(word) == philox::uniform_from_word(word));
          CHECK(philox_device::open_uniform_from_word(word) ==
                philox::open_uniform_from_word(word));
          CHECK(philox_device::truncated_standard_normal(seed, stream, j, 2.0) ==
                philox::truncated_standard_normal(seed, stream, j, 2.0));
          ++compared;
        }
  CHECK(compared == 4 * 3 * 4 * 9);
  // The raw block function too, on a counter with every word set.
  const philox::Counter words = philox::philox4x32_10({1u, 2u, 3u, 4u}, {5u, 6u});
  const philox_device::Words mirrored = philox_device::philox4x32_10({{1u, 2u, 3u, 4u}}, 5u, 6u);
  for (int i = 0; i < 4; ++i) CHECK(mirrored.word[i] == words[i]);
}

// Without a GPU (no driver, no device, or no CUDA backend in this build) the probe names the
// missing piece and a cuda tensor is refused; with one it describes the device.
TEST_CASE("cuda probe: cuda_available answers either way and says why not") {
  std::string why_not;
  const bool available = cuda_available(&why_not);
  const std::string description = device_description(Device::cuda);
  MESSAGE(description);
  CHECK(description.rfind("cuda: ", 0) == 0);
  if (available) {
    CHECK(why_not.empty());
    CHECK(description.find("no usable CUDA device") == std::string::npos);
    return;
  }
#ifdef ELECTRA_HAS_CUDA
  CHECK(why_not.find("no usable CUDA device") != std::string::npos);
#else
  CHECK(why_not.find("no CUDA backend") != std::string::npos);
#endif
  CHECK(description == "cuda: " + why_not);
  CHECK_THROWS_AS(Tensor::empty(Shape{4}, DType::f32, Device::cuda), Error);
}
