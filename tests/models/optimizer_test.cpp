// AdamW: one and two updates against values worked out in f64 by hand, global-norm clipping,
// weight-decay exclusion, per-parameter learning-rate scales, bias correction, and a state
// save/load that continues bit-identically.
#include "models/training/optimizer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace electra;

namespace {

void set_grad(Var var, const std::vector<double>& values) {
  Tensor& grad = var.grad_buffer();
  REQUIRE(grad.numel() == static_cast<std::int64_t>(values.size()));
  std::copy(values.begin(), values.end(), grad.data<double>());
}

// The reference update for one element, written from the formula (no bias correction).
struct ElementState {
  double p, m = 0, v = 0;
  void update(double g, double lr, double wd) {
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    p -= lr * (m / (std::sqrt(v) + 1e-6) + wd * p);
  }
};

}  // namespace

TEST_CASE("optimizer: two AdamW updates match the hand-computed f64 values") {
  ParameterStore store;
  Var weight =
      store.add("layer.dense.weight", Tensor::from_vector<double>({1.0, -2.0, 0.5}, {3}), true);
  Var bias = store.add("layer.dense.bias", Tensor::from_vector<double>({0.25}, {1}), false);
  AdamW optimizer(store);

  std::vector<ElementState> expected_weight{{1.0}, {-2.0}, {0.5}};
  ElementState expected_bias{0.25};
  const std::vector<std::vector<double>> weight_grads{{0.1, -0.2, 0.05}, {0.3, 0.1, -0.1}};
  const std::vector<double> bias_grads{0.4, -0.3};
  const double rates[2] = {1e-2, 5e-3};
  for (int update = 0; update < 2; ++update) {
    set_grad(weight, weight_grads[update]);
    set_grad(bias, {bias_grads[update]});
    const OptimizerStepReport report = optimizer.step(rates[update]);
    double squared = bias_grads[update] * bias_grads[update];
    for (double g : weight_grads[update]) squared += g * g;
    CHECK(report.grad_norm == doctest::Approx(std::sqrt(squared)).epsilon(1e-14));
    CHECK(report.gradient_scale == 1.0);  // norms 0.47 and 0.44: below the clip threshold
    CHECK(report.learning_rate == rates[update]);
    for (int i = 0; i < 3; ++i)
      expected_weight[i].update(weight_grads[update][i], rates[update], 0.01);
    expected_bias.update(bias_grads[update], rates[update], 0.0);
  }
  CHECK(optimizer.updates_applied() == 2);
  for (int i = 0; i < 3; ++i) {
    CHECK(weight.value().item(i) == doctest::Approx(expected_weight[i].p).epsilon(1e-13));
    CHECK(optimizer.first_moment("layer.dense.weight").item(i) ==
          doctest::Approx(expected_weight[i].m).epsilon(1e-13));
    CHECK(optimizer.second_moment("layer.dense.weight").item(i) ==
          doctest::Approx(expected_weight[i].v).epsilon(1e-13));
  }
  CHECK(bias.value().item() == doctest::Approx(expected_bias.p).epsilon(1e-13));
  // One number written out: weight[0] after the first update, by hand:
  // m = 0.01, v = 1e-5, m/(√v + ε) = 0.01/(0.0031623 + 1e-6) = 3.161278, + 0.01·1.0,
  // p = 1 − 0.01 · 3.171278 = 0.96828722.
  ElementState first{1.0};
  first.update(0.1, 1e-2, 0.01);
  CHECK(first.p == doctest::Approx(0.96828722).epsilon(1e-7));
}

