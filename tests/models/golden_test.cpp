// One update and a 10-update trajectory of every objective against golden files from the
// independent PyTorch reference (tools/reference/electra_reference.py, CPU; regenerate with
// tests/golden/regenerate.sh): tests/golden/<variant>_tiny_{f64,f32}.safetensors, one variant per
// registered objective plus the config-field variants. The fixture holds the parameters, the
// batch, the masked positions and the sampled ids (fed in), and the reference's named losses and
// their weights, logits, gradients and final parameters; nothing here runs Python.
//
// The reference computes in float64 for both fixtures of a pair (the f32 fixture's results are
// rounded to f32), except the first electra pair, whose f32 results are torch's f32.
// Tolerances (docs/audit.md): losses rel ≤ 1e-10 (f64) / 1e-5 (f32); each tensor
// max|Δ| ≤ rtol·max|ref| + atol with rtol 1e-9 (f64) / 1e-4 (f32). The absolute term exists for
// the attention KEY biases: their exact gradient is 0 (a constant added to every key shifts all
// scores of a query equally, which the softmax ignores), so both sides hold rounding noise
// (~1e-17 in f64, ~1e-9 in f32) and Adam's normalised step turns that noise into parameter
// changes of up to ~lr·noise/ε; atol is 1e-13 (f64) / 1e-6 (f32).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "models/objectives/objective.hpp"
#include "models/training/audit_dump.hpp"
#include "models/training/model_audit.hpp"

using namespace electra;

namespace {

struct Tolerance {
  double loss, rtol, atol;
};

// The fixtures: one per registered objective (same name) and one per config-field variant.
const std::vector<std::string> golden_variants = {
    "electra",    "mlm",   "electra15",         "replace_mlm", "all_tokens_mlm",
    "electra_hp", "focal", "replace_mlm_focal", "gdes",        "curriculum"};

std::string golden_path(const std::string& variant, const std::string& dtype) {
  return std::string(ELECTRA_SOURCE_DIR) + "/tests/golden/" + variant + "_tiny_" + dtype +
         ".safetensors";
}

struct Golden {
  std::string path;
  std::vector<std::string> loss_names;  // the reference's named losses, in order
  SafetensorsContents contents;
  ModelConfig config;
  AdamWConfig adam;
  LearningRateSchedule schedule;
  std::uint64_t seed = 0;
  std::int64_t steps = 0;
  DType dtype = DType::f32;
  Tolerance tolerance{};
};

Golden load_golden(const std::string& variant, const std::string& dtype) {
  Golden golden;
  golden.path = golden_path(variant, dtype);
  golden.contents = load_safetensors(golden.path);
  const auto& meta = golden.contents.metadata;
  REQUIRE(meta.at("format") == "electra-golden");
  REQUIRE(meta.at("dtype") == dtype);
  golden.config = model_config_from_json(nlohmann::json::parse(meta.at("config")));
  // The first fixtures (electra, before named losses) carry no "losses" entry.
  const auto names = meta.find("losses");
  std::string list = names == meta.end() ? "mlm,disc" : names->second;
  for (std::size_t at = 0; at <= list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    golden.loss_names.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
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
    const Tensor* samples = golden.contents.find(prefix + "sampled_ids");  // none: nothing sampled
    return run_audited_update(*model, store, *optimizer, golden.schedule,
                              masked_batch_from(golden.contents, prefix, golden.path),
                              samples != nullptr ? *samples : Tensor());
  }
};

// The named losses (and their weights, where the fixture has them) against the reference's
// "<prefix><name>_loss" / "_weight" at entry `k`, and the total.
void check_losses(const Golden& golden, const AuditUpdateRecord& record, const std::string& prefix,
                  std::size_t k, double tolerance, double& worst) {
  const auto reference = [&](const std::string& name) {
    return golden.contents.at(prefix + name).to_vector().at(k);
  };
  REQUIRE(record.losses.size() == golden.loss_names.size());
  for (std::size_t i = 0; i < record.losses.size(); ++i) {
    const AuditLoss& loss = record.losses[i];
    CAPTURE(loss.name);
    REQUIRE(loss.name == golden.loss_names[i]);
    CHECK(relative(loss.value, reference(loss.name + "_loss")) <= tolerance);
    worst = std::max(worst, relative(loss.value, reference(loss.name + "_loss")));
    if (golden.contents.find(prefix + loss.name + "_weight") != nullptr)
      CHECK(std::abs(loss.weight - reference(loss.name + "_weight")) <=
            tolerance * std::abs(reference(loss.name + "_weight")));
  }
  CHECK(relative(record.total_loss, reference("total_loss")) <= tolerance);
  worst = std::max(worst, relative(record.total_loss, reference("total_loss")));
}

void check_one_update(const std::string& variant, const std::string& dtype) {
  const Golden golden = load_golden(variant, dtype);
  const Tolerance& tol = golden.tolerance;
  GoldenModel model(golden);
  const AuditUpdateRecord record = model.update(golden, 0);
  double worst_loss = 0;
  check_losses(golden, record, "reference.", 0, tol.loss, worst_loss);

  // The step's tensors the reference defines (an objective without a discriminator has none).
  const StepOutput& out = record.output;
  const std::pair<const char*, const Tensor*> exact[] = {{"disc_labels", &out.disc_labels}};
  for (const auto& [name, ours] : exact) {
    const Tensor* reference = golden.contents.find(std::string("reference.") + name);
    if (reference == nullptr) continue;
    CAPTURE(name);
    REQUIRE(ours->defined());
    CHECK(compare(*ours, *reference).max_delta == 0.0);
  }
  // disc_weights: 0/1 except electra_hp's importance weights p_G/q at the masked tokens.
  const std::pair<const char*, const Tensor*> close[] = {{"mlm_logits", &out.mlm_logits},
                                                         {"disc_logits", &out.disc_logits},
                                                         {"disc_weights", &out.disc_weights}};
  for (const auto& [name, ours] : close) {
    const Tensor* reference = golden.contents.find(std::string("reference.") + name);
    if (reference == nullptr) continue;
    CAPTURE(name);
    REQUIRE(ours->defined());
    CHECK(compare(*ours, *reference).relative() <= tol.rtol);
  }

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
  MESSAGE(variant, " ", dtype, " losses: worst rel error ", worst_loss);
  for (const auto& [family, error] : worst)
    MESSAGE(variant, " ", dtype, " gradient worst max|Δ|/max|ref| — ", family, ": ", error.first,
            " (", error.second, ")");
}

void check_trajectory(const std::string& variant, const std::string& dtype) {
  const Golden golden = load_golden(variant, dtype);
  const Tolerance& tol = golden.tolerance;
  GoldenModel model(golden);
  const std::vector<double> total = golden.contents.at("trajectory.total_loss").to_vector();
  const std::vector<double> mlm = golden.contents.at("trajectory.mlm_loss").to_vector();
  REQUIRE(static_cast<std::int64_t>(total.size()) == golden.steps);
  REQUIRE(golden.steps == 10);
  double worst_loss = 0;
  for (std::int64_t k = 0; k < golden.steps; ++k) {
    const AuditUpdateRecord record = model.update(golden, k);
    CAPTURE(k);
    // Losses after k updates: rounding differences compound through the updates, most in f32.
    check_losses(golden, record, "trajectory.", static_cast<std::size_t>(k), tol.loss * (1 + k),
                 worst_loss);
  }
  // The trajectory learns: not a vacuous comparison. (The masked-LM loss, which every objective
  // has: a curriculum that ramps a weight up may raise the total.)
  CHECK(mlm.back() < mlm.front());
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
  MESSAGE(variant, " ", dtype, " trajectory: worst loss rel error ", worst_loss,
          ", worst final-parameter max|Δ|/max|p| ", worst_parameter);
}

}  // namespace

