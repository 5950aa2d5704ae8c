#pragma once
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3", SC'11;
// the Random123 library): a counter-based generator. Each draw is a pure function of a 128-bit
// counter and a 64-bit key, so any element of any step can be drawn on any device, in any order.
//
// How electra maps a draw onto Philox (CPU and CUDA implement exactly this):
//   key     = { low 32 bits of seed, high 32 bits of seed }
//   element index j = RandomKey::counter + i      (i = flat element index in the tensor, 64-bit)
//   uniform words: block = j / 4, counter words = { low32(block), high32(block), stream, 0 },
//                  the element's 32-bit word is output word j % 4 of that block.
//   normal draws (truncated_normal): one block per element, counter words
//                  = { low32(j), high32(j), stream, 0x80000000 | attempt } (attempt = 0, 1, ...).
// 32-bit word w → uniform:
//   uniform_from_word(w)      = (w >> 8) · 2⁻²⁴                  in [0, 1), exact in f32 and f64
//   open_uniform_from_word(w) = ((w >> 8) + 0.5) · 2⁻²⁴          in (0, 1): safe for log(u)
// f32 and f64 tensors use the very same 24-bit values, so a dropout mask or a generator sample is
// identical whatever the dtype (gradcheck in f64 checks the mask the f32 model uses).
#include <array>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ELECTRA_PHILOX_AVX2 1
#endif

namespace electra::philox {

using Counter = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;

// Ten rounds of Philox4x32 on one 128-bit counter block.
Counter philox4x32_10(Counter counter, Key key);

constexpr std::uint32_t normal_domain = 0x80000000u;

// Round multipliers and Weyl key increments from the Random123 reference (philox.h).
inline constexpr std::uint32_t multiplier_0 = 0xD2511F53u;
inline constexpr std::uint32_t multiplier_1 = 0xCD9E8D57u;
inline constexpr std::uint32_t key_increment_0 = 0x9E3779B9u;  // golden ratio
inline constexpr std::uint32_t key_increment_1 = 0xBB67AE85u;  // √3 − 1

// The uniform-word blocks first_block, first_block + 1, ... of one stream, 4·quads at a time:
// words[4·b + w] = word w of block first_block + b, exactly philox4x32_10's output. With SSE2
// (every x86-64) four blocks go through the rounds side by side in 128-bit registers; one block
// at a time was the dropout and sampling kernels' main cost.
template <int quads>
inline void philox4x32_10_consecutive_sse2(std::uint64_t first_block, std::uint32_t stream, Key key,
                                           std::uint32_t* words) {
#if defined(__SSE2__)
  const __m128i low_lanes = _mm_set_epi32(0, -1, 0, -1);   // 32-bit lanes 0 and 2
  const __m128i high_lanes = _mm_set_epi32(-1, 0, -1, 0);  // 32-bit lanes 1 and 3
  // high and low 32 bits of the four products multiplier · a[lane].
  const auto multiply_high_low = [&](__m128i a, std::uint32_t multiplier, __m128i& high,
                                     __m128i& low) {
    const __m128i m = _mm_set1_epi32(static_cast<int>(multiplier));
    const __m128i even = _mm_mul_epu32(a, m);                     // lanes 0, 2 → 64-bit
    const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(a, 32), m);  // lanes 1, 3 → 64-bit
    high = _mm_or_si128(_mm_srli_epi64(even, 32), _mm_and_si128(odd, high_lanes));
    low = _mm_or_si128(_mm_and_si128(even, low_lanes), _mm_slli_epi64(odd, 32));
  };
  for (int q = 0; q < quads; ++q) {
    alignas(16) std::uint32_t block_low[4], block_high[4];
    for (int i = 0; i < 4; ++i) {
      const std::uint64_t block = first_block + static_cast<std::uint64_t>(4 * q + i);
      block_low[i] = static_cast<std::uint32_t>(block);
      block_high[i] = static_cast<std::uint32_t>(block >> 32);
    }
    __m128i c0 = _mm_load_si128(reinterpret_cast<const __m128i*>(block_low));
    __m128i c1 = _mm_load_si128(reinterpret_cast<const __m128i*>(block_high));
    __m128i c2 = _mm_set1_epi32(static_cast<int>(stream));
    __m128i c3 = _mm_setzero_si128();
    Key round_key = key;
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {  // the key schedule bumps the key between rounds, not before the first
        round_key[0] += key_increment_0;
        round_key[1] += key_increment_1;
      }
      __m128i high_0, low_0, high_1, low_1;
      multiply_high_low(c0, multiplier_0, high_0, low_0);
      multiply_high_low(c2, multiplier_1, high_1, low_1);
      c0 = _mm_xor_si128(_mm_xor_si128(high_1, c1), _mm_set1_epi32(static_cast<int>(round_key[0])));
      c1 = low_1;
      c2 = _mm_xor_si128(_mm_xor_si128(high_0, c3), _mm_set1_epi32(static_cast<int>(round_key[1])));
      c3 = low_0;
    }
    // Transpose the four lanes' (c0, c1, c2, c3) into four consecutive blocks of four words.
    const __m128i t0 = _mm_unpacklo_epi32(c0, c1), t1 = _mm_unpackhi_epi32(c0, c1);
    const __m128i t2 = _mm_unpacklo_epi32(c2, c3), t3 = _mm_unpackhi_epi32(c2, c3);
    __m128i* out = reinterpret_cast<__m128i*>(words + 16 * q);
    _mm_storeu_si128(out + 0, _mm_unpacklo_epi64(t0, t2));
    _mm_storeu_si128(out + 1, _mm_unpackhi_epi64(t0, t2));
    _mm_storeu_si128(out + 2, _mm_unpacklo_epi64(t1, t3));
    _mm_storeu_si128(out + 3, _mm_unpackhi_epi64(t1, t3));
  }
