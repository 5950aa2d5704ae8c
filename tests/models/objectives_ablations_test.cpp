// The ELECTRA paper's efficiency ablations (Clark et al. 2020 §3.5, Table 5) as objectives:
// electra15, replace_mlm, all_tokens_mlm. Per objective on a tiny float64 model: the losses equal
// the formula evaluated by hand on the network's own outputs, the gradient boundaries of the row
// hold, one AdamW step lowers the loss, and the config validates; `electra pretrain --objective
// replace_mlm` and `electra export` run from the CLI. The copy-mixture op itself:
// tests/autograd/copy_mixture_loss_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "autograd/ops.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "helpers/tiny_checkpoint.hpp"
#include "helpers/two_sequence_batch.hpp"
#include "models/networks/electra_model.hpp"
#include "models/networks/embeddings.hpp"
#include "models/networks/generator.hpp"
#include "models/networks/parameter_init.hpp"
#include "models/objectives/main_network.hpp"
#include "models/objectives/steps.hpp"
#include "models/training/optimizer.hpp"

using namespace electra;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kVocab = 50, kBatch = 2, kLength = 16, kPredictions = 3;
constexpr std::int32_t kPad = 0, kCls = 1, kSep = 2, kMask = 3;

ModelConfig ablation_config(const std::string& objective) {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = kVocab;
  config.seq_len = kLength;
  config.batch_size = kBatch;
  config.objective = objective;
  return config;
}

// Two sequences of 16; the second has 4 padding tokens. Row 0 masks positions 3, 5, 7 (7 keeps
// its token, as BERT's 10% keep); row 1 masks 2 and 9 and has one padding slot (weight 0).
MaskedBatch ablation_batch() { return test::two_sequence_batch(11, kVocab - 1, DType::f64); }

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

double grad_abs_sum(const Var& var) {
  if (!var.has_grad()) return 0;
  double total = 0;
  for (double g : var.grad().to_vector()) total += std::abs(g);
  return total;
}

// The networks of an ElectraModel built by hand in the same order (embeddings, generator, the
// row's heads), so the tests can run the main network on inputs of their choosing.
struct HandBuilt {
  ParameterStore store;
  ModelConfig config;
  std::unique_ptr<SharedEmbeddings> embeddings;
  std::unique_ptr<Generator> generator;
  std::unique_ptr<ObjectiveHeads> heads;

  HandBuilt(const ModelConfig& model_config, std::uint64_t seed) : config(model_config) {
    ParameterFactory factory(store, seed, DType::f64, config.initializer_range);
    embeddings = std::make_unique<SharedEmbeddings>(factory, config);
    generator = std::make_unique<Generator>(factory, config, config.generator_dims(), *embeddings);
    heads = find_objective(config.objective).build_heads(factory, config, *embeddings);
  }
  ObjectiveNetworks networks(std::uint64_t seed) const {
    return {config, seed, DType::f64, Device::cpu, *embeddings, *generator, nullptr, heads.get()};
  }
};

// The row's gradient boundaries, checked loss by loss on a fresh backward of that loss alone.
void check_boundaries(const std::string& objective, std::uint64_t seed) {
  const ModelConfig config = ablation_config(objective);
  ParameterStore store;
  ElectraModel model(config, store, seed, DType::f64);
  const ObjectiveSpec& spec = find_objective(objective);
  REQUIRE(!spec.gradient_boundaries.empty());
  for (const GradientBoundary& boundary : spec.gradient_boundaries) {
    CAPTURE(boundary.loss);
    CAPTURE(boundary.parameter_prefix);
    store.zero_grad();
    Tape tape;
    const StepOutput out = model.forward(tape, ablation_batch(), 2, true);
    const Var loss = out.loss(boundary.loss);
    REQUIRE(loss.defined());
    tape.backward(loss);
    double total = 0;
    std::int64_t matched = 0;
    for (const Parameter& parameter : store.parameters()) {
      if (!starts_with(parameter.name, boundary.parameter_prefix)) continue;
      ++matched;
      total += grad_abs_sum(parameter.var);
      if (boundary.zero) CHECK_MESSAGE(grad_abs_sum(parameter.var) == 0.0, parameter.name);
    }
    CHECK(matched > 0);
    if (!boundary.zero) CHECK(total > 0.0);
  }
}

