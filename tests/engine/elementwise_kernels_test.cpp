// Elementwise kernels, GELU and the deterministic reductions.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "engine/kernels.hpp"
#include "helpers/errors.hpp"
#include "helpers/random_tensors.hpp"
#include "helpers/text.hpp"
#include "helpers/threads.hpp"

using namespace electra;
using namespace electra::test;

TEST_CASE("elementwise: add, mul, mul_accumulate, scale, axpy, copy on hand-checked values") {
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor a = Tensor::from_vector<double>({1, -2, 3.5}, Shape{3}).to(dtype);
    const Tensor b = Tensor::from_vector<double>({4, 0.5, -1}, Shape{3}).to(dtype);
    Tensor out = Tensor::empty(Shape{3}, dtype);
    kernels::add(a, b, out);
    CHECK(out.to_vector() == std::vector<double>{5, -1.5, 2.5});
    kernels::mul(a, b, out);
    CHECK(out.to_vector() == std::vector<double>{4, -1, -3.5});
    kernels::mul_accumulate(a, b, out);
    CHECK(out.to_vector() == std::vector<double>{8, -2, -7});
    kernels::scale(a, -2.0, out);
    CHECK(out.to_vector() == std::vector<double>{-2, 4, -7});
    Tensor y = Tensor::full(Shape{1, 3}, 1.0, dtype);  // axpy only needs equal element counts
    kernels::axpy(0.5, a, y);
    CHECK(y.to_vector() == std::vector<double>{1.5, 0, 2.75});
    kernels::copy(b, out);
    CHECK(out.to_vector() == b.to_vector());
  }
}

