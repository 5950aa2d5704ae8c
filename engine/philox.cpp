#include "engine/philox.hpp"

#include <cmath>
#include <numbers>

#include "engine/error.hpp"

namespace electra::philox {
namespace {

inline void multiply_high_low(std::uint32_t a, std::uint32_t b, std::uint32_t& high,
                              std::uint32_t& low) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  high = static_cast<std::uint32_t>(product >> 32);
  low = static_cast<std::uint32_t>(product);
}

// One round: two 32×32→64 multiplies; the high halves are mixed with the other two words and the
// round key, the low halves move over (an S-box / P-box pair in the paper's terms).
inline Counter round(const Counter& c, const Key& key) {
  std::uint32_t high_0, low_0, high_1, low_1;
  multiply_high_low(multiplier_0, c[0], high_0, low_0);
  multiply_high_low(multiplier_1, c[2], high_1, low_1);
  return {high_1 ^ c[1] ^ key[0], low_1, high_0 ^ c[3] ^ key[1], low_0};
}

}  // namespace

Counter philox4x32_10(Counter counter, Key key) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {  // the key schedule bumps the key between rounds, not before the first
      key[0] += key_increment_0;
      key[1] += key_increment_1;
    }
    counter = round(counter, key);
  }
  return counter;
}

double truncated_standard_normal(std::uint64_t seed, std::uint32_t stream, std::uint64_t j,
                                 double limit) {
  check(limit > 0, "truncated_normal: the truncation limit must be positive, got ", limit);
  const Key key = key_from_seed(seed);
  constexpr double two_to_minus_32 = 0x1.0p-32;
  // With limit 2 a candidate is accepted with probability 0.954; 64 attempts (128 candidates)
  // failing would be a broken generator, not bad luck.
  for (std::uint32_t attempt = 0; attempt < 64; ++attempt) {
    const Counter words =
        philox4x32_10({static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(j >> 32), stream,
                       normal_domain | attempt},
                      key);
    for (int pair = 0; pair < 2; ++pair) {
      const double u1 = (words[2 * pair] + 0.5) * two_to_minus_32;  // (0, 1): log is finite
      const double u2 = words[2 * pair + 1] * two_to_minus_32;
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      if (std::abs(z) <= limit) return z;
    }
  }
  throw_error("truncated_normal: no draw within ±", limit, " after 128 candidates (element ", j,
              ")");
}

}  // namespace electra::philox