#else
  for (int b = 0; b < 4 * quads; ++b) {
    const std::uint64_t block = first_block + static_cast<std::uint64_t>(b);
    const Counter block_words = philox4x32_10(
        {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), stream, 0},
        key);
    for (int w = 0; w < 4; ++w) words[4 * b + w] = block_words[w];
  }
#endif
}

#if defined(ELECTRA_PHILOX_AVX2)
// The same rounds on eight blocks side by side in 256-bit registers, for CPUs with AVX2, chosen
// at run time (philox4x32_10_consecutive below): the build stays SSE2-only and runs anywhere,
// and integer rounds give the very same words on either path. Lambdas would not inherit the
// target attribute, hence the helper function.
__attribute__((target("avx2"), always_inline)) inline void multiply_high_low_avx2(
    __m256i a, std::uint32_t multiplier, __m256i& high, __m256i& low) {
  const __m256i low_lanes = _mm256_set_epi32(0, -1, 0, -1, 0, -1, 0, -1);   // even 32-bit lanes
  const __m256i high_lanes = _mm256_set_epi32(-1, 0, -1, 0, -1, 0, -1, 0);  // odd 32-bit lanes
  const __m256i m = _mm256_set1_epi32(static_cast<int>(multiplier));
  const __m256i even = _mm256_mul_epu32(a, m);                        // even lanes → 64-bit
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);  // odd lanes → 64-bit
  high = _mm256_or_si256(_mm256_srli_epi64(even, 32), _mm256_and_si256(odd, high_lanes));
  low = _mm256_or_si256(_mm256_and_si256(even, low_lanes), _mm256_slli_epi64(odd, 32));
}

template <int octets>
__attribute__((target("avx2"))) void philox4x32_10_consecutive_avx2(std::uint64_t first_block,
                                                                    std::uint32_t stream, Key key,
                                                                    std::uint32_t* words) {
  for (int o = 0; o < octets; ++o) {
    alignas(32) std::uint32_t block_low[8], block_high[8];
    for (int i = 0; i < 8; ++i) {
      const std::uint64_t block = first_block + static_cast<std::uint64_t>(8 * o + i);
      block_low[i] = static_cast<std::uint32_t>(block);
      block_high[i] = static_cast<std::uint32_t>(block >> 32);
    }
    __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(block_low));
    __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(block_high));
    __m256i c2 = _mm256_set1_epi32(static_cast<int>(stream));
    __m256i c3 = _mm256_setzero_si256();
    Key round_key = key;
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        round_key[0] += key_increment_0;
        round_key[1] += key_increment_1;
      }
      __m256i high_0, low_0, high_1, low_1;
      multiply_high_low_avx2(c0, multiplier_0, high_0, low_0);
      multiply_high_low_avx2(c2, multiplier_1, high_1, low_1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(high_1, c1),
                            _mm256_set1_epi32(static_cast<int>(round_key[0])));
      c1 = low_1;
      c2 = _mm256_xor_si256(_mm256_xor_si256(high_0, c3),
                            _mm256_set1_epi32(static_cast<int>(round_key[1])));
      c3 = low_0;
    }
    // Unpacks work within each 128-bit half: u0..u3 hold blocks 0..3 in their low halves and
    // blocks 4..7 in their high halves; the permutes put the blocks in order.
    const __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    const __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i* out = reinterpret_cast<__m256i*>(words + 32 * o);
    _mm256_storeu_si256(out + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
  }
}

inline bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

// The fastest of the above this CPU runs; every path gives the same words
// (tests/engine/philox_test.cpp).
template <int quads>
inline void philox4x32_10_consecutive(std::uint64_t first_block, std::uint32_t stream, Key key,
                                      std::uint32_t* words) {
#if defined(ELECTRA_PHILOX_AVX2)
  if constexpr (quads % 2 == 0) {
    if (cpu_has_avx2()) {
      philox4x32_10_consecutive_avx2<quads / 2>(first_block, stream, key, words);
      return;
    }
  }
#endif
  philox4x32_10_consecutive_sse2<quads>(first_block, stream, key, words);
}

inline Key key_from_seed(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

// The 32-bit word of element index j (see the mapping above).
inline std::uint32_t uniform_word(std::uint64_t seed, std::uint32_t stream, std::uint64_t j) {
  const std::uint64_t block = j >> 2;
  const Counter words = philox4x32_10(
      {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), stream, 0},
      key_from_seed(seed));
  return words[j & 3];
}

// [0, 1) with 24 bits: every value is exactly representable as a float.
inline double uniform_from_word(std::uint32_t word) { return (word >> 8) * 0x1.0p-24; }
// (0, 1) with 24 bits, symmetric: never 0 nor 1, so −log(−log(u)) is always finite.
inline double open_uniform_from_word(std::uint32_t word) { return ((word >> 8) + 0.5) * 0x1.0p-24; }

// Uniform [0, 1) of element index j: a pure function of (seed, stream, j).
inline double uniform(std::uint64_t seed, std::uint32_t stream, std::uint64_t j) {
  return uniform_from_word(uniform_word(seed, stream, j));
}

// A standard normal draw for element index j truncated to [−limit, limit] by resampling
// (Box–Muller on two 32-bit uniforms per value, two candidates per block, then the next
// attempt's block): a pure function of (seed, stream, j).
double truncated_standard_normal(std::uint64_t seed, std::uint32_t stream, std::uint64_t j,
                                 double limit);

}  // namespace electra::philox
