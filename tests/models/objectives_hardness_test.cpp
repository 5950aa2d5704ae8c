// Hao et al. 2021 (docs/objectives.md, electra_hp): the focal-loss generator and the hardness-
// predicted sampling, against hand computations, plus the row's gradient boundaries, its config
// fields and one CLI pre-training run.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/op_case_checks.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "helpers/two_sequence_batch.hpp"
#include "models/networks/discriminator.hpp"
#include "models/networks/electra_model.hpp"
#include "models/objectives/electra_hp.hpp"
#include "models/objectives/steps.hpp"

using namespace electra;

namespace {

constexpr std::int64_t kVocab = 50;
constexpr std::int32_t kPad = 0, kCls = 1, kSep = 2, kMask = 3;

ModelConfig hp_config() {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = kVocab;
  config.seq_len = 16;
  config.batch_size = 2;
  config.objective = "electra_hp";
  return config;
}

// As tests/models/model_test.cpp: two sequences of 16, the second with 4 padding tokens; slots
// (3, 5, 7) and (2, 9, padding): position 7 keeps its token, the last slot has weight 0.
MaskedBatch hp_batch() { return test::two_sequence_batch(7, kVocab - 11); }

// The networks of an electra_hp model, built as ElectraModel builds them, so a test can call
// the generator's halves itself.
struct HpNetworks {
  ModelConfig config;
  ParameterStore store;
  ParameterFactory factory;
  SharedEmbeddings embeddings;
  Generator generator;
  Discriminator discriminator;
  HardnessHead head;
  explicit HpNetworks(const ModelConfig& model_config, DType dtype = DType::f64)
      : config(model_config),
        factory(store, 11, dtype, config.initializer_range),
        embeddings(factory, config),
        generator(factory, config, config.generator_dims(), embeddings),
        discriminator(factory, config, embeddings),
        head(factory, config) {}
  ObjectiveNetworks networks(DType dtype = DType::f64) const {
    return {config, 11, dtype, Device::cpu, embeddings, generator, &discriminator, &head};
  }
};

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST_CASE("focal_cross_entropy: a 2×3 example by hand, value and gradient") {
  // Row 0: logits (0, 0, 0), target 1 → p = 1/3. Row 1: logits (0, ln 3, 0), target 1 → p = 3/5.
  // Weights (1, 2), γ = 2. ℓ = −(1 − p)²·ln p; dℓ/dlogits = c·(softmax − onehot) with
  // c = (1 − p)² − 2·p·(1 − p)·ln p (d/dp of ℓ times dp/dlogits = p·(onehot − softmax)).
  for (const DType dtype : {DType::f64, DType::f32}) {
    const Tensor logits64 = Tensor::from_vector<double>({0, 0, 0, 0, std::log(3.0), 0}, {2, 3});
    Var logits(logits64.to(dtype), /*requires_grad=*/true);
    const Tensor targets = Tensor::from_vector<std::int32_t>({1, 1}, {2});
    const Tensor weights = Tensor::from_vector<double>({1, 2}, {2}).to(dtype);
    Tape tape;
    const Var loss = ops::focal_cross_entropy(tape, logits, targets, weights, 2.0);
    const double normaliser = 3.0 + 1e-6;
    const double loss0 = (4.0 / 9.0) * std::log(3.0), loss1 = (4.0 / 25.0) * std::log(5.0 / 3.0);
    const double tolerance = dtype == DType::f64 ? 1e-13 : 2e-6;
    CHECK(loss.value().item() ==
          doctest::Approx((loss0 + 2 * loss1) / normaliser).epsilon(tolerance));
    tape.backward(loss);
    const double c0 = 4.0 / 9.0 + (4.0 / 9.0) * std::log(3.0);
    const double c1 = 4.0 / 25.0 + (12.0 / 25.0) * std::log(5.0 / 3.0);
    const std::vector<double> expected = {c0 / 3 / normaliser,          -2 * c0 / 3 / normaliser,
                                          c0 / 3 / normaliser,          2 * c1 / 5 / normaliser,
                                          2 * -2 * c1 / 5 / normaliser, 2 * c1 / 5 / normaliser};
    const std::vector<double> gradient = logits.grad().to_vector();
    for (std::size_t i = 0; i < expected.size(); ++i)
      CHECK(gradient[i] == doctest::Approx(expected[i]).epsilon(tolerance));
  }
}

TEST_CASE("focal_cross_entropy: float64 central differences over its cases") {
  const std::vector<OpCase> cases = test::op_cases_of(append_focal_cases);
  REQUIRE(cases.size() >= 4);
  test::check_op_cases(cases);
}

TEST_CASE("focal_cross_entropy: γ = 0 is cross_entropy; bad γ and targets are refused") {
  const Tensor values = random_f64({5, 7}, 91, -4.0, 4.0);
  const Tensor targets = Tensor::from_vector<std::int32_t>({0, 6, 3, 3, 1}, {5});
  const Tensor weights = Tensor::from_vector<double>({1, 0, 2, 0.5, 1}, {5});
  Var focal_logits(values.clone(), true), plain_logits(values.clone(), true);
  Tape tape, plain_tape;
  const Var focal = ops::focal_cross_entropy(tape, focal_logits, targets, weights, 0.0);
  const Var plain = ops::cross_entropy(plain_tape, plain_logits, targets, weights);
  CHECK(focal.value().item() == doctest::Approx(plain.value().item()).epsilon(1e-14));
  tape.backward(focal);
  plain_tape.backward(plain);
  const std::vector<double> a = focal_logits.grad().to_vector(),
                            b = plain_logits.grad().to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-12));

  CHECK_THROWS_WITH_AS(ops::focal_cross_entropy(tape, focal_logits, targets, weights, -1.0),
                       doctest::Contains("gamma = -1"), Error);
  const Tensor bad = Tensor::from_vector<std::int32_t>({0, 7, 3, 3, 1}, {5});
  CHECK_THROWS_WITH_AS(ops::focal_cross_entropy(tape, focal_logits, bad, weights, 2.0),
                       doctest::Contains("target 7 of row 1 outside [0, 7)"), Error);
}

