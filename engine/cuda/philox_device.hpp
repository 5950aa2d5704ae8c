#pragma once
// Philox4x32-10 and electra's mapping from (seed, stream, element index) to a draw, written once
// for both host and device code: the CUDA kernels call it on the GPU, and the engine tests call
// it on the host to prove it equals engine/philox.hpp word for word (the CPU reference, whose
// header comment documents the mapping mirrored here). Plain C++ when not compiled by nvcc.
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define ELECTRA_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define ELECTRA_HOST_DEVICE inline
#endif

namespace electra::philox_device {

struct Words {
  std::uint32_t word[4];
};

// Ten rounds: multiply two words by the round constants, mix the high halves with the other two
// words and the round key, move the low halves over; the key gets its Weyl increment between
// rounds (the Random123 schedule, as engine/philox.cpp).
ELECTRA_HOST_DEVICE Words philox4x32_10(Words counter, std::uint32_t key_0, std::uint32_t key_1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key_0 += 0x9E3779B9u;
      key_1 += 0xBB67AE85u;
    }
    const std::uint64_t product_0 = static_cast<std::uint64_t>(0xD2511F53u) * counter.word[0];
    const std::uint64_t product_1 = static_cast<std::uint64_t>(0xCD9E8D57u) * counter.word[2];
    const auto high_0 = static_cast<std::uint32_t>(product_0 >> 32);
    const auto low_0 = static_cast<std::uint32_t>(product_0);
    const auto high_1 = static_cast<std::uint32_t>(product_1 >> 32);
    const auto low_1 = static_cast<std::uint32_t>(product_1);
    counter =
        Words{{high_1 ^ counter.word[1] ^ key_0, low_1, high_0 ^ counter.word[3] ^ key_1, low_0}};
  }
  return counter;
}

// The 32-bit word of element index j: block j / 4 under counter {block, stream, 0}, word j % 4.
ELECTRA_HOST_DEVICE std::uint32_t uniform_word(std::uint64_t seed, std::uint32_t stream,
                                               std::uint64_t j) {
  const std::uint64_t block = j >> 2;
  const Words words =
      philox4x32_10(Words{{static_cast<std::uint32_t>(block),
                           static_cast<std::uint32_t>(block >> 32), stream, 0}},
                    static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  return words.word[j & 3];
}

// [0, 1) with 24 bits, and (0, 1) shifted by half a step: exact in f32 and f64.
ELECTRA_HOST_DEVICE double uniform_from_word(std::uint32_t word) {
  return static_cast<double>(word >> 8) * (1.0 / 16777216.0);
}
ELECTRA_HOST_DEVICE double open_uniform_from_word(std::uint32_t word) {
  return (static_cast<double>(word >> 8) + 0.5) * (1.0 / 16777216.0);
}

// Standard normal of element index j truncated to [−limit, limit] by resampling: attempt a uses
// counter {low32(j), high32(j), stream, 0x80000000 | a}, two Box–Muller candidates per block.
// Returns NaN if 64 attempts fail (probability ~0.046¹²⁸: a broken generator, not bad luck);
// the caller turns that into an error.
ELECTRA_HOST_DEVICE double truncated_standard_normal(std::uint64_t seed, std::uint32_t stream,
                                                     std::uint64_t j, double limit) {
  constexpr double two_to_minus_32 = 1.0 / 4294967296.0;
  constexpr double pi = 3.141592653589793238462643383279502884;
  for (std::uint32_t attempt = 0; attempt < 64; ++attempt) {
    const Words words =
        philox4x32_10(Words{{static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(j >> 32),
                             stream, 0x80000000u | attempt}},
                      static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
    for (int pair = 0; pair < 2; ++pair) {
      const double u1 = (words.word[2 * pair] + 0.5) * two_to_minus_32;
      const double u2 = words.word[2 * pair + 1] * two_to_minus_32;
      const double z = sqrt(-2.0 * log(u1)) * cos(2.0 * pi * u2);
      if (fabs(z) <= limit) return z;
    }
  }
  return NAN;
}

}  // namespace electra::philox_device