TEST_CASE("optimizer: the global gradient norm is clipped to 1 through gradient_scale") {
  ParameterStore store;
  Var a = store.add("a.weight", Tensor::from_vector<double>({0.0, 0.0}, {2}), false);
  Var b = store.add("b.weight", Tensor::from_vector<double>({0.0}, {1}), false);
  AdamW optimizer(store);
  set_grad(a, {3.0, 0.0});
  set_grad(b, {4.0});  // global norm 5 across both parameters
  const OptimizerStepReport report = optimizer.step(1e-3);
  CHECK(report.grad_norm == doctest::Approx(5.0).epsilon(1e-15));
  CHECK(report.gradient_scale == doctest::Approx(0.2).epsilon(1e-15));
  // The moments see the clipped gradient 0.2·g; the gradients themselves are left as they were.
  CHECK(optimizer.first_moment("a.weight").item(0) == doctest::Approx(0.1 * 0.6).epsilon(1e-14));
  CHECK(optimizer.second_moment("b.weight").item(0) ==
        doctest::Approx(0.001 * 0.8 * 0.8).epsilon(1e-14));
  CHECK(a.grad().item(0) == 3.0);
  // With clipping disabled, the moment sees the raw gradient.
  ParameterStore other;
  Var c = other.add("c.weight", Tensor::from_vector<double>({0.0}, {1}), false);
  AdamW unclipped(other, AdamWConfig{.max_grad_norm = 0});
  set_grad(c, {5.0});
  CHECK(unclipped.step(1e-3).gradient_scale == 1.0);
  CHECK(unclipped.first_moment("c.weight").item(0) == doctest::Approx(0.5).epsilon(1e-14));
}

TEST_CASE("optimizer: weight decay applies only where Parameter::weight_decay is set") {
  ParameterStore store;
  Var decayed = store.add("x.dense.weight", Tensor::from_vector<double>({2.0}, {1}), true);
  Var layer_norm = store.add("x.LayerNorm.weight", Tensor::from_vector<double>({2.0}, {1}), false);
  Var bias = store.add("x.dense.bias", Tensor::from_vector<double>({2.0}, {1}), false);
  Var untouched = store.add("y.dense.weight", Tensor::from_vector<double>({2.0}, {1}), true);
  AdamW optimizer(store);
  // Zero gradients: Adam's term is 0, so only the decay can move a parameter.
  set_grad(decayed, {0.0});
  set_grad(layer_norm, {0.0});
  set_grad(bias, {0.0});
  // `untouched` has no gradient at all: skipped entirely, decay included (TF skips None grads).
  optimizer.step(0.1);
  CHECK(decayed.value().item() == doctest::Approx(2.0 - 0.1 * 0.01 * 2.0).epsilon(1e-15));
  CHECK(layer_norm.value().item() == 2.0);
  CHECK(bias.value().item() == 2.0);
  CHECK(untouched.value().item() == 2.0);
}

TEST_CASE("optimizer: per-parameter learning-rate scales; all 1 is the plain update, bit for bit") {
  auto make_store = [](ParameterStore& store) {
    store.add("deep.weight", Tensor::from_vector<double>({1.0, -2.0}, {2}), true);
    store.add("head.bias", Tensor::from_vector<double>({0.5}, {1}), false);
  };
  ParameterStore plain_store, ones_store, scaled_store;
  make_store(plain_store);
  make_store(ones_store);
  make_store(scaled_store);
  AdamW plain(plain_store);
  AdamW ones(ones_store, {}, {1.0, 1.0});
  AdamW scaled(scaled_store, {}, {0.25, 0.0});
  CHECK(plain.learning_rate_scales() == std::vector<double>{1.0, 1.0});
  for (ParameterStore* store : {&plain_store, &ones_store, &scaled_store}) {
    set_grad(store->parameters()[0].var, {0.3, -0.1});
    set_grad(store->parameters()[1].var, {0.2});
  }
  plain.step(1e-2);
  ones.step(1e-2);
  scaled.step(1e-2);
  for (std::size_t i = 0; i < 2; ++i) {
    const Tensor& expected = plain_store.parameters()[i].var.value();
    const Tensor& got = ones_store.parameters()[i].var.value();
    for (std::int64_t j = 0; j < expected.numel(); ++j) CHECK(got.item(j) == expected.item(j));
  }
  // Scale 0.25: a quarter of the plain step (decay included); scale 0: the parameter stays.
  const Tensor& deep = scaled_store.parameters()[0].var.value();
  const Tensor& plain_deep = plain_store.parameters()[0].var.value();
  CHECK(1.0 - deep.item(0) == doctest::Approx(0.25 * (1.0 - plain_deep.item(0))).epsilon(1e-12));
  CHECK(scaled_store.parameters()[1].var.value().item() == 0.5);
  // The moments do not depend on the scale.
  CHECK(scaled.first_moment("deep.weight").item(0) == plain.first_moment("deep.weight").item(0));

  CHECK_THROWS_WITH(AdamW(plain_store, {}, {1.0}),
                    doctest::Contains("1 learning-rate scales for 2 parameters"));
  CHECK_THROWS_WITH(AdamW(plain_store, {}, {1.0, -0.5}), doctest::Contains("'head.bias'"));
}

