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
// f32 and f64 tensors use the very same 24-bit values, so a dropout mask or a Gumbel sample is
// identical whatever the dtype (gradcheck in f64 checks the mask the f32 model uses).
#include <array>
#include <cstdint>

namespace electra::philox {

using Counter = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;

// Ten rounds of Philox4x32 on one 128-bit counter block.
Counter philox4x32_10(Counter counter, Key key);

constexpr std::uint32_t normal_domain = 0x80000000u;

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
