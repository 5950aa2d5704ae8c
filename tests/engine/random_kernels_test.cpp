// Philox-driven kernels (dropout, uniform, truncated normal, categorical sampling), argmax_rows.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>

#include "engine/kernels.hpp"
#include "engine/philox.hpp"
#include "helpers/errors.hpp"
#include "helpers/random_tensors.hpp"
#include "helpers/text.hpp"
#include "helpers/threads.hpp"

using namespace electra;
using namespace electra::test;

TEST_CASE("uniform: element i is the documented Philox draw of counter + i") {
  const kernels::RandomKey key{99, 3, 6};  // counter not a multiple of 4: blocks straddle
  Tensor u = Tensor::empty(Shape{37}, DType::f64);
  kernels::uniform(key, u);
  for (std::int64_t i = 0; i < 37; ++i) REQUIRE(u.item(i) == philox::uniform(99, 3, 6 + i));
  Tensor shifted = Tensor::empty(Shape{30});
  kernels::uniform({99, 3, 13}, shifted);
  for (std::int64_t i = 0; i < 30; ++i) REQUIRE(shifted.item(i) == u.item(i + 7));
}

// The mask dropout applies, read back by applying it to ones.
Tensor dropout_mask(const Shape& shape, DType dtype, double p, const kernels::RandomKey& key) {
  Tensor keep = Tensor::empty(shape, dtype);
  kernels::dropout(Tensor::full(shape, 1.0, dtype), p, key, keep);
  return keep;
}

TEST_CASE("dropout: mask values, keep rate, f32 = f64 mask, thread independence") {
  const double p = 0.1;
  const kernels::RandomKey key{5, 1, 0};
  const Tensor x64 = random_tensor(Shape{256, 128}, 6);
  const Tensor x = x64.to(DType::f32);
  const auto [one, two] = on_one_and_two_threads<std::vector<double>>(
      [&] { return dropout_mask(x.shape(), DType::f32, p, key).to_vector(); });
  CHECK(one == two);
  Tensor y64 = Tensor::empty(x.shape(), DType::f64);
  kernels::dropout(x64, p, key, y64);
  const std::vector<double> mask64 = dropout_mask(x.shape(), DType::f64, p, key).to_vector();
  std::int64_t kept = 0, same = 0;
  for (std::size_t i = 0; i < mask64.size(); ++i) {
    REQUIRE((mask64[i] == 0.0 || mask64[i] == doctest::Approx(1.0 / (1.0 - p)).epsilon(1e-15)));
    kept += mask64[i] != 0.0;
    same += (one[i] != 0.0) == (mask64[i] != 0.0);
    REQUIRE(y64.item(i) == x64.item(i) * mask64[i]);
  }
  CHECK(same == static_cast<std::int64_t>(mask64.size()));
  // The documented mapping (engine/philox.hpp): element i keeps iff uniform(counter + i) ≥ p, also
  // from a counter that does not start on a Philox block.
  const kernels::RandomKey offset_key{5, 1, 1000003};
  const Tensor offset_mask = dropout_mask(x64.shape(), DType::f64, p, offset_key);
  std::int64_t mapped = 0;
  for (std::int64_t i = 0; i < x64.numel(); ++i)
    mapped += (offset_mask.item(i) != 0.0) ==
              (philox::uniform(5, 1, offset_key.counter + static_cast<std::uint64_t>(i)) >= p);
  CHECK(mapped == x64.numel());
  // 32768 Bernoulli(0.9) draws: standard deviation of the rate is 0.0017.
  CHECK(static_cast<double>(kept) / mask64.size() == doctest::Approx(0.9).epsilon(0.01));
  // p = 0 keeps everything unscaled.
  Tensor y = Tensor::empty(x.shape());
  kernels::dropout(x, 0.0, key, y);
  CHECK(y.to_vector() == x.to_vector());
}

TEST_CASE("dropout: accumulate adds x ⊙ keep with the same mask (backward redraws forward's)") {
  const double p = 0.25;
  const kernels::RandomKey key{9, 2, 77};
  const Tensor x = random_tensor(Shape{33, 17}, 3);
  const Tensor start = random_tensor(Shape{33, 17}, 4);
  Tensor forward = Tensor::empty(x.shape(), DType::f64);
  kernels::dropout(x, p, key, forward);
  Tensor accumulated = start.clone();
  kernels::dropout(x, p, key, accumulated, /*accumulate=*/true);
  for (std::int64_t i = 0; i < x.numel(); ++i)
    REQUIRE(accumulated.item(i) == start.item(i) + forward.item(i));
}