TEST_CASE("optimizer: bias correction when enabled; a non-finite gradient changes nothing") {
  ParameterStore store;
  Var p = store.add("p.weight", Tensor::from_vector<double>({1.0}, {1}), false);
  AdamW optimizer(store, AdamWConfig{.bias_correction = true});
  set_grad(p, {0.5});
  optimizer.step(0.1);
  // Step 1 corrected: m̂ = g, v̂ = g², update = g/(|g| + ε).
  CHECK(p.value().item() == doctest::Approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-6)).epsilon(1e-13));

  set_grad(p, {std::numeric_limits<double>::quiet_NaN()});
  const double before = p.value().item();
  CHECK_THROWS_WITH(optimizer.step(0.1), doctest::Contains("gradient norm is nan at update 2"));
  CHECK(p.value().item() == before);
  CHECK(optimizer.updates_applied() == 1);
}

TEST_CASE("optimizer: saved state reloads and continues bit-identically; mismatches are refused") {
  auto make_store = [](ParameterStore& store) {
    store.add("w", Tensor::from_vector<float>({0.5f, -0.25f, 1.0f, 2.0f}, {2, 2}), true);
    store.add("b", Tensor::from_vector<float>({0.1f, 0.2f}, {2}), false);
  };
  auto set_grads = [](ParameterStore& store, int update) {
    for (const Parameter& parameter : store.parameters()) {
      Var var = parameter.var;
      Tensor& grad = var.grad_buffer();
      for (std::int64_t i = 0; i < grad.numel(); ++i) {
        grad.data<float>()[i] =
            0.1f * static_cast<float>((i + 1) * (update % 2 ? 1 : -1)) + 0.03f * update;
      }
    }
  };
  ParameterStore straight_store, resumed_store;
  make_store(straight_store);
  make_store(resumed_store);
  AdamW straight(straight_store);
  AdamW first_half(resumed_store);
  for (int update = 0; update < 3; ++update) {
    set_grads(straight_store, update);
    straight.step(1e-2);
    set_grads(resumed_store, update);
    first_half.step(1e-2);
  }
  const std::string bytes =
      serialize_safetensors(first_half.state_tensors(), first_half.state_metadata());
  AdamW resumed(resumed_store);
  resumed.load_state(parse_safetensors(bytes, "optimizer.safetensors"), "optimizer.safetensors");
  CHECK(resumed.updates_applied() == 3);
  for (int update = 3; update < 5; ++update) {
    set_grads(straight_store, update);
    straight.step(1e-2);
    set_grads(resumed_store, update);
    resumed.step(1e-2);
  }
  for (const char* name : {"w", "b"}) {
    CHECK(straight_store.get(name).value().to_vector() ==
          resumed_store.get(name).value().to_vector());
    CHECK(straight.second_moment(name).to_vector() == resumed.second_moment(name).to_vector());
  }

  // A state for a different shape names the tensor and both shapes.
  ParameterStore other;
  other.add("w", Tensor::zeros({4}), true);
  other.add("b", Tensor::zeros({2}), false);
  AdamW mismatched(other);
  CHECK_THROWS_WITH(
      mismatched.load_state(parse_safetensors(bytes, "opt.st"), "opt.st"),
      doctest::Contains("opt.st: tensor 'w/adam_m' is f32[2, 2] but the parameter is f32[4]"));
  ParameterStore extra;
  make_store(extra);
  extra.add("new.weight", Tensor::zeros({1}), true);
  AdamW missing(extra);
  CHECK_THROWS_WITH(missing.load_state(parse_safetensors(bytes, "opt.st"), "opt.st"),
                    doctest::Contains("missing tensor 'new.weight/adam_m'"));
}
