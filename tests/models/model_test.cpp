#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>

#include "autograd/ops.hpp"
#include "helpers/two_sequence_batch.hpp"
#include "models/networks/electra_model.hpp"

using namespace electra;

namespace {

constexpr std::int64_t kVocab = 50;
constexpr std::int32_t kPad = 0, kCls = 1, kSep = 2, kMask = 3;

ModelConfig test_config() {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = kVocab;
  config.seq_len = 16;
  config.batch_size = 2;
  return config;
}

// Two sequences of length 16; the second has 4 padding tokens. Row 0 masks positions 3, 5, 7
// (7 keeps its token); row 1 masks 2 and 9 and has one padding slot (position 0, weight 0).
MaskedBatch test_batch() { return test::two_sequence_batch(7, kVocab - 11); }

std::int64_t encoder_parameter_count(const EncoderDims& dims) {
  const std::int64_t H = dims.hidden_size, F = dims.intermediate_size;
  const std::int64_t per_layer = 4 * (H * H + H) + 2 * (2 * H) + (H * F + F) + (F * H + H);
  return dims.num_layers * per_layer;
}

// Counted from the architecture, independently of the model code.
std::int64_t analytic_parameter_count(const ModelConfig& config) {
  const std::int64_t V = config.vocab_size, E = config.embedding_size;
  const std::int64_t shared =
      V * E + config.max_position_embeddings * E + config.type_vocab_size * E + 2 * E;
  const EncoderDims gen = config.generator_dims(), disc = config.discriminator_dims();
  const std::int64_t Hg = gen.hidden_size, H = disc.hidden_size;
  const std::int64_t generator =
      (E != Hg ? E * Hg + Hg : 0) + encoder_parameter_count(gen) + (Hg * E + E) + 2 * E + V;
  const std::int64_t discriminator =
      (E != H ? E * H + H : 0) + encoder_parameter_count(disc) + (H * H + H) + (H + 1);
  return shared + generator + discriminator;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

double grad_abs_sum(const Var& var) {
  if (!var.has_grad()) return 0.0;
  double total = 0;
  for (double value : var.grad().to_vector()) total += std::abs(value);
  return total;
}

}  // namespace

TEST_CASE("model: parameter names, shapes, count and initialisation") {
  const ModelConfig config = model_preset("tiny");  // full vocabulary: counts at real size
  ParameterStore store;
  ElectraModel model(config, store, 42);
  CHECK(store.total_numel() == analytic_parameter_count(config));

  const auto shape_of = [&](const std::string& name) { return store.get(name).shape(); };
  CHECK(shape_of("electra.embeddings.word_embeddings.weight") == Shape{30522, 32});
  CHECK(shape_of("electra.embeddings.position_embeddings.weight") == Shape{512, 32});
  CHECK(shape_of("electra.embeddings.token_type_embeddings.weight") == Shape{2, 32});
  CHECK(shape_of("electra.embeddings.LayerNorm.weight") == Shape{32});
  // E = H_g = 32 in tiny: the generator needs no projection; the discriminator (H = 64) does.
  CHECK_FALSE(store.contains("generator.electra.embeddings_project.weight"));
  CHECK(shape_of("discriminator.electra.embeddings_project.weight") == Shape{64, 32});
  CHECK(shape_of("generator.electra.encoder.layer.1.attention.self.query.weight") == Shape{32, 32});
  CHECK(shape_of("generator.electra.encoder.layer.1.intermediate.dense.weight") == Shape{128, 32});
  CHECK(shape_of("discriminator.electra.encoder.layer.0.output.dense.weight") == Shape{64, 256});
  CHECK(shape_of("discriminator.electra.encoder.layer.1.output.LayerNorm.bias") == Shape{64});
  CHECK(shape_of("generator.generator_predictions.dense.weight") == Shape{32, 32});
  CHECK(shape_of("generator.generator_predictions.LayerNorm.weight") == Shape{32});
  CHECK(shape_of("generator.generator_lm_head.bias") == Shape{30522});
  CHECK(shape_of("discriminator.discriminator_predictions.dense.weight") == Shape{64, 64});
  CHECK(shape_of("discriminator.discriminator_predictions.dense_prediction.weight") ==
        Shape{1, 64});
  CHECK_FALSE(store.contains("generator.generator_lm_head.weight"));  // tied, stored once
  CHECK_FALSE(store.contains("generator.electra.embeddings.word_embeddings.weight"));

  for (const Parameter& parameter : store.parameters()) {
    const std::string& name = parameter.name;
    CAPTURE(name);
    CHECK((starts_with(name, "electra.embeddings.") || starts_with(name, "generator.") ||
           starts_with(name, "discriminator.")));
    const bool is_norm = name.find("LayerNorm") != std::string::npos;
    const bool is_bias = name.size() > 5 && name.substr(name.size() - 5) == ".bias";
    CHECK(parameter.weight_decay == !(is_norm || is_bias));
    const std::vector<double> values = parameter.var.value().to_vector();
    if (is_bias) {
      for (double v : values) REQUIRE(v == 0.0);
    } else if (is_norm) {
      for (double v : values) REQUIRE(v == 1.0);
    } else if (name.find("dense_prediction") != std::string::npos) {
      const double limit = std::sqrt(6.0 / (64 + 1));  // Glorot uniform
      for (double v : values) REQUIRE(std::abs(v) <= limit);
    } else {
      double sum_squares = 0;
      for (double v : values) {
        REQUIRE(std::abs(v) <= 2 * 0.02 + 1e-7);  // truncated at ±2σ
        sum_squares += v * v;
      }
      // Truncation at ±2σ shrinks the std to 0.88σ; loose bounds for the small tensors.
      if (values.size() >= 1000)
        CHECK(std::sqrt(sum_squares / values.size()) == doctest::Approx(0.88 * 0.02).epsilon(0.1));
    }
  }

  // Same seed → same values; another seed → different values.
  ParameterStore again, other;
  ElectraModel same_model(config, again, 42), other_model(config, other, 43);
  const auto first_values = [](const ParameterStore& s, const char* name) {
    return s.get(name).value().to_vector();
  };
  CHECK(first_values(store, "discriminator.electra.encoder.layer.0.attention.self.key.weight") ==
        first_values(again, "discriminator.electra.encoder.layer.0.attention.self.key.weight"));
  CHECK(first_values(store, "discriminator.electra.encoder.layer.0.attention.self.key.weight") !=
        first_values(other, "discriminator.electra.encoder.layer.0.attention.self.key.weight"));
}

TEST_CASE("model: one step produces consistent losses, samples, corruption and labels") {
  const ModelConfig config = test_config();
  ParameterStore store;
  ElectraModel model(config, store, 1);
  const MaskedBatch batch = test_batch();
  Tape tape;
  const StepOutput out = model.forward(tape, batch, /*step=*/3, /*training=*/true);

  CHECK(out.mlm_logits.shape() == Shape{6, kVocab});
  CHECK(out.sampled_ids.shape() == Shape{2, 3});
  CHECK(out.corrupted_ids.shape() == Shape{2, 16});
  CHECK(out.disc_labels.shape() == Shape{2, 16});
  CHECK(out.disc_logits.shape() == Shape{2, 16});
  // At initialisation the generator is near uniform: CE ≈ ln V; the disc near σ = 0.5 → ln 2.
  CHECK(out.mlm_loss.value().item() == doctest::Approx(std::log(double(kVocab))).epsilon(0.1));
  CHECK(out.disc_loss.value().item() == doctest::Approx(std::log(2.0)).epsilon(0.3));
  CHECK(out.total_loss.value().item() ==
        doctest::Approx(out.mlm_loss.value().item() + 50 * out.disc_loss.value().item()));

  const std::vector<double> original = batch.original.input_ids.to_vector();
  const std::vector<double> corrupted = out.corrupted_ids.to_vector();
  const std::vector<double> labels = out.disc_labels.to_vector();
  const std::vector<double> samples = out.sampled_ids.to_vector();
  const std::vector<double> weights = out.disc_weights.to_vector();
  const std::set<int> masked = {3, 5, 7, 16 + 2, 16 + 9};
  for (int i = 0; i < 32; ++i) {
    CAPTURE(i);
    CHECK(labels[i] == (corrupted[i] != original[i] ? 1.0 : 0.0));
    CHECK(weights[i] == (i >= 28 ? 0.0 : 1.0));
    if (!masked.count(i)) CHECK(corrupted[i] == original[i]);  // incl. [CLS] at position 0
  }
  const std::vector<int> slot_position = {3, 5, 7, 16 + 2, 16 + 9};
  for (int slot = 0; slot < 5; ++slot) {
    CHECK(samples[slot] >= 0);
    CHECK(samples[slot] < kVocab);
    CHECK(corrupted[slot_position[slot]] == samples[slot]);
  }
  CHECK(samples[5] == 0);  // padding slot

  // The sample is a pure function of (seed, step): the same step again gives the same losses,
  // and feeding the drawn samples back in reproduces the step exactly.
  Tape tape2, tape3;
  const StepOutput repeat = model.forward(tape2, batch, 3, true);
  CHECK(repeat.total_loss.value().item() == out.total_loss.value().item());
  CHECK(repeat.sampled_ids.to_vector() == samples);
  const StepOutput fed = model.forward_with_samples(tape3, batch, out.sampled_ids, 3, true);
  CHECK(fed.total_loss.value().item() == out.total_loss.value().item());
  // Another step draws other dropout masks.
  Tape tape4;
  CHECK(model.forward(tape4, batch, 4, true).mlm_loss.value().item() !=
        out.mlm_loss.value().item());
}

TEST_CASE("model: disallow_correct never samples the original token") {
  ModelConfig config = test_config();
  config.disallow_correct = true;
  ParameterStore store;
  ElectraModel model(config, store, 5);
  const MaskedBatch batch = test_batch();
  const std::vector<double> originals = batch.masked_original_ids.to_vector();
  for (std::uint64_t step = 0; step < 20; ++step) {
    Tape tape;
    tape.set_recording(false);
    const StepOutput out = model.forward(tape, batch, step, false);
    const std::vector<double> samples = out.sampled_ids.to_vector();
    for (int slot = 0; slot < 5; ++slot) REQUIRE(samples[slot] != originals[slot]);
    // Every masked token is replaced, so exactly the five masked positions are labelled 1.
    double replaced = 0;
    for (double label : out.disc_labels.to_vector()) replaced += label;
    CHECK(replaced == 5);
  }
}

TEST_CASE("model: tied output embedding is the shared word embedding in both networks") {
  const ModelConfig config = test_config();
  ParameterStore store;
  ElectraModel model(config, store, 2);
  const MaskedBatch batch = test_batch();
  Var words = store.get("electra.embeddings.word_embeddings.weight");
  CHECK(words.is_same(model.embeddings().word_embeddings()));
  std::int64_t vocab_sized = 0;
  for (const Parameter& parameter : store.parameters())
    vocab_sized += parameter.var.shape() == Shape{kVocab, 32} ? 1 : 0;
  CHECK(vocab_sized == 1);

  // MLM loss alone: ids ≥ 40 never occur in the input, so their rows get a gradient only
  // through the output projection, which therefore reads this very table.
  Tape tape;
  StepOutput out = model.forward(tape, batch, 0, false);
  tape.backward(out.mlm_loss);
  const std::vector<double> grad = words.grad().to_vector();
  double unseen_row = 0;
  for (std::int64_t e = 0; e < 32; ++e) unseen_row += std::abs(grad[45 * 32 + e]);
  CHECK(unseen_row > 0);

  // Disc loss alone: the discriminator's input side reads the same table.
  store.zero_grad();
  tape.clear();
  out = model.forward_with_samples(tape, batch, out.sampled_ids, 0, false);
  tape.backward(out.disc_loss);
  CHECK(grad_abs_sum(words) > 0);

  // One manual SGD step on the total loss moves both networks' view of the table: changing
  // only the word embeddings changes the MLM logits and the discriminator logits.
  store.zero_grad();
  tape.clear();
  const Tensor samples = out.sampled_ids;
  out = model.forward_with_samples(tape, batch, samples, 0, false);
  tape.backward(out.total_loss);
  const double mlm_before = out.mlm_loss.value().item();
  const double total_before = out.total_loss.value().item();
  const std::vector<double> disc_before = out.disc_logits.to_vector();
  kernels::axpy(-0.05, words.grad(), words.value());
  Tape after_tape;
  const StepOutput after = model.forward_with_samples(after_tape, batch, samples, 0, false);
  CHECK(after.mlm_loss.value().item() != mlm_before);
  CHECK(after.disc_logits.to_vector() != disc_before);
  CHECK(after.total_loss.value().item() < total_before);
}

TEST_CASE("model: the sample is a stop-gradient; each loss reaches only its own network") {
  const ModelConfig config = test_config();
  ParameterStore store;
  ElectraModel model(config, store, 3);
  const MaskedBatch batch = test_batch();
  Tape tape;
  StepOutput out = model.forward(tape, batch, 1, true);
  tape.backward(out.disc_loss);
  for (const Parameter& parameter : store.parameters()) {
    CAPTURE(parameter.name);
    if (starts_with(parameter.name, "generator."))
      CHECK(grad_abs_sum(parameter.var) == 0.0);
    else
      CHECK(grad_abs_sum(parameter.var) > 0.0);  // discriminator and shared embeddings
  }

  store.zero_grad();
  tape.clear();
  out = model.forward(tape, batch, 1, true);
  tape.backward(out.mlm_loss);
  for (const Parameter& parameter : store.parameters()) {
    CAPTURE(parameter.name);
    if (starts_with(parameter.name, "discriminator.")) CHECK(grad_abs_sum(parameter.var) == 0.0);
  }
  CHECK(grad_abs_sum(store.get("generator.generator_lm_head.bias")) > 0.0);
}

TEST_CASE("model: float64 finite differences of the total loss for every parameter tensor") {
  ModelConfig config = test_config();
  config.disc_weight = 5.0;  // keeps both terms of comparable size
  ParameterStore store;
  ElectraModel model(config, store, 11, DType::f64);
  const MaskedBatch batch = test_batch();
  Tape tape;
  const StepOutput first = model.forward(tape, batch, 2, /*training=*/true);
  const Tensor samples = first.sampled_ids;  // fixed from here on: the sample is discrete
  tape.clear();
  store.zero_grad();

  // Dropout is on: its masks are a pure function of (seed, step, site), so every evaluation of
  // step 2 sees the same masks and the loss is a smooth function of the parameters.
  const auto loss_at = [&]() {
    Tape quiet;
    quiet.set_recording(false);
    return model.forward_with_samples(quiet, batch, samples, 2, true).total_loss.value().item();
  };
  const StepOutput out = model.forward_with_samples(tape, batch, samples, 2, true);
  CHECK(out.total_loss.value().item() == loss_at());
  tape.backward(out.total_loss);

  std::mt19937_64 random(99);
  const double h = 1e-6;
  double worst = 0;
  std::int64_t checked = 0;
  for (const Parameter& parameter : store.parameters()) {
    Var var = parameter.var;  // a handle: writes reach the model's parameter
    Tensor& value = var.value();
    const std::vector<double> analytic = parameter.var.grad().to_vector();
    std::uniform_int_distribution<std::int64_t> pick(0, value.numel() - 1);
    // Two random elements, plus the largest-gradient one (never a trivially zero check).
    std::vector<std::int64_t> elements = {pick(random), pick(random)};
    std::int64_t largest = 0;
    for (std::int64_t i = 0; i < value.numel(); ++i)
      if (std::abs(analytic[i]) > std::abs(analytic[largest])) largest = i;
    elements.push_back(largest);
    CAPTURE(parameter.name);
    CHECK(std::abs(analytic[largest]) > 0.0);  // every parameter tensor matters to the loss
    for (std::int64_t element : elements) {
      double* entry = value.data<double>() + element;
      const double saved = *entry;
      *entry = saved + h;
      const double plus = loss_at();
      *entry = saved - h;
      const double minus = loss_at();
      *entry = saved;
      const double numeric = (plus - minus) / (2 * h);
      const double error = std::abs(numeric - analytic[element]);
      const double scale = std::max(std::abs(numeric), std::abs(analytic[element]));
      CAPTURE(element);
      CAPTURE(numeric);
      CAPTURE(analytic[element]);
      CHECK(error <= std::max(1e-5 * scale, 1e-8));
      if (scale > 1e-4) worst = std::max(worst, error / scale);
      ++checked;
    }
  }
  MESSAGE("checked ", checked, " elements of ", store.size(),
          " tensors, worst relative error (|grad| > 1e-4) ", worst);
}

TEST_CASE("model: objective mlm builds one full-size masked-LM network") {
  ModelConfig config = test_config();
  config.objective = "mlm";
  ParameterStore store;
  ElectraModel model(config, store, 4);
  for (const Parameter& parameter : store.parameters())
    CHECK_FALSE(starts_with(parameter.name, "discriminator."));
  CHECK(store.get("generator.electra.encoder.layer.0.attention.self.query.weight").shape() ==
        Shape{64, 64});
  Tape tape;
  const StepOutput out = model.forward(tape, test_batch(), 0, true);
  CHECK(out.total_loss.is_same(out.mlm_loss));
  CHECK_FALSE(out.disc_loss.defined());
  CHECK_FALSE(out.corrupted_ids.defined());
  tape.backward(out.total_loss);
  CHECK(grad_abs_sum(store.get("electra.embeddings.word_embeddings.weight")) > 0);
  CHECK_THROWS_AS(model.inspect(test_batch()), Error);
}

TEST_CASE("model: inspect and replaced_probability record nothing and give P(replaced)") {
  const ModelConfig config = test_config();
  ParameterStore store;
  ElectraModel model(config, store, 6);
  const MaskedBatch batch = test_batch();
  const InspectOutput out = model.inspect(batch, 0);
  CHECK(out.replaced_probability.shape() == Shape{2, 16});
  CHECK(out.replaced_probability.dtype() == DType::f32);
  const std::vector<double> probability = out.replaced_probability.to_vector();
  for (int i = 0; i < 32; ++i) {
    CAPTURE(i);
    if (i >= 28) {
      CHECK(probability[i] == 0.0);
    } else {
      CHECK(probability[i] > 0.0);
      CHECK(probability[i] < 1.0);
    }
  }
  for (const Parameter& parameter : store.parameters()) CHECK_FALSE(parameter.var.has_grad());

  // Discriminator only, on the corrupted ids, equals inspect's probabilities.
  PackedBatch corrupted = batch.original;
  corrupted.input_ids = out.corrupted_ids;
  CHECK(model.replaced_probability(corrupted).to_vector() == probability);

  MaskedBatch bad = batch;
  bad.masked_weights = Tensor::zeros({2, 4});
  CHECK_THROWS_AS(model.inspect(bad), Error);
}