TEST_CASE("truncated_normal: within ±2σ, right spread, f32 agrees with f64") {
  Tensor w64 = Tensor::empty(Shape{100000}, DType::f64), w32 = Tensor::empty(Shape{100000});
  kernels::truncated_normal({11, 4, 0}, 0.02, w64);
  kernels::truncated_normal({11, 4, 0}, 0.02, w32);
  double sum = 0, squares = 0;
  for (std::int64_t i = 0; i < w64.numel(); ++i) {
    const double v = w64.data<double>()[i];
    REQUIRE(std::abs(v) <= 0.04);
    REQUIRE(std::abs(w32.data<float>()[i] - v) <= 1e-7);
    sum += v;
    squares += v * v;
  }
  CHECK(std::abs(sum / 100000) < 2e-4);
  CHECK(std::sqrt(squares / 100000) == doctest::Approx(0.02 * std::sqrt(0.7737)).epsilon(0.02));
}

// rows copies of one row of logits (f64).
Tensor repeated_rows(const std::vector<double>& row, std::int64_t rows) {
  std::vector<double> values;
  for (std::int64_t r = 0; r < rows; ++r) values.insert(values.end(), row.begin(), row.end());
  return Tensor::from_vector(values, Shape{rows, static_cast<std::int64_t>(row.size())});
}

// Pearson's χ² of the classes drawn against softmax(logits / temperature).
double chi_square(const Tensor& chosen, const std::vector<double>& logits, double temperature) {
  std::vector<double> probabilities, observed(logits.size(), 0.0);
  double total = 0;
  for (double logit : logits) total += std::exp(logit / temperature);
  for (double logit : logits) probabilities.push_back(std::exp(logit / temperature) / total);
  for (std::int64_t r = 0; r < chosen.numel(); ++r)
    observed.at(static_cast<std::size_t>(chosen.item(r))) += 1;
  double statistic = 0;
  for (std::size_t c = 0; c < logits.size(); ++c) {
    const double expected = probabilities[c] * static_cast<double>(chosen.numel());
    statistic += (observed[c] - expected) * (observed[c] - expected) / expected;
  }
  return statistic;
}

TEST_CASE("sample_categorical: row r takes the first class whose CDF exceeds its Philox uniform") {
  // Probabilities 0.2, 0.5, 0.3: u < 0.2 → 0, u < 0.7 → 1, else 2 (u of element counter + r).
  const std::int64_t rows = 2000;
  const Tensor logits = repeated_rows({std::log(0.2), std::log(0.5), std::log(0.3)}, rows);
  Tensor chosen = Tensor::empty(Shape{rows}, DType::i32);
  kernels::sample_categorical(logits, 1.0, {21, 2, 5}, chosen);
  for (std::int64_t r = 0; r < rows; ++r) {
    const double u = philox::uniform(21, 2, 5 + static_cast<std::uint64_t>(r));
    if (std::abs(u - 0.2) < 1e-9 || std::abs(u - 0.7) < 1e-9) continue;  // rounding's call
    REQUIRE(chosen.item(r) == (u < 0.2 ? 0 : u < 0.7 ? 1 : 2));
  }
}

TEST_CASE("sample_categorical: samples follow softmax(logits / temperature)") {
  // 150 classes (three chunks of the CPU kernel, so the chunk scan is crossed) with weights
  // 1..7: every expected count is ≥ 60 at 30000 draws. χ² with 149 degrees of freedom has mean
  // 149 and standard deviation 17; 300 is ~9 standard deviations out (the seed is fixed anyway).
  std::vector<double> logits_row;
  for (int c = 0; c < 150; ++c) logits_row.push_back(std::log(1.0 + (c * 5) % 7));
  const std::int64_t rows = 30000;
  const Tensor logits = repeated_rows(logits_row, rows);
  Tensor chosen = Tensor::empty(Shape{rows}, DType::i32);
  kernels::sample_categorical(logits, 1.0, {7, 4, 0}, chosen);
  CHECK(chi_square(chosen, logits_row, 1.0) < 300);
  // Temperature 2 flattens the distribution: compare with softmax(logits / 2), not softmax(logits).
  kernels::sample_categorical(logits, 2.0, {7, 4, 0}, chosen);
  CHECK(chi_square(chosen, logits_row, 2.0) < 300);
  CHECK(chi_square(chosen, logits_row, 1.0) > 500);
  // A low temperature sharpens it onto the largest logits (weight 7: classes c with 5c ≡ 6 mod 7).
  kernels::sample_categorical(logits, 0.01, {7, 4, 0}, chosen);
  std::int64_t largest_picks = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    largest_picks += (static_cast<int>(chosen.item(r)) * 5) % 7 == 6;
  CHECK(largest_picks > rows * 0.99);
}

