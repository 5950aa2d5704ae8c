// softmax_forward / log_softmax_forward and their backward kernels: hand-computed values, masks,
// saturation, f32 vs f64, thread-count independence and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "engine/kernels.hpp"
#include "engine/threads.hpp"
#include "helpers/random_tensors.hpp"

using namespace electra;
using namespace electra::test;

namespace {

void check_close(const Tensor& actual, const std::vector<double>& expected, double tolerance) {
  const std::vector<double> values = actual.to_vector();
  REQUIRE(values.size() == expected.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("element " << i);
    CHECK(values[i] == doctest::Approx(expected[i]).epsilon(tolerance).scale(1e-12));
  }
}

Tensor softmax_of(const Tensor& x, const Tensor& mask = {}, std::int64_t rows_per_mask_row = 1) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  kernels::softmax_forward(x, mask, rows_per_mask_row, y);
  return y;
}

double max_relative_difference(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(std::abs(y[i]), 1e-30));
  return worst;
}

}  // namespace

TEST_CASE("softmax kernel: hand-computed rows, with and without a mask") {
  const double ln2 = std::log(2.0), ln3 = std::log(3.0);
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor x = Tensor::from_vector<double>({0, ln2, ln3, 0, ln2, ln3}, Shape{2, 3}).to(dtype);
    // e^x = 1, 2, 3 → divided by 6.
    check_close(softmax_of(x), {1 / 6.0, 2 / 6.0, 3 / 6.0, 1 / 6.0, 2 / 6.0, 3 / 6.0}, 1e-6);
    // Dropping the third key leaves 1, 2 → divided by 3.
    const Tensor mask = Tensor::from_vector<double>({0, 0, -10000}, Shape{1, 3}).to(dtype);
    check_close(softmax_of(x, mask), {1 / 3.0, 2 / 3.0, 0, 1 / 3.0, 2 / 3.0, 0}, 1e-6);
  }
}

TEST_CASE("softmax kernel: row r uses mask row (r / rows_per_mask_row) % mask_rows") {
  const Tensor x = Tensor::zeros(Shape{4, 2}, DType::f64);
  const Tensor mask = Tensor::from_vector<double>({0, -10000, -10000, 0}, Shape{2, 2});
  // Rows 0, 1 → mask row 0 (keep key 0); rows 2, 3 → mask row 1 (keep key 1).
  check_close(softmax_of(x, mask, 2), {1, 0, 1, 0, 0, 1, 0, 1}, 1e-12);
  // rows_per_mask_row 1 with fewer mask rows than rows wraps around: 0, 1, 0, 1.
  check_close(softmax_of(x, mask, 1), {1, 0, 0, 1, 1, 0, 0, 1}, 1e-12);
  // Attention layout: scores [B=2, H=2, Lq=3, Lk=2], key mask [B, Lk], rows_per_mask_row = H·Lq.
  const Tensor scores = Tensor::zeros(Shape{2, 2, 3, 2}, DType::f64);
  const std::vector<double> y = softmax_of(scores, mask, 2 * 3).to_vector();
  for (int row = 0; row < 12; ++row) CHECK(y[row * 2 + (row < 6 ? 0 : 1)] == 1.0);
}

TEST_CASE("softmax kernel: saturated and fully masked rows stay finite") {
  const double inf = std::numeric_limits<double>::infinity();
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor x =
        Tensor::from_vector<double>({1000, 0, -1000, -1000, 30, -30}, Shape{3, 2}).to(dtype);
    check_close(softmax_of(x), {1, 0, 0.5, 0.5, 1, std::exp(-60.0)}, 1e-5);
    // Every key masked with −inf: nothing to attend to, a uniform row rather than NaN.
    const Tensor all_masked = Tensor::from_vector<double>({-inf, -inf}, Shape{1, 2}).to(dtype);
    check_close(softmax_of(x, all_masked), {0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, 1e-12);
    Tensor log_y = Tensor::empty(x.shape(), dtype);
    kernels::log_softmax_forward(x, log_y);
    // Row 0: [0, −1000]; row 2: [0, −60] (−log(1 + e^−60) rounds to 0).
    check_close(log_y, {0, -1000, -std::log(2.0), -std::log(2.0), 0, -60}, 1e-6);
  }
}

