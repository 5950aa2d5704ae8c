// Categorical sampling by inverse CDF: one Philox uniform per row instead of one per class.
// The generator's sample over a 30k vocabulary used to be Gumbel-max (a Philox word and two logs
// for every class); drawing from softmax(logits / temperature) through its cumulative sum is the
// same distribution at the cost of one exp per class.
#include <cmath>
#include <limits>
#include <vector>

#include "engine/cpu/cpu_common.hpp"
#include "engine/philox.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

// Classes per chunk: the exps of a chunk are one fixed-size Eigen expression (vectorised, the
// same code path for every row, so f32/f64 and any thread split give identical weights).
constexpr std::int64_t chunk = 64;
using ChunkArray = Eigen::Array<double, chunk, 1>;

// Weights exp(s_c − max) of classes [c0, c0 + n) of one row, s = logits / temperature; zero past
// n and for NaN or −inf scores (never sampled, as the Gumbel-max kernel never chose them).
template <typename T>
void chunk_weights(const T* row, std::int64_t c0, std::int64_t n, double inverse_temperature,
                   double max_score, bool has_nan, ChunkArray& weights) {
  ChunkArray shifted = ChunkArray::Constant(-std::numeric_limits<double>::infinity());
  for (std::int64_t k = 0; k < n; ++k)
    shifted[k] = static_cast<double>(row[c0 + k]) * inverse_temperature - max_score;
  weights = shifted.exp();
  if (has_nan) weights = weights.isNaN().select(0.0, weights);
}

// Samples one row of `classes` logits with uniform u in [0, 1). Special rows, as Gumbel-max
// treated them: the first +inf score wins; a row with no finite score (all NaN / −inf) gives 0.
template <typename T>
std::int32_t sample_row(const T* row, std::int64_t classes, double inverse_temperature, double u,
                        std::vector<double>& chunk_sums) {
  double max_score = -std::numeric_limits<double>::infinity();
  bool has_nan = false;
  for (std::int64_t c = 0; c < classes; ++c) {
    const double score = static_cast<double>(row[c]) * inverse_temperature;
    if (score == std::numeric_limits<double>::infinity()) return static_cast<std::int32_t>(c);
    has_nan |= std::isnan(score);
    max_score = score > max_score ? score : max_score;
  }
  if (max_score == -std::numeric_limits<double>::infinity()) return 0;

  // Unnormalised CDF in a fixed order: chunk sums, then their running total. total ≥ 1 (the
  // maximum contributes exp(0)), so some chunk's running total exceeds u·total < total.
  const std::int64_t chunks = (classes + chunk - 1) / chunk;
  chunk_sums.resize(static_cast<std::size_t>(chunks));
  ChunkArray weights;
  double total = 0;
  for (std::int64_t i = 0; i < chunks; ++i) {
    chunk_weights(row, i * chunk, std::min(chunk, classes - i * chunk), inverse_temperature,
                  max_score, has_nan, weights);
    chunk_sums[static_cast<std::size_t>(i)] = weights.sum();
    total += chunk_sums[static_cast<std::size_t>(i)];
  }
  const double target = u * total;
  double cumulative = 0;
  std::int64_t i = 0;
  while (i + 1 < chunks && cumulative + chunk_sums[static_cast<std::size_t>(i)] <= target)
    cumulative += chunk_sums[static_cast<std::size_t>(i++)];
  // Within the chunk, the same weights again, summed one by one; the last positive class is the
  // answer should rounding leave the running sum a hair short of the chunk's sum.
  const std::int64_t c0 = i * chunk, n = std::min(chunk, classes - c0);
  chunk_weights(row, c0, n, inverse_temperature, max_score, has_nan, weights);
  std::int64_t last_positive = -1;
  for (std::int64_t k = 0; k < n; ++k) {
    if (weights[k] <= 0) continue;
    cumulative += weights[k];
    last_positive = k;
    if (cumulative > target) break;
  }
  return static_cast<std::int32_t>(c0 + std::max<std::int64_t>(last_positive, 0));
}

}  // namespace

// logits [R, C] → out i32 [R]: a draw from softmax(logits / temperature) per row, by inverse CDF
// with u = uniform_from_word of element index key.counter + r.
void cpu::sample_categorical(const Tensor& logits, double temperature, const RandomKey& key,
                             Tensor& out) {
  const char* kernel = "sample_categorical";
  const std::int64_t rows = logits.shape().rows(), classes = logits.shape().cols();
  cpu::dispatch_float(kernel, logits, [&](auto zero) {
    using T = decltype(zero);
    const T* values = logits.data<T>();
    std::int32_t* chosen = out.data<std::int32_t>();
    const double inverse_temperature = 1.0 / temperature;  // exact for the default 1
    const std::int64_t grain = std::max<std::int64_t>(1, cpu::elementwise_grain / (4 * classes));
    parallel_for(0, rows, grain, [&](std::int64_t first, std::int64_t last) {
      std::vector<double> chunk_sums;
      for (std::int64_t r = first; r < last; ++r) {
        const double u =
            philox::uniform(key.seed, key.stream, key.counter + static_cast<std::uint64_t>(r));
        chosen[r] = sample_row(values + r * classes, classes, inverse_temperature, u, chunk_sums);
      }
    });
  });
}

}  // namespace electra::kernels