TEST_CASE("masked_cross_entropy: γ = 0 calls cross_entropy bit for bit, γ > 0 the focal op") {
  for (const double gamma : {0.0, 1.5}) {
    ModelConfig config = hp_config();
    config.objective = "electra";
    config.generator_focal_gamma = gamma;
    ParameterStore store;
    const ElectraModel model(config, store, 3);  // f32, as training
    const MaskedBatch batch = hp_batch();
    Tape tape;
    const StepOutput out = model.forward(tape, batch, 1, /*training=*/true);
    Tape reference;
    const Tensor targets = batch.masked_original_ids.reshape({6});
    const Tensor weights = batch.masked_weights.reshape({6});
    const Var expected =
        gamma == 0.0
            ? ops::cross_entropy(reference, Var(out.mlm_logits), targets, weights)
            : ops::focal_cross_entropy(reference, Var(out.mlm_logits), targets, weights, gamma);
    CHECK(same_bits(out.mlm_loss.value(), expected.value()));
  }
}

TEST_CASE("electra_hp: hardness target, loss, head gradient and importance weights by hand") {
  ModelConfig config = hp_config();
  config.hidden_dropout = config.attention_dropout = 0.0;
  HpNetworks nets(config);
  const ObjectiveNetworks networks = nets.networks();
  const MaskedBatch batch = hp_batch();
  const std::int64_t slots = 6, length = 16, predictions = 3, E = config.embedding_size;
  // Slot 1 is given its original id (label 0: the 'misjudged' target is σ(z)), the others an id
  // that appears nowhere in the batch (ids ≥ 40 never do: label 1, target 1 − σ(z)).
  const std::vector<std::int32_t> given = {
      41, batch.masked_original_ids.data<std::int32_t>()[1], 43, 44, 45, 0};
  ObjectiveDraw draw;
  draw.step = 2;
  draw.training = false;
  draw.given_samples = Tensor::from_vector(given, {2, 3});
  Tape tape;
  const StepOutput out = find_objective("electra_hp").forward(networks, tape, batch, batch, draw);
  REQUIRE(out.loss("hardness").defined());

  // The head by hand from the generator's transformed state: GELU(t·Aᵀ + a)·Eᵀ + b.
  Tape side;
  const Tensor transformed =
      nets.generator
          .transformed(side, nets.embeddings, batch.masked_input_ids, batch.original.token_type_ids,
                       batch.original.attention_mask,
                       flat_masked_rows(batch.masked_positions, length),
                       {11, draw.step, false, streams::generator_sites})
          .value();
  const Tensor A = nets.store.get("objective.electra_hp.dense.weight").value();
  const Tensor a = nets.store.get("objective.electra_hp.dense.bias").value();
  const Tensor bias = nets.store.get("objective.electra_hp.bias").value();
  const Tensor words = nets.embeddings.word_embeddings().value();
  std::vector<double> head(slots * kVocab);
  for (std::int64_t k = 0; k < slots; ++k) {
    std::vector<double> hidden(E);
    for (std::int64_t i = 0; i < E; ++i) {
      double sum = a.data<double>()[i];
      for (std::int64_t j = 0; j < E; ++j)
        sum += transformed.data<double>()[k * E + j] * A.data<double>()[i * E + j];
      hidden[i] = gelu(sum);
    }
    for (std::int64_t v = 0; v < kVocab; ++v) {
      double sum = bias.data<double>()[v];
      for (std::int64_t i = 0; i < E; ++i) sum += hidden[i] * words.data<double>()[v * E + i];
      head[k * kVocab + v] = sum;
    }
  }

  // Target: P(the discriminator misjudges the token at the slot); loss: weighted BCE.
  const std::vector<double> weights = {1, 1, 1, 1, 1, 0};
  const std::vector<std::int32_t> positions = {3, 5, 7, 2, 9, 0};
  double loss = 0;
  std::vector<double> bias_gradient(kVocab, 0.0), residual(slots, 0.0);
  for (std::int64_t k = 0; k < slots; ++k) {
    if (weights[k] == 0) continue;
    const std::int64_t token = (k / predictions) * length + positions[k];
    const double replaced = sigmoid(out.disc_logits.data<double>()[token]);
    const bool is_replaced = out.corrupted_ids.data<std::int32_t>()[token] !=
                             batch.original.input_ids.data<std::int32_t>()[token];
    CHECK(out.disc_labels.data<double>()[token] == (is_replaced ? 1.0 : 0.0));
    const double target = is_replaced ? 1.0 - replaced : replaced;
    const double x = head[k * kVocab + given[k]];
    loss += std::max(x, 0.0) - x * target + std::log1p(std::exp(-std::abs(x)));
    residual[k] = sigmoid(x) - target;
    bias_gradient[given[k]] += residual[k] / (5 + 1e-6);
  }
  CHECK(out.loss("hardness").value().item() == doctest::Approx(loss / (5 + 1e-6)).epsilon(1e-12));
  CHECK(out.disc_labels.data<double>()[5] == 0.0);  // slot 1 kept its original id
  CHECK(out.disc_labels.data<double>()[7] == 1.0);  // position 7 (unmasked in the input) replaced

  // Importance weight at each slot: p_G(x̂)/q(x̂) = Σ_v p_G(v)(h_v + ε) / (h_x̂ + ε).
  for (std::int64_t k = 0; k < slots; ++k) {
    const std::int64_t token = (k / predictions) * length + positions[k];
    if (weights[k] == 0) {
      CHECK(out.disc_weights.data<double>()[token] == 1.0);  // [CLS], unmasked
      continue;
    }
    double total = 0, weighted = 0;
    for (std::int64_t v = 0; v < kVocab; ++v) {
      const double p = std::exp(out.mlm_logits.data<double>()[k * kVocab + v]);
      total += p;
      weighted += p * (sigmoid(head[k * kVocab + v]) + config.hardness_epsilon);
    }
    const double expected =
        weighted / total / (sigmoid(head[k * kVocab + given[k]]) + config.hardness_epsilon);
    CHECK(out.disc_weights.data<double>()[token] == doctest::Approx(expected).epsilon(1e-12));
  }

  // The head's bias gradient from the hardness loss alone: Σ_k [x̂_k = v]·w_k·(σ(x) − y)/Σw.
  tape.backward(out.loss("hardness"));
  const std::vector<double> gradient =
      nets.store.get("objective.electra_hp.bias").grad().to_vector();
  for (std::int64_t v = 0; v < kVocab; ++v)
    CHECK(gradient[v] == doctest::Approx(bias_gradient[v]).epsilon(1e-10));
}