TEST_CASE("elementwise: add_bias and sum_rows_accumulate over rows") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 1, 3});
  kernels::add_bias(x, Tensor::from_vector<float>({10, 20, 30}, Shape{3}));
  CHECK(x.to_vector() == std::vector<double>{11, 22, 33, 14, 25, 36});
  Tensor rows = Tensor::empty(Shape{2, 3});
  kernels::broadcast_rows(Tensor::from_vector<float>({7, 8, 9}, Shape{3}), rows);
  CHECK(rows.to_vector() == std::vector<double>{7, 8, 9, 7, 8, 9});
  CHECK(contains(error_of([&] { kernels::broadcast_rows(Tensor::zeros(Shape{2}), rows); }),
                 "broadcast_rows: bias expected [3] for out [2, 3], got [2]"));
  Tensor total = Tensor::full(Shape{3}, 1.0);
  kernels::sum_rows_accumulate(x, total);
  CHECK(total.to_vector() == std::vector<double>{26, 48, 70});
  // Wide enough for several column blocks, tall enough to split: f32 agrees with f64.
  const Tensor big = random_tensor(Shape{300, 200}, 1);
  Tensor sum64 = Tensor::zeros(Shape{200}, DType::f64), sum32 = Tensor::zeros(Shape{200});
  kernels::sum_rows_accumulate(big, sum64);
  kernels::sum_rows_accumulate(big.to(DType::f32), sum32);
  for (std::int64_t c = 0; c < 200; ++c)
    CHECK(sum32.item(c) == doctest::Approx(sum64.item(c)).epsilon(1e-5));
  double column_0 = 0;
  for (std::int64_t r = 0; r < 300; ++r) column_0 += big.item(r * 200);
  CHECK(sum64.item(0) == doctest::Approx(column_0).epsilon(1e-12));
  // Several row and column tiles (512 × 4096): every column, any thread count, the same sums.
  const Tensor tall_wide = random_tensor(Shape{1100, 9000}, 2).to(DType::f32);
  const auto [one, two] = on_one_and_two_threads<std::vector<double>>([&] {
    Tensor sums = Tensor::zeros(Shape{9000});
    kernels::sum_rows_accumulate(tall_wide, sums);
    return sums.to_vector();
  });
  CHECK(one == two);
  for (const std::int64_t c : {0, 4095, 4096, 8999}) {
    double expected = 0;
    for (std::int64_t r = 0; r < 1100; ++r) expected += tall_wide.item(r * 9000 + c);
    CHECK(one[static_cast<std::size_t>(c)] == doctest::Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("gelu: exact erf values and derivative") {
  const Tensor x = Tensor::from_vector<double>({-1, 0, 1, 3}, Shape{4});
  Tensor y = Tensor::empty(Shape{4}, DType::f64);
  kernels::gelu_forward(x, y);
  // x·Φ(x): Φ(1) = 0.8413447460685429, Φ(3) = 0.9986501019683699.
  CHECK(y.item(0) == doctest::Approx(-0.15865525393145707).epsilon(1e-14));
  CHECK(y.item(1) == 0.0);
  CHECK(y.item(2) == doctest::Approx(0.8413447460685429).epsilon(1e-14));
  CHECK(y.item(3) == doctest::Approx(2.9959503059051097).epsilon(1e-14));
  Tensor dx = Tensor::full(Shape{4}, 1.0, DType::f64);
  kernels::gelu_backward_accumulate(x, Tensor::full(Shape{4}, 2.0, DType::f64), dx);
  // 1 + 2·(Φ(x) + x·φ(x)); φ(1) = 0.24197072451914337.
  CHECK(dx.item(0) ==
        doctest::Approx(1 + 2 * (1 - 0.8413447460685429 - 0.24197072451914337)).epsilon(1e-14));
  CHECK(dx.item(1) == doctest::Approx(2.0).epsilon(1e-14));
  CHECK(dx.item(2) ==
        doctest::Approx(1 + 2 * (0.8413447460685429 + 0.24197072451914337)).epsilon(1e-14));
  // f32 agrees with f64 on a spread of inputs.
  const Tensor spread = random_tensor(Shape{1000}, 2, -6, 6);
  Tensor y64 = Tensor::empty(Shape{1000}, DType::f64), y32 = Tensor::empty(Shape{1000});
  kernels::gelu_forward(spread, y64);
  kernels::gelu_forward(spread.to(DType::f32), y32);
  for (std::int64_t i = 0; i < 1000; ++i)
    CHECK(std::abs(y32.item(i) - y64.item(i)) <= 1e-5 * std::max(1.0, std::abs(y64.item(i))));
}

TEST_CASE("reductions: sum, dot, squared_norm, stats and all_finite") {
  const Tensor x = Tensor::from_vector<float>({1, -2, 3, 0.5}, Shape{2, 2});
  CHECK(kernels::sum(x) == 2.5);
  CHECK(kernels::dot(x, x) == 14.25);
  CHECK(kernels::squared_norm(x) == 14.25);
  const kernels::TensorStats s = kernels::stats(x);
  CHECK(s.min == -2);
  CHECK(s.max == 3);
  CHECK(s.abs_max == 3);
  CHECK(s.mean == 0.625);
  CHECK(kernels::all_finite(x));
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor bad =
      Tensor::from_vector<double>({1, std::nan(""), -inf, 4, std::nan("")}, Shape{5});
  const kernels::TensorStats bad_stats = kernels::stats(bad);
  CHECK(bad_stats.nan_count == 2);
  CHECK(bad_stats.inf_count == 1);
  CHECK(bad_stats.min == 1);
  CHECK(bad_stats.max == 4);
  CHECK(bad_stats.mean == 2.5);
  CHECK_FALSE(kernels::all_finite(bad));
  // A single non-finite value deep inside a large buffer is found.
  Tensor big = Tensor::zeros(Shape{100000});
  CHECK(kernels::all_finite(big));
  big.data<float>()[77777] = static_cast<float>(inf);
  CHECK_FALSE(kernels::all_finite(big));
}

TEST_CASE("reductions: bit-identical on one and two threads, f32 close to f64") {
  const Tensor big64 = random_tensor(Shape{1000, 333}, 3);
  const Tensor big = big64.to(DType::f32);
  const auto [one, two] = on_one_and_two_threads<std::vector<double>>([&] {
    const kernels::TensorStats s = kernels::stats(big);
    return std::vector<double>{kernels::sum(big),
                               kernels::dot(big, big),
                               kernels::squared_norm(big),
                               s.mean,
                               s.min,
                               s.max};
  });
  CHECK(one == two);
  CHECK(kernels::squared_norm(big) == doctest::Approx(kernels::squared_norm(big64)).epsilon(1e-6));
  CHECK(std::abs(kernels::sum(big) - kernels::sum(big64)) < 1e-4);
  const auto [rows_one, rows_two] = on_one_and_two_threads<std::vector<double>>([&] {
    Tensor out = Tensor::zeros(Shape{333});
    kernels::sum_rows_accumulate(big, out);
    return out.to_vector();
  });
  CHECK(rows_one == rows_two);
}

TEST_CASE("elementwise: errors name the kernel and both shapes") {
  const Tensor a = Tensor::zeros(Shape{2, 3}), b = Tensor::zeros(Shape{3, 2});
  Tensor out = Tensor::zeros(Shape{2, 3});
  CHECK(error_of([&] { kernels::add(a, b, out); }) == "add: shape mismatch [2, 3] vs [3, 2]");
  CHECK(contains(error_of([&] {
                   kernels::mul(a, Tensor::zeros(Shape{2, 3}, DType::f64), out);
                 }),
                 "mul: dtype mismatch"));
  Tensor wrong = Tensor::zeros(Shape{6});
  CHECK(contains(error_of([&] { kernels::gelu_forward(a, wrong); }),
                 "gelu_forward: shape mismatch [2, 3] vs [6]"));
  CHECK(contains(error_of([&] { kernels::axpy(1.0, a, wrong = Tensor::zeros(Shape{5})); }),
                 "axpy: element count mismatch [2, 3] vs [5]"));
  Tensor bias_target = Tensor::zeros(Shape{2, 3});
  CHECK(contains(error_of([&] { kernels::add_bias(bias_target, Tensor::zeros(Shape{2})); }),
                 "add_bias: bias expected shape [3] for x [2, 3], got [2]"));
  CHECK(contains(error_of([&] { kernels::sum(Tensor::zeros(Shape{0, 4})); }), "sum: empty tensor"));
  CHECK(
      contains(error_of([&] { kernels::sum(Tensor::zeros(Shape{4}, DType::i32)); }), "f32 or f64"));
  CHECK(contains(error_of([&] { kernels::dot(a, Tensor::zeros(Shape{7})); }),
                 "dot: element count mismatch"));
}