// One AdamW step on the total loss, then the same forward (same samples, no dropout): lower.
void check_one_step_lowers_the_loss(const std::string& objective) {
  const ModelConfig config = ablation_config(objective);
  ParameterStore store;
  ElectraModel model(config, store, 4, DType::f64);
  AdamW optimizer(store);
  const MaskedBatch batch = ablation_batch();
  Tape tape;
  const StepOutput before = model.forward(tape, batch, 0, false);
  tape.backward(before.total_loss);
  optimizer.step(1e-3);
  Tape after_tape;
  const StepOutput after =
      model.forward_with_samples(after_tape, batch, before.sampled_ids, 0, false);
  CHECK(std::isfinite(after.total_loss.value().item()));
  CHECK(after.total_loss.value().item() < before.total_loss.value().item());
}

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

// log softmax(row)[target] in double, straight from the definition.
double log_softmax_at(const std::vector<double>& logits, std::int64_t row, std::int64_t vocab,
                      std::int64_t target) {
  double maximum = logits[row * vocab];
  for (std::int64_t v = 0; v < vocab; ++v) maximum = std::max(maximum, logits[row * vocab + v]);
  double total = 0;
  for (std::int64_t v = 0; v < vocab; ++v) total += std::exp(logits[row * vocab + v] - maximum);
  return logits[row * vocab + target] - maximum - std::log(total);
}

// replace_mlm's main_mlm by hand: the same networks built by hand, the main network on the
// corrupted ids (no dropout), plain cross-entropy at the masked positions in double.
double hand_replace_mlm_loss(const ModelConfig& config, std::uint64_t seed, std::uint64_t step,
                             const MaskedBatch& batch, const Tensor& corrupted_ids) {
  HandBuilt hand(config, seed);
  Tape hand_tape;
  const ObjectiveNetworks networks = hand.networks(seed);
  ObjectiveDraw draw;  // no dropout; the samples are already in corrupted_ids
  draw.step = step;
  draw.update = static_cast<std::int64_t>(step);
  draw.training = false;
  const MainNetwork& main = main_network(networks);
  const Var hidden = main.encode(networks, hand_tape, corrupted_ids, batch, draw);
  const Var rows =
      ops::gather_rows(hand_tape, hidden, flat_masked_rows(batch.masked_positions, kLength));
  const std::vector<double> logits = main.mlm_logits(hand_tape, rows).value().to_vector();
  const std::vector<double> targets = batch.masked_original_ids.to_vector();
  const std::vector<double> weights = batch.masked_weights.to_vector();
  double expected = 0, weight_total = 0;
  for (std::int64_t r = 0; r < kBatch * kPredictions; ++r) {
    weight_total += weights[r];
    if (weights[r] > 0)
      expected -=
          weights[r] * log_softmax_at(logits, r, kVocab, static_cast<std::int64_t>(targets[r]));
  }
  return expected / (weight_total + 1e-6);
}

}  // namespace

TEST_CASE("ablations: every row is registered and a config naming it validates") {
  for (const std::string name : {"electra15", "replace_mlm", "all_tokens_mlm"}) {
    CAPTURE(name);
    const ObjectiveSpec& spec = find_objective(name);
    CHECK(spec.name == name);
    CHECK(!spec.summary.empty());
    ModelConfig config = ablation_config(name);
    CHECK_NOTHROW(config.validate());
    CHECK(model_config_from_json(to_json(config)).objective == name);
  }
  CHECK(find_objective("electra15").detects_replacements());
  CHECK(!find_objective("replace_mlm").detects_replacements());
  CHECK(!find_objective("all_tokens_mlm").detects_replacements());
}

