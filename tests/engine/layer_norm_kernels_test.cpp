// layer_norm_forward / layer_norm_backward_accumulate: hand-computed values, the backward against
// central differences, f32 vs f64, thread-count independence of dgamma/dbeta, bad input.
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

struct Normalised {
  Tensor y, mean, rstd;
};

Normalised normalise(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  Normalised out{Tensor::empty(x.shape(), x.dtype()),
                 Tensor::empty(Shape{x.shape().rows()}, x.dtype()),
                 Tensor::empty(Shape{x.shape().rows()}, x.dtype())};
  kernels::layer_norm_forward(x, gamma, beta, eps, out.y, out.mean, out.rstd);
  return out;
}

}  // namespace

TEST_CASE("layer norm kernel: hand-computed row") {
  for (DType dtype : {DType::f32, DType::f64}) {
    // x = 1..4: mean 2.5, biased variance 1.25, rstd = 1/√1.25 = 0.894427191.
    const Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, Shape{1, 4}).to(dtype);
    const Tensor gamma = Tensor::from_vector<double>({1, 2, 1, 1}, Shape{4}).to(dtype);
    const Tensor beta = Tensor::from_vector<double>({0, 0, 1, 0}, Shape{4}).to(dtype);
    const Normalised out = normalise(x, gamma, beta, 0.0);
    CHECK(out.mean.item(0) == doctest::Approx(2.5));
    CHECK(out.rstd.item(0) == doctest::Approx(0.894427191).epsilon(1e-6));
    const std::vector<double> expected{-1.3416407865, -0.894427191, 1.4472135955, 1.3416407865};
    for (int c = 0; c < 4; ++c) CHECK(out.y.item(c) == doctest::Approx(expected[c]).epsilon(1e-6));
  }
}

TEST_CASE("layer norm kernel: backward matches central differences and accumulates") {
  const Tensor x = random_tensor(Shape{3, 5}, 1, -2, 2, DType::f64);
  const Tensor gamma = random_tensor(Shape{5}, 2, 0.5, 1.5, DType::f64);
  const Tensor beta = random_tensor(Shape{5}, 3, -1, 1, DType::f64);
  const Tensor dy = random_tensor(Shape{3, 5}, 4, -1, 1, DType::f64);
  const double eps = 1e-5;
  const Normalised out = normalise(x, gamma, beta, eps);
  // Start every gradient at 1 to prove the kernel adds rather than overwrites.
  Tensor dx = Tensor::full(x.shape(), 1.0, DType::f64);
  Tensor dgamma = Tensor::full(Shape{5}, 1.0, DType::f64);
  Tensor dbeta = Tensor::full(Shape{5}, 1.0, DType::f64);
  kernels::layer_norm_backward_accumulate(x, gamma, out.mean, out.rstd, dy, dx, dgamma, dbeta);
  // L = Σ dy ⊙ y; dL/dθ by central differences.
  auto loss = [&](const Tensor& x_, const Tensor& gamma_, const Tensor& beta_) {
    return kernels::dot(normalise(x_, gamma_, beta_, eps).y, dy);
  };
  auto numeric = [&](int which, std::int64_t element) {
    std::vector<Tensor> plus{x.clone(), gamma.clone(), beta.clone()};
    std::vector<Tensor> minus{x.clone(), gamma.clone(), beta.clone()};
    plus[which].data<double>()[element] += 1e-6;
    minus[which].data<double>()[element] -= 1e-6;
    return (loss(plus[0], plus[1], plus[2]) - loss(minus[0], minus[1], minus[2])) / 2e-6;
  };
  for (std::int64_t i = 0; i < x.numel(); ++i)
    CHECK(dx.item(i) - 1 == doctest::Approx(numeric(0, i)).epsilon(1e-6).scale(1));
  for (std::int64_t c = 0; c < 5; ++c) {
    CHECK(dgamma.item(c) - 1 == doctest::Approx(numeric(1, c)).epsilon(1e-6));
    CHECK(dbeta.item(c) - 1 == doctest::Approx(numeric(2, c)).epsilon(1e-6));
  }
  // Undefined outputs are skipped: dgamma alone equals the difference seen above.
  Tensor none, dgamma_only = Tensor::zeros(Shape{5}, DType::f64);
  kernels::layer_norm_backward_accumulate(x, gamma, out.mean, out.rstd, dy, none, dgamma_only,
                                          none);
  for (std::int64_t c = 0; c < 5; ++c)
    CHECK(dgamma_only.item(c) == doctest::Approx(dgamma.item(c) - 1));
}

