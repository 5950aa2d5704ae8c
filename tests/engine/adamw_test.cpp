// adamw_update: two hand-computed steps, bias correction, gradient scaling, f32 vs f64,
// thread-count independence and bad settings.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "engine/kernels.hpp"
#include "engine/threads.hpp"

using namespace electra;

namespace {

struct AdamState {
  Tensor parameter, first_moment, second_moment;
  explicit AdamState(const Tensor& initial)
      : parameter(initial.clone()),
        first_moment(Tensor::zeros(initial.shape(), initial.dtype())),
        second_moment(Tensor::zeros(initial.shape(), initial.dtype())) {}
  void step(const Tensor& gradient, const kernels::AdamWSettings& settings) {
    kernels::adamw_update(parameter, gradient, first_moment, second_moment, settings);
  }
};

kernels::AdamWSettings hand_settings() {
  kernels::AdamWSettings settings;
  settings.learning_rate = 0.1;
  settings.weight_decay = 0.01;
  return settings;  // β = (0.9, 0.999), ε = 1e-6, no bias correction
}

}  // namespace

TEST_CASE("adamw: two hand-computed steps without bias correction") {
  for (DType dtype : {DType::f32, DType::f64}) {
    AdamState state(Tensor::full(Shape{1}, 1.0, dtype));
    // Step 1, g = 0.5: m = 0.05, v = 0.00025, p = 1 − 0.1·(0.05/(√0.00025 + 1e-6) + 0.01·1).
    state.step(Tensor::full(Shape{1}, 0.5, dtype), hand_settings());
    CHECK(state.first_moment.item() == doctest::Approx(0.05).epsilon(1e-6));
    CHECK(state.second_moment.item() == doctest::Approx(0.00025).epsilon(1e-6));
    CHECK(state.parameter.item() == doctest::Approx(0.6827922327183312).epsilon(1e-6));
    // Step 2, g = −0.25: m = 0.02, v = 0.00031225.
    state.step(Tensor::full(Shape{1}, -0.25, dtype), hand_settings());
    CHECK(state.first_moment.item() == doctest::Approx(0.02).epsilon(1e-6));
    CHECK(state.second_moment.item() == doctest::Approx(0.00031225).epsilon(1e-6));
    CHECK(state.parameter.item() == doctest::Approx(0.5689334782524007).epsilon(1e-6));
  }
}

TEST_CASE("adamw: bias correction and gradient scale") {
  // With correction at step 1, m̂ = g and v̂ = g²: the update is ≈ sign(g) + wd·p.
  kernels::AdamWSettings corrected = hand_settings();
  corrected.bias_correction = true;
  corrected.step = 1;
  AdamState state(Tensor::full(Shape{1}, 1.0, DType::f64));
  state.step(Tensor::full(Shape{1}, 0.5, DType::f64), corrected);
  CHECK(state.parameter.item() == doctest::Approx(0.8990001999996).epsilon(1e-12));

  // gradient_scale multiplies the gradient before anything else.
  kernels::AdamWSettings scaled = hand_settings();
  scaled.gradient_scale = 0.25;
  AdamState with_scale(Tensor::full(Shape{3}, 2.0, DType::f64));
  AdamState pre_scaled(Tensor::full(Shape{3}, 2.0, DType::f64));
  with_scale.step(Tensor::full(Shape{3}, 0.8, DType::f64), scaled);
  pre_scaled.step(Tensor::full(Shape{3}, 0.2, DType::f64), hand_settings());
  for (int i = 0; i < 3; ++i) {
    CHECK(with_scale.parameter.item(i) ==
          doctest::Approx(pre_scaled.parameter.item(i)).epsilon(1e-14));
    CHECK(with_scale.second_moment.item(i) ==
          doctest::Approx(pre_scaled.second_moment.item(i)).epsilon(1e-14));
  }
}

TEST_CASE("adamw: f32 matches f64 and the thread count does not matter") {
  std::mt19937_64 generator(7);
  std::uniform_real_distribution<double> distribution(-1, 1);
  std::vector<double> initial(40000), gradient(40000);
  for (double& value : initial) value = distribution(generator);
  for (double& value : gradient) value = distribution(generator);
  const Tensor p64 = Tensor::from_vector<double>(initial, Shape{200, 200});
  const Tensor g64 = Tensor::from_vector<double>(gradient, Shape{200, 200});
  AdamState state64(p64), state32(p64.to(DType::f32));
  for (int step = 0; step < 3; ++step) {
    state64.step(g64, hand_settings());
    state32.step(g64.to(DType::f32), hand_settings());
  }
  double worst = 0;
  for (std::int64_t i = 0; i < p64.numel(); ++i)
    worst = std::max(worst, std::abs(state32.parameter.item(i) - state64.parameter.item(i)) /
                                std::max(std::abs(state64.parameter.item(i)), 1e-2));
  CHECK(worst <= 1e-5);

  auto run = [&](int threads) {
    set_num_threads(threads);
    AdamState state(p64.to(DType::f32));
    state.step(g64.to(DType::f32), hand_settings());
    return state.parameter;
  };
  const Tensor one = run(1), two = run(2);
  set_num_threads(0);
  CHECK(std::memcmp(one.raw(), two.raw(), one.nbytes()) == 0);
}

TEST_CASE("adamw: bad input names the kernel") {
  AdamState state(Tensor::zeros(Shape{4}));
  CHECK_THROWS_WITH_AS(state.step(Tensor::zeros(Shape{5}), hand_settings()),
                       doctest::Contains("adamw_update: shape mismatch [4] vs [5]"), Error);
  CHECK_THROWS_WITH_AS(state.step(Tensor::zeros(Shape{4}, DType::f64), hand_settings()),
                       doctest::Contains("adamw_update: dtype mismatch"), Error);
  kernels::AdamWSettings bad = hand_settings();
  bad.beta2 = 1.0;
  CHECK_THROWS_WITH_AS(state.step(Tensor::zeros(Shape{4}), bad), doctest::Contains("betas"), Error);
  bad = hand_settings();
  bad.bias_correction = true;
  bad.step = 0;
  CHECK_THROWS_WITH_AS(state.step(Tensor::zeros(Shape{4}), bad), doctest::Contains("step"), Error);
}