TEST_CASE("electra15: the disc loss is BCE over the masked positions only; the rest is electra") {
  const MaskedBatch batch = ablation_batch();
  ParameterStore store, electra_store;
  ElectraModel model(ablation_config("electra15"), store, 5, DType::f64);
  ElectraModel electra(ablation_config("electra"), electra_store, 5, DType::f64);
  CHECK(store.size() == electra_store.size());  // the same networks, initialised alike
  Tape tape, electra_tape;
  const StepOutput out = model.forward(tape, batch, 3, true);
  const StepOutput reference = electra.forward(electra_tape, batch, 3, true);
  CHECK(out.mlm_loss.value().item() == reference.mlm_loss.value().item());
  CHECK(out.sampled_ids.to_vector() == reference.sampled_ids.to_vector());
  CHECK(out.disc_logits.to_vector() == reference.disc_logits.to_vector());

  const std::set<int> masked = {3, 5, 7, 16 + 2, 16 + 9};
  const std::vector<double> weights = out.disc_weights.to_vector();
  const std::vector<double> logits = out.disc_logits.to_vector();
  const std::vector<double> labels = out.disc_labels.to_vector();
  double expected = 0;
  for (int i = 0; i < kBatch * kLength; ++i) {
    CAPTURE(i);
    CHECK(weights[i] == (masked.count(i) ? 1.0 : 0.0));
    if (masked.count(i))
      expected += labels[i] == 1 ? softplus(-logits[i]) : softplus(logits[i]);  // BCE(σ(z), y)
  }
  expected /= masked.size() + 1e-6;
  CHECK(out.disc_loss.value().item() == doctest::Approx(expected).epsilon(1e-12));
  CHECK(out.disc_loss.value().item() != doctest::Approx(reference.disc_loss.value().item()));
  CHECK(out.total_loss.value().item() ==
        doctest::Approx(out.mlm_loss.value().item() + 50 * out.disc_loss.value().item())
            .epsilon(1e-12));
  check_boundaries("electra15", 6);
  check_one_step_lowers_the_loss("electra15");
}

TEST_CASE(
    "replace_mlm: no replaced-token head; main_mlm is the MLM of the main network on the corrupted "
    "ids") {
  const MaskedBatch batch = ablation_batch();
  const ModelConfig config = ablation_config("replace_mlm");
  ParameterStore store;
  ElectraModel model(config, store, 8, DType::f64);
  for (const Parameter& parameter : store.parameters())
    CHECK_MESSAGE(!starts_with(parameter.name, "discriminator.discriminator_predictions."),
                  parameter.name);
  CHECK(store.contains("discriminator.generator_lm_head.bias"));
  CHECK(store.contains("discriminator.electra.encoder.layer.0.output.dense.weight"));
  CHECK(!store.contains("discriminator.copy_prediction.weight"));

  Tape tape;
  const StepOutput out = model.forward(tape, batch, 1, false);
  CHECK(out.losses.size() == 2);
  CHECK(!out.disc_logits.defined());
  // The corrupted input: the original ids with the samples at the masked positions, no [MASK].
  const std::vector<double> original = batch.original.input_ids.to_vector();
  const std::vector<double> corrupted = out.corrupted_ids.to_vector();
  const std::vector<double> samples = out.sampled_ids.to_vector();
  const std::vector<int> slot_position = {3, 5, 7, 16 + 2, 16 + 9};
  for (int slot = 0; slot < 5; ++slot) CHECK(corrupted[slot_position[slot]] == samples[slot]);
  for (int i = 0; i < kBatch * kLength; ++i)
    if (std::find(slot_position.begin(), slot_position.end(), i) == slot_position.end())
      CHECK(corrupted[i] == original[i]);

  const double expected = hand_replace_mlm_loss(config, 8, 1, batch, out.corrupted_ids);
  CHECK(out.loss("main_mlm").value().item() == doctest::Approx(expected).epsilon(1e-12));
  CHECK(out.total_loss.value().item() ==
        doctest::Approx(out.mlm_loss.value().item() + expected).epsilon(1e-12));
  check_boundaries("replace_mlm", 9);
  check_one_step_lowers_the_loss("replace_mlm");
}

TEST_CASE(
    "replace_mlm: generator_focal_gamma shapes the generator's loss only, main_mlm stays "
    "cross-entropy") {
  const MaskedBatch batch = ablation_batch();
  ModelConfig config = ablation_config("replace_mlm");
  config.generator_focal_gamma = 2;
  ParameterStore store;
  ElectraModel model(config, store, 8, DType::f64);
  Tape tape;
  const StepOutput out = model.forward(tape, batch, 1, false);
  CHECK(out.loss("main_mlm").value().item() ==
        doctest::Approx(hand_replace_mlm_loss(config, 8, 1, batch, out.corrupted_ids))
            .epsilon(1e-12));
}