TEST_CASE("softmax kernel: backward of hand-computed rows accumulates") {
  const Tensor y = Tensor::from_vector<double>({0.25, 0.75}, Shape{1, 2});
  const Tensor dy = Tensor::from_vector<double>({1, 0}, Shape{1, 2});
  Tensor dx = Tensor::full(Shape{1, 2}, 1.0, DType::f64);
  // Σ dy·y = 0.25 → dx += [0.25·0.75, 0.75·(−0.25)].
  kernels::softmax_backward_accumulate(y, dy, dx);
  check_close(dx, {1.1875, 0.8125}, 1e-12);

  // log_softmax of [0, ln 3]: y = [−ln 4, ln 3 − ln 4]; dy = [1, 1] → dx = dy − softmax·2.
  const Tensor x = Tensor::from_vector<double>({0, std::log(3.0)}, Shape{1, 2});
  Tensor log_y = Tensor::empty(Shape{1, 2}, DType::f64);
  kernels::log_softmax_forward(x, log_y);
  check_close(log_y, {-std::log(4.0), std::log(0.75)}, 1e-12);
  Tensor log_dx = Tensor::zeros(Shape{1, 2}, DType::f64);
  kernels::log_softmax_backward_accumulate(log_y, Tensor::full(Shape{1, 2}, 1.0, DType::f64),
                                           log_dx);
  check_close(log_dx, {0.5, -0.5}, 1e-12);
}

TEST_CASE("softmax kernel: f32 matches f64 within 1e-5") {
  const Tensor x64 = random_tensor(Shape{64, 50}, 1, -10.0, 10.0, DType::f64);
  const Tensor x32 = x64.to(DType::f32);
  const Tensor mask64 = random_tensor(Shape{4, 50}, 2, -3.0, 3.0, DType::f64);
  CHECK(max_relative_difference(softmax_of(x32, mask64.to(DType::f32), 16),
                                softmax_of(x64, mask64, 16)) <= 1e-5);
  Tensor log32 = Tensor::empty(x32.shape(), DType::f32),
         log64 = Tensor::empty(x64.shape(), DType::f64);
  kernels::log_softmax_forward(x32, log32);
  kernels::log_softmax_forward(x64, log64);
  CHECK(max_relative_difference(log32, log64) <= 1e-5);
}

TEST_CASE("softmax kernel: results do not depend on the thread count") {
  const Tensor x = random_tensor(Shape{3000, 37}, 3, -5.0, 5.0, DType::f32);
  const Tensor dy = random_tensor(Shape{3000, 37}, 4, -1.0, 1.0, DType::f32);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor y = softmax_of(x);
    Tensor dx = Tensor::zeros(x.shape(), DType::f32);
    kernels::softmax_backward_accumulate(y, dy, dx);
    Tensor log_y = Tensor::empty(x.shape(), DType::f32);
    kernels::log_softmax_forward(x, log_y);
    kernels::log_softmax_backward_accumulate(log_y, dy, dx);
    return std::vector<Tensor>{y, dx, log_y};
  };
  const std::vector<Tensor> one = run(1), two = run(2);
  set_num_threads(0);
  for (std::size_t i = 0; i < one.size(); ++i)
    CHECK(std::memcmp(one[i].raw(), two[i].raw(), one[i].nbytes()) == 0);
}

TEST_CASE("softmax kernel: bad input names the kernel and the shapes") {
  const Tensor x = Tensor::zeros(Shape{2, 3});
  Tensor y_wrong = Tensor::empty(Shape{3, 2});
  CHECK_THROWS_WITH_AS(kernels::softmax_forward(x, {}, 1, y_wrong),
                       doctest::Contains("softmax_forward: shape mismatch [2, 3] vs [3, 2]"),
                       Error);
  Tensor y = Tensor::empty(Shape{2, 3});
  CHECK_THROWS_WITH_AS(kernels::softmax_forward(x, Tensor::zeros(Shape{1, 4}), 1, y),
                       doctest::Contains("mask [1, 4]"), Error);
  CHECK_THROWS_WITH_AS(kernels::softmax_forward(x, Tensor::zeros(Shape{1, 3}, DType::f64), 1, y),
                       doctest::Contains("dtype"), Error);
  CHECK_THROWS_WITH_AS(kernels::softmax_forward(x, Tensor::zeros(Shape{1, 3}), 0, y),
                       doctest::Contains("rows_per_mask_row"), Error);
  CHECK_THROWS_WITH_AS(kernels::softmax_forward(x, Tensor::zeros(Shape{2, 3}), 3, y),
                       doctest::Contains("rows_per_mask_row 3"), Error);
  Tensor ids = Tensor::zeros(Shape{2, 3}, DType::i32);
  CHECK_THROWS_WITH_AS(kernels::log_softmax_forward(ids, ids), doctest::Contains("f32 or f64"),
                       Error);
  Tensor dx = Tensor::zeros(Shape{2, 3}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::softmax_backward_accumulate(x, x, dx),
                       doctest::Contains("softmax_backward_accumulate: dtype mismatch"), Error);
  Tensor empty = Tensor::empty(Shape{0, 3});
  CHECK_THROWS_WITH_AS(kernels::log_softmax_forward(empty, empty), doctest::Contains("empty"),
                       Error);
}
