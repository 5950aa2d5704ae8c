// cross_entropy and bce_with_logits kernels: hand-computed losses and gradients, saturated
// logits, f32 vs f64, thread-count independence and bad input (targets out of range).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "engine/kernels.hpp"
#include "engine/threads.hpp"
#include "helpers/random_tensors.hpp"

using namespace electra;
using namespace electra::test;

namespace {

Tensor ids(const std::vector<std::int32_t>& values) {
  return Tensor::from_vector<std::int32_t>(values, Shape{static_cast<std::int64_t>(values.size())});
}

Tensor values(const std::vector<double>& numbers, const Shape& shape, DType dtype) {
  return Tensor::from_vector<double>(numbers, shape).to(dtype);
}

}  // namespace

TEST_CASE("cross-entropy kernel: hand-computed loss and gradient") {
  for (DType dtype : {DType::f32, DType::f64}) {
    // Row 0: softmax [0.25, 0.75], target 1 → −ln 0.75; row 1: [0.5, 0.5], target 0 → ln 2.
    const Tensor logits = values({0, std::log(3.0), 0, 0}, Shape{2, 2}, dtype);
    const Tensor weights = values({1, 2}, Shape{2}, dtype);
    Tensor probs = Tensor::empty(Shape{2, 2}, dtype);
    const double loss = kernels::cross_entropy_forward(logits, ids({1, 0}), weights, probs);
    const double denominator = 3 + 1e-6;
    CHECK(loss ==
          doctest::Approx((-std::log(0.75) + 2 * std::log(2.0)) / denominator).epsilon(1e-6));
    // dloss 2: row 0 → 2·1·([0.25, 0.75] − [0, 1]), row 1 → 2·2·([0.5, 0.5] − [1, 0]); added to 1.
    Tensor dlogits = Tensor::full(Shape{2, 2}, 1.0, dtype);
    kernels::cross_entropy_backward_accumulate(probs, ids({1, 0}), weights, 2.0, dlogits);
    const std::vector<double> expected{1 + 0.5 / denominator, 1 - 0.5 / denominator,
                                       1 - 2 / denominator, 1 + 2 / denominator};
    for (int i = 0; i < 4; ++i)
      CHECK(dlogits.item(i) == doctest::Approx(expected[i]).epsilon(1e-6));
  }
}

TEST_CASE("cross-entropy kernel: saturated logits give finite, exact losses") {
  for (DType dtype : {DType::f32, DType::f64}) {
    // Target 1 at −30 next to +30 costs 60; target 1 at +30 costs e^−60; ±1000 costs 2000.
    const Tensor logits = values({30, -30, -30, 30, 1000, -1000}, Shape{3, 2}, dtype);
    Tensor probs = Tensor::empty(Shape{3, 2}, dtype);
    const double loss = kernels::cross_entropy_forward(logits, ids({1, 1, 1}),
                                                       values({1, 1, 0}, Shape{3}, dtype), probs);
    CHECK(loss == doctest::Approx(60.0 / (2 + 1e-6)).epsilon(1e-6));
    const double big = kernels::cross_entropy_forward(logits, ids({1, 1, 1}),
                                                      values({0, 0, 1}, Shape{3}, dtype), probs);
    CHECK(big == doctest::Approx(2000.0 / (1 + 1e-6)).epsilon(1e-6));
    CHECK(kernels::all_finite(probs));
    Tensor dlogits = Tensor::zeros(Shape{3, 2}, dtype);
    kernels::cross_entropy_backward_accumulate(probs, ids({1, 1, 1}),
                                               values({1, 1, 1}, Shape{3}, dtype), 1.0, dlogits);
    CHECK(kernels::all_finite(dlogits));
    CHECK(dlogits.item(0) == doctest::Approx(1.0 / (3 + 1e-6)).epsilon(1e-5));
  }
}

TEST_CASE("bce kernel: hand-computed loss and gradient, and saturated logits") {
  for (DType dtype : {DType::f32, DType::f64}) {
    // z = 0, y = 1 → ln 2; z = ln 3 (σ = 0.75), y = 0 → ln 4.
    const Tensor logits = values({0, std::log(3.0)}, Shape{2}, dtype);
    const Tensor labels = values({1, 0}, Shape{2}, dtype);
    const Tensor weights = values({1, 1}, Shape{2}, dtype);
    const double denominator = 2 + 1e-6;
    CHECK(kernels::bce_with_logits_forward(logits, labels, weights) ==
          doctest::Approx((std::log(2.0) + std::log(4.0)) / denominator).epsilon(1e-6));
    Tensor dlogits = Tensor::zeros(Shape{2}, dtype);
    kernels::bce_with_logits_backward_accumulate(logits, labels, weights, 1.0, dlogits);
    CHECK(dlogits.item(0) == doctest::Approx(-0.5 / denominator).epsilon(1e-6));
    CHECK(dlogits.item(1) == doctest::Approx(0.75 / denominator).epsilon(1e-6));

    // Right at ±100/±1000 costs ~0; wrong at ±30 costs 30 and has gradient ±w/Σw.
    const Tensor extreme = values({100, -100, 30, -30, 1000, -1000}, Shape{2, 3}, dtype);
    const Tensor extreme_labels = values({1, 0, 0, 1, 1, 0}, Shape{2, 3}, dtype);
    const Tensor ones = Tensor::full(Shape{2, 3}, 1.0, dtype);
    CHECK(kernels::bce_with_logits_forward(extreme, extreme_labels, ones) ==
          doctest::Approx(60.0 / (6 + 1e-6)).epsilon(1e-6));
    Tensor dextreme = Tensor::zeros(Shape{2, 3}, dtype);
    kernels::bce_with_logits_backward_accumulate(extreme, extreme_labels, ones, 1.0, dextreme);
    const std::vector<double> expected{0, 0, 1 / 6.0, -1 / 6.0, 0, 0};
    for (int i = 0; i < 6; ++i)
      CHECK(dextreme.item(i) == doctest::Approx(expected[i]).epsilon(1e-5).scale(1e-12));
  }
}