TEST_CASE("layer norm kernel: f32 matches f64 within 1e-5") {
  const Tensor x = random_tensor(Shape{40, 64}, 5, -3, 5, DType::f64);
  const Tensor gamma = random_tensor(Shape{64}, 6, 0.5, 1.5, DType::f64);
  const Tensor beta = random_tensor(Shape{64}, 7, -1, 1, DType::f64);
  const Normalised reference = normalise(x, gamma, beta, 1e-12);
  const Normalised single =
      normalise(x.to(DType::f32), gamma.to(DType::f32), beta.to(DType::f32), 1e-12);
  const std::vector<double> a = single.y.to_vector(), b = reference.y.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(std::abs(b[i]), 1e-2));
  CHECK(worst <= 1e-5);
}

TEST_CASE("layer norm kernel: dgamma and dbeta do not depend on the thread count") {
  const Tensor x = random_tensor(Shape{3001, 64}, 8, -2, 2, DType::f32);
  const Tensor gamma = random_tensor(Shape{64}, 9, 0.5, 1.5, DType::f32);
  const Tensor beta = random_tensor(Shape{64}, 10, -1, 1, DType::f32);
  const Tensor dy = random_tensor(Shape{3001, 64}, 11, -1, 1, DType::f32);
  const Normalised out = normalise(x, gamma, beta, 1e-12);
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<Tensor> grads{Tensor::zeros(x.shape()), Tensor::zeros(Shape{64}),
                              Tensor::zeros(Shape{64})};
    kernels::layer_norm_backward_accumulate(x, gamma, out.mean, out.rstd, dy, grads[0], grads[1],
                                            grads[2]);
    return grads;
  };
  const std::vector<Tensor> one = run(1), two = run(2);
  set_num_threads(0);
  for (std::size_t i = 0; i < one.size(); ++i)
    CHECK(std::memcmp(one[i].raw(), two[i].raw(), one[i].nbytes()) == 0);
}

TEST_CASE("layer norm kernel: bad input names the kernel and the shapes") {
  const Tensor x = Tensor::zeros(Shape{2, 4});
  const Tensor gamma = Tensor::zeros(Shape{4}), beta = Tensor::zeros(Shape{4});
  Tensor y = Tensor::empty(Shape{2, 4}), mean = Tensor::empty(Shape{2}),
         rstd = Tensor::empty(Shape{2});
  CHECK_THROWS_WITH_AS(
      kernels::layer_norm_forward(x, Tensor::zeros(Shape{3}), beta, 1e-5, y, mean, rstd),
      doctest::Contains("layer_norm_forward: gamma expected shape [4], got [3]"), Error);
  Tensor wrong_mean = Tensor::empty(Shape{4});
  CHECK_THROWS_WITH_AS(kernels::layer_norm_forward(x, gamma, beta, 1e-5, y, wrong_mean, rstd),
                       doctest::Contains("mean expected shape [2], got [4]"), Error);
  CHECK_THROWS_WITH_AS(kernels::layer_norm_forward(x, gamma, beta, -1.0, y, mean, rstd),
                       doctest::Contains("eps"), Error);
  CHECK_THROWS_WITH_AS(
      kernels::layer_norm_forward(x, gamma.to(DType::f64), beta, 1e-5, y, mean, rstd),
      doctest::Contains("dtype"), Error);
  Tensor dx = Tensor::zeros(Shape{4, 2}), none;
  CHECK_THROWS_WITH_AS(
      kernels::layer_norm_backward_accumulate(x, gamma, mean, rstd, x, dx, none, none),
      doctest::Contains("layer_norm_backward_accumulate: shape mismatch"), Error);
}
