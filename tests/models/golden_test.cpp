// One ELECTRA update and a 10-update trajectory against golden files from the independent
// PyTorch reference (tools/reference/electra_reference.py, CPU; regenerate with
// tests/golden/regenerate.sh). The fixture holds the parameters, the batch, the masked positions
// and the sampled ids (fed in), and the reference's losses, logits, gradients and final
// parameters; nothing here runs Python.
//
// Tolerances (docs/audit.md): losses rel ≤ 1e-10 (f64) / 1e-5 (f32); each tensor
// max|Δ| ≤ rtol·max|ref| + atol with rtol 1e-9 (f64) / 1e-4 (f32). The absolute term exists for
// the attention KEY biases: their exact gradient is 0 (a constant added to every key shifts all
// scores of a query equally, which the softmax ignores), so both sides hold rounding noise
// (~1e-17 in f64, ~1e-9 in f32) and Adam's normalised step turns that noise into parameter
// changes of up to ~lr·noise/ε; atol is 1e-13 (f64) / 1e-6 (f32).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "models/audit_dump.hpp"
#include "models/model_audit.hpp"

using namespace electra;

namespace {

struct Tolerance {
  double loss, rtol, atol;
};

struct Golden {
  std::string path;
  SafetensorsContents contents;
  ModelConfig config;
  AdamWConfig adam;
  LearningRateSchedule schedule;
  std::uint64_t seed = 0;
  std::int64_t steps = 0;
  DType dtype = DType::f32;
  Tolerance tolerance{};
};

Golden load_golden(const std::string& dtype) {
  Golden golden;
  golden.path =
      std::string(ELECTRA_SOURCE_DIR) + "/tests/golden/electra_tiny_" + dtype + ".safetensors";
  golden.contents = load_safetensors(golden.path);
  const auto& meta = golden.contents.metadata;
  REQUIRE(meta.at("format") == "electra-golden");
  REQUIRE(meta.at("dtype") == dtype);
  golden.config = model_config_from_json(nlohmann::json::parse(meta.at("config")));
  const nlohmann::json adam = nlohmann::json::parse(meta.at("optimizer"));
  golden.adam.beta1 = adam.at("beta1");
  golden.adam.beta2 = adam.at("beta2");
  golden.adam.epsilon = adam.at("epsilon");
  golden.adam.weight_decay = adam.at("weight_decay");
  golden.adam.max_grad_norm = adam.at("max_grad_norm");
  golden.adam.bias_correction = adam.at("bias_correction");
  REQUIRE(adam.at("updates_applied_before").get<std::int64_t>() == 0);
  const nlohmann::json schedule = nlohmann::json::parse(meta.at("schedule"));
  golden.schedule = {schedule.at("peak_learning_rate"), schedule.at("warmup_steps"),
                     schedule.at("total_steps")};
  golden.seed = std::stoull(meta.at("seed"));
  golden.steps = std::stoll(meta.at("steps"));
  golden.dtype = dtype == "f64" ? DType::f64 : DType::f32;
  golden.tolerance = dtype == "f64" ? Tolerance{1e-10, 1e-9, 1e-13} : Tolerance{1e-5, 1e-4, 1e-6};
  // The reference cannot reproduce our dropout masks: the golden step has none.
  REQUIRE(golden.config.hidden_dropout == 0.0);
  REQUIRE(golden.config.attention_dropout == 0.0);
  return golden;
}

struct TensorError {
  double max_delta = 0, max_reference = 0;
  double relative() const { return max_reference > 0 ? max_delta / max_reference : max_delta; }
};

TensorError compare(const Tensor& ours, const Tensor& reference) {
  REQUIRE(ours.shape() == reference.shape());
  const std::vector<double> a = ours.to_vector(), b = reference.to_vector();
  TensorError error;
  for (std::size_t i = 0; i < a.size(); ++i) {
    error.max_delta = std::max(error.max_delta, std::abs(a[i] - b[i]));
    error.max_reference = std::max(error.max_reference, std::abs(b[i]));
  }
  return error;
}

double relative(double ours, double reference) {
  return std::abs(ours - reference) / std::abs(reference);
}

// A model whose parameters are the fixture's, and a fresh optimizer (the fixture starts from
// zero moments).
struct GoldenModel {
  ParameterStore store;
  std::unique_ptr<ElectraModel> model;
  std::unique_ptr<AdamW> optimizer;
  explicit GoldenModel(const Golden& golden) {
    model = std::make_unique<ElectraModel>(golden.config, store, golden.seed, golden.dtype);
    load_parameter_values(store, golden.contents, "parameters/", golden.path);
    optimizer = std::make_unique<AdamW>(store, golden.adam);
  }
  AuditUpdateRecord update(const Golden& golden, std::int64_t k) {
    const std::string prefix = "step_" + std::to_string(k) + ".";
    return run_audited_update(*model, store, *optimizer, golden.schedule,
                              masked_batch_from(golden.contents, prefix, golden.path),
                              golden.contents.at(prefix + "sampled_ids"));
  }
};

void check_one_update(const std::string& dtype) {
  const Golden golden = load_golden(dtype);
  const Tolerance& tol = golden.tolerance;
  GoldenModel model(golden);
  const AuditUpdateRecord record = model.update(golden, 0);

  CHECK(relative(record.mlm_loss, golden.contents.at("reference.mlm_loss").item()) <= tol.loss);
  CHECK(relative(record.disc_loss, golden.contents.at("reference.disc_loss").item()) <= tol.loss);
  CHECK(relative(record.total_loss, golden.contents.at("reference.total_loss").item()) <= tol.loss);
  CHECK(compare(record.output.disc_labels, golden.contents.at("reference.disc_labels")).max_delta ==
        0.0);
  CHECK(compare(record.output.mlm_logits, golden.contents.at("reference.mlm_logits")).relative() <=
        tol.rtol);
  CHECK(
      compare(record.output.disc_logits, golden.contents.at("reference.disc_logits")).relative() <=
      tol.rtol);

  std::map<std::string, std::pair<double, std::string>> worst;  // family → (rel, tensor)
  REQUIRE(record.gradients.size() == model.store.size());
  for (const NamedTensor& gradient : record.gradients) {
    const TensorError error =
        compare(gradient.tensor, golden.contents.at("gradients/" + gradient.name));
    CAPTURE(gradient.name);
    CAPTURE(error.max_delta);
    CAPTURE(error.max_reference);
    CHECK(error.max_delta <= tol.rtol * error.max_reference + tol.atol);
    // Tensors with an exactly-zero true gradient (key biases) are noise on both sides.
    if (error.max_reference < 1e3 * tol.atol) continue;
    std::pair<double, std::string>& family = worst[parameter_family(gradient.name)];
    if (error.relative() >= family.first) family = {error.relative(), gradient.name};
  }
  CHECK(worst.size() == 5);  // embeddings, attention, FFN, LayerNorm, heads
  for (const auto& [family, error] : worst)
    MESSAGE(dtype, " gradient worst max|Δ|/max|ref| — ", family, ": ", error.first, " (",
            error.second, ")");
}

void check_trajectory(const std::string& dtype) {
  const Golden golden = load_golden(dtype);
  const Tolerance& tol = golden.tolerance;
  GoldenModel model(golden);
  const std::vector<double> mlm = golden.contents.at("trajectory.mlm_loss").to_vector();
  const std::vector<double> disc = golden.contents.at("trajectory.disc_loss").to_vector();
  const std::vector<double> total = golden.contents.at("trajectory.total_loss").to_vector();
  REQUIRE(static_cast<std::int64_t>(total.size()) == golden.steps);
  REQUIRE(golden.steps == 10);
  double worst_loss = 0;
  for (std::int64_t k = 0; k < golden.steps; ++k) {
    const AuditUpdateRecord record = model.update(golden, k);
    CAPTURE(k);
    // Losses after k updates: rounding differences compound through the updates, most in f32.
    const double loss_tolerance = tol.loss * (1 + k);
    CHECK(relative(record.mlm_loss, mlm[k]) <= loss_tolerance);
    CHECK(relative(record.disc_loss, disc[k]) <= loss_tolerance);
    CHECK(relative(record.total_loss, total[k]) <= loss_tolerance);
    worst_loss = std::max(worst_loss, relative(record.total_loss, total[k]));
  }
  CHECK(total.back() < total.front());  // the trajectory learns: not a vacuous comparison
  double worst_parameter = 0;
  for (const Parameter& parameter : model.store.parameters()) {
    const TensorError error =
        compare(parameter.var.value(), golden.contents.at("final/" + parameter.name));
    CAPTURE(parameter.name);
    CAPTURE(error.max_delta);
    CHECK(error.max_delta <= tol.rtol * error.max_reference + tol.atol);
    // Key biases stay at rounding-noise size (see the top of this file): not a relative quantity.
    if (error.max_reference >= 1e3 * tol.atol)
      worst_parameter = std::max(worst_parameter, error.relative());
  }
  MESSAGE(dtype, " trajectory: worst total-loss rel error ", worst_loss,
          ", worst final-parameter max|Δ|/max|p| ", worst_parameter);
}

}  // namespace