TEST_CASE("loss kernels: f32 matches f64 within 1e-5") {
  const Tensor logits = random_tensor(Shape{50, 30}, 1, -8.0, 8.0, DType::f64);
  std::vector<std::int32_t> target_values(50);
  for (int row = 0; row < 50; ++row) target_values[row] = (row * 7) % 30;
  const Tensor targets = ids(target_values);
  const Tensor weights = random_tensor(Shape{50}, 2, -1.0, 1.0, DType::f64);
  Tensor probs64 = Tensor::empty(logits.shape(), DType::f64),
         probs32 = Tensor::empty(logits.shape());
  const double loss64 = kernels::cross_entropy_forward(logits, targets, weights, probs64);
  const double loss32 = kernels::cross_entropy_forward(logits.to(DType::f32), targets,
                                                       weights.to(DType::f32), probs32);
  CHECK(std::abs(loss32 - loss64) <= 1e-5 * std::abs(loss64));
  const Tensor z = random_tensor(Shape{200}, 3, -20.0, 20.0, DType::f64);
  const Tensor labels = Tensor::from_vector<double>(std::vector<double>(200, 1.0), Shape{200});
  const Tensor bce_weights = random_tensor(Shape{200}, 4, -1.0, 1.0, DType::f64);
  const double bce64 = kernels::bce_with_logits_forward(z, labels, bce_weights);
  const double bce32 = kernels::bce_with_logits_forward(z.to(DType::f32), labels.to(DType::f32),
                                                        bce_weights.to(DType::f32));
  CHECK(std::abs(bce32 - bce64) <= 1e-5 * std::abs(bce64));
}

TEST_CASE("loss kernels: losses and gradients do not depend on the thread count") {
  const Tensor logits = random_tensor(Shape{5000, 13}, 5, -4.0, 4.0, DType::f32);
  std::vector<std::int32_t> target_values(5000);
  for (int row = 0; row < 5000; ++row) target_values[row] = (row * 5) % 13;
  const Tensor targets = ids(target_values);
  const Tensor weights = random_tensor(Shape{5000}, 6, -1.0, 1.0, DType::f32);
  const Tensor labels = Tensor::zeros(Shape{5000, 13});
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor probs = Tensor::empty(logits.shape());
    const double ce = kernels::cross_entropy_forward(logits, targets, weights, probs);
    Tensor dlogits = Tensor::zeros(logits.shape());
    kernels::cross_entropy_backward_accumulate(probs, targets, weights, 1.0, dlogits);
    const Tensor flat_weights = Tensor::full(logits.shape(), 0.5);
    const double bce = kernels::bce_with_logits_forward(logits, labels, flat_weights);
    kernels::bce_with_logits_backward_accumulate(logits, labels, flat_weights, 1.0, dlogits);
    return std::make_tuple(ce, bce, dlogits);
  };
  const auto [ce1, bce1, grad1] = run(1);
  const auto [ce2, bce2, grad2] = run(2);
  set_num_threads(0);
  CHECK(ce1 == ce2);
  CHECK(bce1 == bce2);
  CHECK(std::memcmp(grad1.raw(), grad2.raw(), grad1.nbytes()) == 0);
}

TEST_CASE("loss kernels: bad input names the target, C and the shapes") {
  const Tensor logits = Tensor::zeros(Shape{2, 3});
  const Tensor weights = Tensor::full(Shape{2}, 1.0);
  Tensor probs = Tensor::empty(Shape{2, 3});
  CHECK_THROWS_WITH_AS(kernels::cross_entropy_forward(logits, ids({0, 3}), weights, probs),
                       doctest::Contains("target 3 at row 1 is out of range [0, 3)"), Error);
  CHECK_THROWS_WITH_AS(kernels::cross_entropy_forward(logits, ids({-1, 0}), weights, probs),
                       doctest::Contains("target -1"), Error);
  CHECK_THROWS_WITH_AS(kernels::cross_entropy_forward(logits, ids({0, 1, 2}), weights, probs),
                       doctest::Contains("targets [3] must have 2 elements"), Error);
  CHECK_THROWS_WITH_AS(kernels::cross_entropy_forward(
                           logits, ids({0, 1}), Tensor::full(Shape{2}, 1.0, DType::f64), probs),
                       doctest::Contains("weights"), Error);
  Tensor dlogits = Tensor::zeros(Shape{2, 3});
  CHECK_THROWS_WITH_AS(
      kernels::cross_entropy_backward_accumulate(probs, ids({0, 5}), weights, 1.0, dlogits),
      doctest::Contains("cross_entropy_backward_accumulate: target 5"), Error);
  CHECK_THROWS_WITH_AS(
      kernels::bce_with_logits_forward(Tensor::zeros(Shape{4}), Tensor::zeros(Shape{3}),
                                       Tensor::zeros(Shape{4})),
      doctest::Contains("bce_with_logits_forward: shape mismatch [4] vs [3]"), Error);
}