TEST_CASE("all_tokens_mlm: main_mlm is the copy-mixture log-likelihood of every non-pad token") {
  const MaskedBatch batch = ablation_batch();
  const ModelConfig config = ablation_config("all_tokens_mlm");
  ParameterStore store;
  ElectraModel model(config, store, 12, DType::f64);
  CHECK(store.contains("discriminator.copy_prediction.weight"));
  Tape tape;
  const StepOutput out = model.forward(tape, batch, 2, false);

  HandBuilt hand(config, 12);
  Tape hand_tape;
  const ObjectiveNetworks networks = hand.networks(12);
  ObjectiveDraw draw;
  draw.step = 2;
  draw.update = 2;
  draw.training = false;
  const MainNetwork& main = main_network(networks);
  const Var hidden = main.encode(networks, hand_tape, out.corrupted_ids, batch, draw);
  const Var rows = ops::reshape(hand_tape, hidden, {kBatch * kLength, hidden.value().dim(2)});
  const std::vector<double> logits = main.mlm_logits(hand_tape, rows).value().to_vector();
  const std::vector<double> copy = main.copy_logits(hand_tape, rows).value().to_vector();
  const std::vector<double> original = batch.original.input_ids.to_vector();
  const std::vector<double> corrupted = out.corrupted_ids.to_vector();
  const std::vector<double> non_pad = batch.original.attention_mask.to_vector();
  // p = D·[original = input] + (1 − D)·softmax_original, straight from the definition (no log
  // space needed at these moderate logits).
  double expected = 0, tokens = 0;
  int copyable = 0;
  for (std::int64_t t = 0; t < kBatch * kLength; ++t) {
    if (non_pad[t] == 0) continue;
    tokens += 1;
    const double D = 1 / (1 + std::exp(-copy[t]));
    const double softmax =
        std::exp(log_softmax_at(logits, t, kVocab, static_cast<std::int64_t>(original[t])));
    const bool same = corrupted[t] == original[t];
    copyable += same;
    expected -= std::log((same ? D : 0.0) + (1 - D) * softmax);
  }
  expected /= tokens + 1e-6;
  CHECK(copyable > 20);  // most tokens are copies; the replaced ones are not
  CHECK(out.loss("main_mlm").value().item() == doctest::Approx(expected).epsilon(1e-12));
  check_boundaries("all_tokens_mlm", 13);
  check_one_step_lowers_the_loss("all_tokens_mlm");
}

TEST_CASE("ablations CLI: pretrain --objective replace_mlm trains a few steps and checkpoints") {
  const fs::path dir = test::scratch_dir("ablation_cli");
  const std::string shards = test::prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  const test::Run run = test::run_command(test::electra_binary + " pretrain --data " + shards +
                                          " --out " + out.string() +
                                          " --preset tiny --threads 1 --log-every 1 --save-every 0 "
                                          "--max-steps 3 --objective replace_mlm");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(test::contains(run.output, "objective replace_mlm"));
  const std::string metrics = test::read_text(out / "metrics.jsonl");
  CHECK(test::contains(metrics, "\"step\":3"));
  fs::remove_all(dir);
}

TEST_CASE(
    "ablations CLI: export of an all_tokens_mlm checkpoint names main/ and the copy head it leaves "
    "out") {
  const fs::path dir = test::scratch_dir("ablation_export");
  const fs::path checkpoint =
      test::write_tiny_checkpoint(dir / "run", test::tiny_config("all_tokens_mlm"), 3);
  const test::Run run = test::run_command(test::electra_binary + " export --checkpoint " +
                                          checkpoint.string() + " --out " + (dir / "hf").string());
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(test::contains(
      run.output, "main           " + (dir / "hf" / "main").string() + " (ElectraForMaskedLM"));
  CHECK(test::contains(run.output,
                       "left out (no Hugging Face counterpart): "
                       "discriminator.copy_prediction.weight, "
                       "discriminator.copy_prediction.bias"));
  CHECK(test::contains(run.output, "ElectraForMaskedLM.from_pretrained"));
  CHECK_FALSE(fs::exists(dir / "hf" / "discriminator"));
  fs::remove_all(dir);
}