TEST_CASE("electra_hp: a head that predicts one id is hard concentrates the samples there") {
  // h ≈ 1 for id 23 and ≈ e^−30 elsewhere: q(23) = p_G(23)(1 + ε) / Z ≈ 1 − 50·ε/p_G(23).
  const std::int32_t hard_id = 23;
  std::int64_t hits_plain = 0, hits_hard = 0, drawn = 0;
  for (const bool hard : {false, true}) {
    ModelConfig config = hp_config();
    config.hardness_epsilon = 1e-7;
    HpNetworks nets(config, DType::f32);
    if (hard) {
      Tensor bias = nets.store.get("objective.electra_hp.bias").value();
      for (std::int64_t v = 0; v < kVocab; ++v)
        bias.data<float>()[v] = v == hard_id ? 30.0f : -30.0f;
    }
    const ObjectiveNetworks networks = nets.networks(DType::f32);
    const MaskedBatch batch = hp_batch();
    for (std::uint64_t step = 0; step < 40; ++step) {
      ObjectiveDraw draw;
      draw.step = step;
      Tape tape;
      const StepOutput out =
          find_objective("electra_hp").forward(networks, tape, batch, batch, draw);
      for (std::int64_t k = 0; k < 5; ++k) {  // the five weighted slots
        const bool hit = out.sampled_ids.data<std::int32_t>()[k] == hard_id;
        (hard ? hits_hard : hits_plain) += hit;
        drawn += hard ? 1 : 0;
      }
    }
  }
  CHECK(drawn == 200);
  CHECK(hits_hard >= 198);  // ~1 − 5e-4 per draw
  CHECK(hits_plain <= 30);  // p_G ≈ uniform over 50 ids at init: ~4 of 200
}

