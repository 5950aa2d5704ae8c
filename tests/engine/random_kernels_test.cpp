// Philox-driven kernels (dropout, uniform, truncated normal, Gumbel sampling) and argmax_rows.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "engine/kernel_test_helpers.hpp"
#include "engine/kernels.hpp"
#include "engine/philox.hpp"

using namespace electra;
using namespace electra::testing;

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
  const auto [one, two] = on_one_and_two_threads<std::vector<double>>([&] {
    return dropout_mask(x.shape(), DType::f32, p, key).to_vector();
  });
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

TEST_CASE("gumbel_argmax: samples follow softmax(logits / temperature)") {
  const std::int64_t rows = 30000;
  const std::vector<double> logits_row{std::log(0.2), std::log(0.5), std::log(0.3)};
  std::vector<double> values;
  for (std::int64_t r = 0; r < rows; ++r)
    values.insert(values.end(), logits_row.begin(), logits_row.end());
  const Tensor logits = Tensor::from_vector(values, Shape{rows, 3});
  Tensor chosen = Tensor::empty(Shape{rows}, DType::i32);
  kernels::gumbel_argmax(logits, 1.0, {21, 2, 0}, chosen);
  std::vector<double> counts(3, 0.0);
  for (std::int64_t r = 0; r < rows; ++r) counts[static_cast<int>(chosen.item(r))] += 1.0 / rows;
  // Binomial standard deviation ≤ 0.003 at 30000 draws.
  CHECK(counts[0] == doctest::Approx(0.2).epsilon(0.05));
  CHECK(counts[1] == doctest::Approx(0.5).epsilon(0.03));
  CHECK(counts[2] == doctest::Approx(0.3).epsilon(0.05));
  // A low temperature sharpens the distribution onto the argmax.
  kernels::gumbel_argmax(logits, 0.05, {21, 2, 0}, chosen);
  std::int64_t argmax_picks = 0;
  for (std::int64_t r = 0; r < rows; ++r) argmax_picks += chosen.item(r) == 1;
  CHECK(argmax_picks > rows * 0.99);
  // Same key: same samples, on one thread or two, in f32 or f64.
  const auto [one, two] = on_one_and_two_threads<std::vector<double>>([&] {
    Tensor out = Tensor::empty(Shape{rows}, DType::i32);
    kernels::gumbel_argmax(logits.to(DType::f32), 1.0, {21, 2, 0}, out);
    return out.to_vector();
  });
  CHECK(one == two);
  kernels::gumbel_argmax(logits, 1.0, {21, 2, 0}, chosen);
  CHECK(chosen.to_vector() == one);
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
  CHECK(contains(error_of([&] { kernels::gumbel_argmax(x, 0.0, {}, chosen); }),
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
