// Random kernels on Philox4x32-10 (engine/philox.hpp documents the exact mapping from
// (seed, stream, counter + element index) to a draw), plus the deterministic argmax.
// Every element's draw depends only on its index, so the thread split never changes a result.
#include <cmath>
#include <limits>

#include "engine/cpu/cpu_common.hpp"
#include "engine/philox.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

// Philox blocks per tile (in quads of four): 64 words, enough for the SIMD rounds to pay off,
// small enough to stay in L1 next to the data they mask.
constexpr int tile_quads = 4;
constexpr int tile_blocks = 4 * tile_quads;

// Calls body(i, word) for every element i of [0, count) with the 32-bit Philox word of element
// index key.counter + i (block (key.counter + i) / 4, word (key.counter + i) % 4).
template <typename Body>
void for_each_uniform_word(const RandomKey& key, std::int64_t count, const Body& body) {
  const philox::Key philox_key = philox::key_from_seed(key.seed);
  parallel_for(0, count, cpu::elementwise_grain / 4, [&](std::int64_t begin, std::int64_t end) {
    std::uint32_t words[4 * tile_blocks];
    std::int64_t i = begin;
    while (i < end) {
      const std::uint64_t j = key.counter + static_cast<std::uint64_t>(i);
      philox::philox4x32_10_consecutive<tile_quads>(j >> 2, key.stream, philox_key, words);
      // This tile holds the words of element indices [4·(j / 4), 4·(j / 4) + 64).
      const std::int64_t first_word = static_cast<std::int64_t>(j & 3);
      const std::int64_t n = std::min<std::int64_t>(end - i, 4 * tile_blocks - first_word);
      for (std::int64_t k = 0; k < n; ++k) body(i + k, words[first_word + k]);
      i += n;
    }
  });
}

}  // namespace

void cpu::dropout(const Tensor& x, double drop_probability, const RandomKey& key, Tensor& y,
                  bool accumulate) {
  const char* kernel = "dropout";
  cpu::dispatch_float(kernel, x, [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const T kept_scale = static_cast<T>(1.0 / (1.0 - drop_probability));
    // uniform_from_word(w) = (w >> 8)·2⁻²⁴ ≥ p  ⇔  (w >> 8) ≥ ⌈p·2²⁴⌉: the same test in integers
    // (p·2²⁴ is exact in double), which vectorises.
    const auto threshold = static_cast<std::uint32_t>(std::ceil(drop_probability * 0x1.0p24));
    if (accumulate) {
      for_each_uniform_word(key, x.numel(), [&](std::int64_t i, std::uint32_t word) {
        out[i] += in[i] * ((word >> 8) >= threshold ? kept_scale : T(0));
      });
    } else {
      for_each_uniform_word(key, x.numel(), [&](std::int64_t i, std::uint32_t word) {
        out[i] = in[i] * ((word >> 8) >= threshold ? kept_scale : T(0));
      });
    }
  });
}

void cpu::uniform(const RandomKey& key, Tensor& out) {
  cpu::dispatch_float("uniform", out, [&](auto zero) {
    using T = decltype(zero);
    T* values = out.data<T>();
    for_each_uniform_word(key, out.numel(), [&](std::int64_t i, std::uint32_t word) {
      values[i] = static_cast<T>(philox::uniform_from_word(word));
    });
  });
}

void cpu::truncated_normal(const RandomKey& key, double std, Tensor& out) {
  cpu::dispatch_float("truncated_normal", out, [&](auto zero) {
    using T = decltype(zero);
    T* values = out.data<T>();
    parallel_for(
        0, out.numel(), cpu::elementwise_grain / 8, [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t i = begin; i < end; ++i)
            values[i] = static_cast<T>(
                std * philox::truncated_standard_normal(
                          key.seed, key.stream, key.counter + static_cast<std::uint64_t>(i), 2.0));
        });
  });
}

// x [R, C] → out i32 [R]; ties and NaNs: the first maximal finite-or-infinite entry wins (NaN
// never compares greater), class 0 for a row of NaNs.
void cpu::argmax_rows(const Tensor& x, Tensor& out) {
  const std::int64_t rows = x.shape().rows(), classes = x.shape().cols();
  cpu::dispatch_float("argmax_rows", x, [&](auto zero) {
    using T = decltype(zero);
    const T* values = x.data<T>();
    std::int32_t* chosen = out.data<std::int32_t>();
    const std::int64_t grain = cpu::row_grain(classes);
    parallel_for(0, rows, grain, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t r = first; r < last; ++r) {
        const T* row = values + r * classes;
        std::int64_t best = 0;
        for (std::int64_t c = 1; c < classes; ++c)
          if (row[c] > row[best] || (std::isnan(row[best]) && !std::isnan(row[c]))) best = c;
        chosen[r] = static_cast<std::int32_t>(best);
      }
    });
  });
}

}  // namespace electra::kernels