TEST_CASE(
    "golden: f64 update matches the PyTorch reference in losses and logits and every gradient") {
  check_one_update("electra", "f64");
}

TEST_CASE(
    "golden: f32 update matches the PyTorch reference in losses and logits and every gradient") {
  check_one_update("electra", "f32");
}

TEST_CASE("golden: f64 10-update trajectory and final parameters match the PyTorch reference") {
  check_trajectory("electra", "f64");
}

TEST_CASE("golden: f32 10-update trajectory and final parameters match the PyTorch reference") {
  check_trajectory("electra", "f32");
}

TEST_CASE("golden: a wrong parameter is caught so the comparison is not vacuous") {
  const Golden golden = load_golden("electra", "f64");
  GoldenModel model(golden);
  Var value = model.store.get("discriminator.electra.encoder.layer.1.output.dense.weight");
  value.value().data<double>()[3] += 1e-4;  // 0.5% of a typical weight
  const AuditUpdateRecord record = model.update(golden, 0);
  const TensorError error = compare(record.gradients[0].tensor,
                                    golden.contents.at("gradients/" + record.gradients[0].name));
  CHECK(relative(record.total_loss, golden.contents.at("reference.total_loss").item()) > 1e-12);
  CHECK(error.max_delta > golden.tolerance.rtol * error.max_reference + golden.tolerance.atol);
}

TEST_CASE("golden: every other variant's update and trajectory match the PyTorch reference") {
  for (const std::string& variant : golden_variants) {
    if (variant == "electra") continue;  // the test cases above
    for (const std::string dtype : {"f64", "f32"}) {
      CAPTURE(variant);
      CAPTURE(dtype);
      check_one_update(variant, dtype);
      check_trajectory(variant, dtype);
    }
  }
}

TEST_CASE("golden: every registered objective has f64 and f32 fixtures of its own name") {
  for (const ObjectiveSpec& spec : objective_table()) {
    CAPTURE(spec.name);
    CHECK(std::find(golden_variants.begin(), golden_variants.end(), spec.name) !=
          golden_variants.end());
    for (const char* dtype : {"f64", "f32"}) {
      CHECK(std::filesystem::exists(golden_path(spec.name, dtype)));
      if (std::filesystem::exists(golden_path(spec.name, dtype)))
        CHECK(load_golden(spec.name, dtype).config.objective == spec.name);
    }
  }
}