TEST_CASE("electra_hp: gradient boundaries of the row hold on a tiny f64 model") {
  const ObjectiveSpec& spec = find_objective("electra_hp");
  REQUIRE(!spec.gradient_boundaries.empty());
  ModelConfig config = hp_config();
  config.generator_focal_gamma = 2.0;
  for (const GradientBoundary& boundary : spec.gradient_boundaries) {
    ParameterStore store;
    const ElectraModel model(config, store, 5, DType::f64);
    Tape tape;
    const StepOutput out = model.forward(tape, hp_batch(), 1, true);
    const Var loss = out.loss(boundary.loss);
    REQUIRE(loss.defined());
    tape.backward(loss);
    bool any_nonzero = false, any_parameter = false;
    for (const Parameter& parameter : store.parameters()) {
      if (parameter.name.rfind(boundary.parameter_prefix, 0) != 0) continue;
      any_parameter = true;
      if (!parameter.var.has_grad()) continue;
      for (const double g : parameter.var.grad().to_vector()) any_nonzero |= g != 0.0;
    }
    INFO(boundary.loss, " → ", boundary.parameter_prefix,
         (boundary.zero ? " must be 0" : " must not"));
    CHECK(any_parameter);
    CHECK(any_nonzero == !boundary.zero);
  }
}

TEST_CASE("electra_hp: config fields are validated with the key named") {
  const auto message = [](const nlohmann::json& json) -> std::string {
    try {
      model_config_from_json(json, hp_config());
    } catch (const Error& error) {
      return error.what();
    }
    return "";
  };
  CHECK(message({{"generator_focal_gamma", -0.5}}) ==
        "config: generator_focal_gamma = -0.5: must be finite and ≥ 0");
  CHECK(test::contains(message({{"hardness_weight", -1}}), "hardness_weight = -1"));
  CHECK(test::contains(message({{"hardness_epsilon", 0}}), "hardness_epsilon = 0"));
  CHECK(message({{"generator_focal_gamma", 2}, {"hardness_importance_correction", false}}).empty());
  // The defaults leave every existing run as it was: γ = 0 (cross_entropy itself).
  CHECK(ModelConfig{}.generator_focal_gamma == 0.0);
}

TEST_CASE("electra_hp: pretrain --objective electra_hp runs a few steps from the CLI") {
  const auto dir = test::scratch_dir("cli");
  const std::string shards = test::prepare_sample_shards(dir, 32);
  test::write_file(dir / "focal.json", R"({"generator_focal_gamma": 2.0, "hardness_weight": 0.5})");
  const test::Run run = test::run_command(
      test::electra_binary + " pretrain --data " + shards + " --out " + (dir / "out").string() +
      " --preset tiny --threads 1 --log-every 1 --save-every 0 --max-steps 3 --objective " +
      "electra_hp --config " + (dir / "focal.json").string());
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(test::contains(run.output, "objective electra_hp"));
  test::write_file(dir / "bad.json", R"({"generator_focal_gamma": -1})");
  const test::Run bad = test::run_command(
      test::electra_binary + " pretrain --data " + shards + " --out " + (dir / "bad").string() +
      " --preset tiny --threads 1 --max-steps 1 --objective electra_hp --config " +
      (dir / "bad.json").string());
  CHECK(bad.exit_code != 0);
  CHECK(test::contains(bad.output, "generator_focal_gamma = -1: must be finite and ≥ 0"));
}