TEST_CASE(
    "golden: f64 update matches the PyTorch reference in losses and logits and every gradient") {
  check_one_update("f64");
}

TEST_CASE(
    "golden: f32 update matches the PyTorch reference in losses and logits and every gradient") {
  check_one_update("f32");
}

TEST_CASE("golden: f64 10-update trajectory and final parameters match the PyTorch reference") {
  check_trajectory("f64");
}

TEST_CASE("golden: f32 10-update trajectory and final parameters match the PyTorch reference") {
  check_trajectory("f32");
}

TEST_CASE("golden: a wrong parameter is caught so the comparison is not vacuous") {
  const Golden golden = load_golden("f64");
  GoldenModel model(golden);
  Var value = model.store.get("discriminator.electra.encoder.layer.1.output.dense.weight");
  value.value().data<double>()[3] += 1e-4;  // 0.5% of a typical weight
  const AuditUpdateRecord record = model.update(golden, 0);
  const TensorError error = compare(record.gradients[0].tensor,
                                    golden.contents.at("gradients/" + record.gradients[0].name));
  CHECK(relative(record.total_loss, golden.contents.at("reference.total_loss").item()) > 1e-12);
  CHECK(error.max_delta > golden.tolerance.rtol * error.max_reference + golden.tolerance.atol);
}
