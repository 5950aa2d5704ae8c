// Philox4x32-10 against the Random123 known-answer vectors, and the documented element mapping.
#include "engine/philox.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace electra::philox;

TEST_CASE("philox: Random123 known-answer vectors for philox4x32_10") {
  // kat_vectors of Random123: (counter, key) → output.
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) ==
        Counter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        Counter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        Counter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("philox: element j takes word j % 4 of block j / 4, keyed by the seed's halves") {
  const std::uint64_t seed = 0x0123456789abcdefULL;
  const std::uint32_t stream = 5;
  CHECK(key_from_seed(seed) == Key{0x89abcdef, 0x01234567});
  const std::uint64_t block = (std::uint64_t{1} << 32) + 3;  // exercises the counter's high word
  const Counter words = philox4x32_10({3, 1, stream, 0}, key_from_seed(seed));
  for (std::uint64_t word = 0; word < 4; ++word)
    CHECK(uniform_word(seed, stream, block * 4 + word) == words[word]);
  // Other streams and seeds give other words.
  CHECK(uniform_word(seed, stream + 1, block * 4) != words[0]);
  CHECK(uniform_word(seed + 1, stream, block * 4) != words[0]);
}

namespace {

// words[4·b + w] must be word w of block first_block + b, as the one-block rounds give it.
void check_consecutive(const char* path, const std::uint32_t* words, int blocks,
                       std::uint64_t first_block, const Key& key) {
  for (int b = 0; b < blocks; ++b) {
    const std::uint64_t block = first_block + static_cast<std::uint64_t>(b);
    const Counter expected = philox4x32_10(
        {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 9, 0}, key);
    CAPTURE(path);
    CAPTURE(block);
    for (int w = 0; w < 4; ++w) CHECK(words[4 * b + w] == expected[w]);
  }
}

}  // namespace

TEST_CASE(
    "philox: the SIMD rounds (SSE2 four lanes, AVX2 eight) give exactly the one-block rounds") {
  const Key key = key_from_seed(0xfeedface12345678ULL);
  // Starts just below 2³² blocks so that the lanes straddle the counter's high-word carry.
  for (const std::uint64_t first_block :
       {std::uint64_t{0}, std::uint64_t{7}, (std::uint64_t{1} << 32) - 5}) {
    std::uint32_t words[4 * 16];
    philox4x32_10_consecutive<4>(first_block, 9, key, words);  // what the kernels call
    check_consecutive("dispatched", words, 16, first_block, key);
    philox4x32_10_consecutive<3>(first_block, 9, key, words);  // odd quads: SSE2 only
    check_consecutive("dispatched, 3 quads", words, 12, first_block, key);
    philox4x32_10_consecutive_sse2<4>(first_block, 9, key, words);
    check_consecutive("sse2", words, 16, first_block, key);
#if defined(ELECTRA_PHILOX_AVX2)
    if (cpu_has_avx2()) {
      philox4x32_10_consecutive_avx2<2>(first_block, 9, key, words);
      check_consecutive("avx2", words, 16, first_block, key);
    } else {
      MESSAGE("this CPU has no AVX2: only the SSE2 rounds were checked");
    }
#endif
  }
}

TEST_CASE("philox: 32-bit words map to 24-bit uniforms in [0, 1) and (0, 1)") {
  CHECK(uniform_from_word(0) == 0.0);
  CHECK(uniform_from_word(0xffffffffu) == 1.0 - 0x1.0p-24);
  CHECK(uniform_from_word(0x80000000u) == 0.5);
  CHECK(open_uniform_from_word(0) == 0x1.0p-25);
  CHECK(open_uniform_from_word(0xffffffffu) == 1.0 - 0x1.0p-25);
  // Every value is exact in float, so f32 and f64 tensors hold the same numbers.
  const double u = uniform_from_word(0x9e3779b9u);
  CHECK(static_cast<double>(static_cast<float>(u)) == u);
}

TEST_CASE("philox: uniforms have the right moments and normals stay within the limit") {
  double sum = 0, sum_squares = 0;
  const int count = 200000;
  for (int j = 0; j < count; ++j) {
    const double u = uniform(42, 1, j);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sum_squares += u * u;
  }
  CHECK(sum / count == doctest::Approx(0.5).epsilon(0.01));
  CHECK(sum_squares / count == doctest::Approx(1.0 / 3).epsilon(0.01));
  double normal_sum = 0, normal_squares = 0;
  for (int j = 0; j < count; ++j) {
    const double z = truncated_standard_normal(42, 2, j, 2.0);
    REQUIRE(std::abs(z) <= 2.0);
    normal_sum += z;
    normal_squares += z * z;
  }
  CHECK(std::abs(normal_sum / count) < 0.01);
  // Variance of a standard normal truncated to ±2: 1 − 2·2·φ(2)/(Φ(2) − Φ(−2)) = 0.7737.
  CHECK(normal_squares / count == doctest::Approx(0.7737).epsilon(0.01));
  CHECK(truncated_standard_normal(42, 2, 17, 2.0) == truncated_standard_normal(42, 2, 17, 2.0));
}