TEST_CASE("sample_categorical: a dominant logit always wins; NaN, −inf and +inf rows") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  std::vector<double> dominant(100, 0.0);
  dominant[77] = 60.0;  // every other class has probability below e⁻⁶⁰
  Tensor chosen = Tensor::empty(Shape{500}, DType::i32);
  kernels::sample_categorical(repeated_rows(dominant, 500), 1.0, {3, 1, 0}, chosen);
  for (std::int64_t r = 0; r < 500; ++r) REQUIRE(chosen.item(r) == 77);
  // NaN and −inf classes are never drawn (the Gumbel-max kernel never chose them either).
  kernels::sample_categorical(repeated_rows({nan, 0.0, -inf, 0.0, nan}, 500), 1.0, {3, 1, 0},
                              chosen);
  for (std::int64_t r = 0; r < 500; ++r) REQUIRE((chosen.item(r) == 1 || chosen.item(r) == 3));
  // The first +inf wins; a row without a finite score gives class 0.
  const Tensor special = Tensor::from_vector<double>(
      {0, inf, 5, inf, nan, nan, nan, nan, -inf, -inf, -inf, -inf, nan, -inf, 3, inf}, Shape{4, 4});
  Tensor special_chosen = Tensor::empty(Shape{4}, DType::i32);
  kernels::sample_categorical(special, 1.0, {3, 1, 0}, special_chosen);
  CHECK(special_chosen.to_vector() == std::vector<double>{1, 0, 0, 3});
}

TEST_CASE("sample_categorical: f32 and f64 logits, one thread or two: the very same samples") {
  const std::int64_t rows = 3000;
  const Tensor logits = random_tensor(Shape{rows, 301}, 17, -4.0, 4.0).to(DType::f32);
  const auto [one, two] = on_one_and_two_threads<std::vector<double>>([&] {
    Tensor out = Tensor::empty(Shape{rows}, DType::i32);
    kernels::sample_categorical(logits, 0.8, {21, 2, 0}, out);
    return out.to_vector();
  });
  CHECK(one == two);
  Tensor chosen = Tensor::empty(Shape{rows}, DType::i32);
  kernels::sample_categorical(logits.to(DType::f64), 0.8, {21, 2, 0}, chosen);
  CHECK(chosen.to_vector() == one);
  CHECK(std::set<double>(one.begin(), one.end()).size() > 200);  // not stuck on a few classes
}

TEST_CASE("argmax_rows: first maximum wins, NaN never does") {
  const Tensor x =
      Tensor::from_vector<double>({1, 3, 3, 0, -1, -5, std::nan(""), 2, 0}, Shape{3, 3});
  Tensor out = Tensor::empty(Shape{3}, DType::i32);
  kernels::argmax_rows(x, out);
  CHECK(out.to_vector() == std::vector<double>{1, 0, 1});
}

TEST_CASE("random kernels: bad probabilities, temperatures, dtypes and shapes are errors") {
  const Tensor x = Tensor::zeros(Shape{4, 3});
  Tensor y = Tensor::zeros(Shape{4, 3});
  CHECK(contains(error_of([&] { kernels::dropout(x, 1.0, {}, y); }),
                 "dropout: drop probability must be in [0, 1), got 1"));
  Tensor small_y = Tensor::zeros(Shape{4, 2});
  CHECK(contains(error_of([&] { kernels::dropout(x, 0.1, {}, small_y); }),
                 "dropout: shape mismatch [4, 3] vs [4, 2]"));
  Tensor chosen = Tensor::zeros(Shape{4}, DType::i32);
  CHECK(contains(error_of([&] { kernels::sample_categorical(x, 0.0, {}, chosen); }),
                 "temperature must be positive"));
  Tensor float_out = Tensor::zeros(Shape{4});
  CHECK(
      contains(error_of([&] { kernels::argmax_rows(x, float_out); }), "argmax_rows: expected i32"));
  Tensor short_out = Tensor::zeros(Shape{3}, DType::i32);
  CHECK(contains(error_of([&] { kernels::argmax_rows(x, short_out); }),
                 "argmax_rows: out expected [4] for x [4, 3], got [3]"));
  Tensor ids = Tensor::zeros(Shape{3}, DType::i32);
  CHECK(contains(error_of([&] { kernels::uniform({}, ids); }),
                 "uniform: expected an f32 or f64 tensor"));
  CHECK(
      contains(error_of([&] { kernels::truncated_normal({}, -1.0, y); }), "std must be positive"));
}
