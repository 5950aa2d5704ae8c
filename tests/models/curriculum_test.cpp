// The curriculum schedules (models/objectives/curriculum.hpp): λ and T at the update count,
// against values computed by hand, their config keys, and that the objectives read them.
#include "models/objectives/curriculum.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "engine/error.hpp"
#include "helpers/two_sequence_batch.hpp"
#include "models/networks/electra_model.hpp"

using namespace electra;

namespace {

std::string config_error(const nlohmann::json& json) {
  try {
    model_config_from_json(json, model_preset("tiny"));
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("curriculum: the defaults are the paper's constants at every update, bit for bit") {
  const ModelConfig config = model_preset("small");
  CHECK(config.disc_weight_ramp_updates == 0);
  CHECK(config.temperature_ramp_updates == 0);
  for (const std::int64_t update : {0, 1, 7, 10000, 1000000}) {
    CHECK(discriminator_weight(config, update) == 50.0);
    CHECK(sampling_temperature(config, update) == 1.0);
  }
  ModelConfig other = config;
  other.disc_weight = 0.3;
  other.temperature = 0.7;
  other.disc_weight_start = 9;  // ignored without a ramp
  other.temperature_start = 5;
  CHECK(discriminator_weight(other, 0) == 0.3);
  CHECK(sampling_temperature(other, 0) == 0.7);
}

TEST_CASE("curriculum: the discriminator weight ramps linearly from disc_weight_start") {
  ModelConfig config = model_preset("tiny");
  config.disc_weight = 50;
  config.disc_weight_ramp_updates = 100;  // start 0 (the default)
  CHECK(discriminator_weight(config, 0) == 0.0);
  CHECK(discriminator_weight(config, 25) == 12.5);  // 50 · 25/100
  CHECK(discriminator_weight(config, 50) == 25.0);
  CHECK(discriminator_weight(config, 99) == doctest::Approx(49.5).epsilon(1e-15));
  CHECK(discriminator_weight(config, 100) == 50.0);  // the ramp's end: the constant itself
  CHECK(discriminator_weight(config, 12345) == 50.0);

  config.disc_weight_start = 10;
  config.disc_weight_ramp_updates = 4;  // 10, 20, 30, 40, then 50
  CHECK(discriminator_weight(config, 0) == 10.0);
  CHECK(discriminator_weight(config, 1) == 20.0);
  CHECK(discriminator_weight(config, 2) == 30.0);
  CHECK(discriminator_weight(config, 3) == 40.0);
  CHECK(discriminator_weight(config, 4) == 50.0);
}

TEST_CASE("curriculum: the sampling temperature ramps linearly from temperature_start") {
  ModelConfig config = model_preset("tiny");
  config.temperature = 1;
  config.temperature_start = 2;
  config.temperature_ramp_updates = 4;  // 2, 1.75, 1.5, 1.25, then 1
  CHECK(sampling_temperature(config, 0) == 2.0);
  CHECK(sampling_temperature(config, 1) == 1.75);
  CHECK(sampling_temperature(config, 2) == 1.5);
  CHECK(sampling_temperature(config, 3) == 1.25);
  CHECK(sampling_temperature(config, 4) == 1.0);
  CHECK(sampling_temperature(config, 400) == 1.0);
  // Upwards works too: 0.5 → 3 over 10 updates, 0.25 per update.
  config.temperature = 3;
  config.temperature_start = 0.5;
  config.temperature_ramp_updates = 10;
  CHECK(sampling_temperature(config, 6) == 2.0);
  CHECK(sampling_temperature(config, 10) == 3.0);
}

TEST_CASE("curriculum: the keys round-trip and bad values are refused naming the key") {
  const ModelConfig parsed = model_config_from_json({{"disc_weight_start", 5},
                                                     {"disc_weight_ramp_updates", 1000},
                                                     {"temperature_start", 2.5},
                                                     {"temperature_ramp_updates", 300}},
                                                    model_preset("tiny"));
  CHECK(parsed.disc_weight_start == 5.0);
  CHECK(parsed.disc_weight_ramp_updates == 1000);
  CHECK(parsed.temperature_start == 2.5);
  CHECK(parsed.temperature_ramp_updates == 300);
  CHECK(model_config_from_json(to_json(parsed)) == parsed);

  CHECK(config_error({{"disc_weight_ramp_updates", -1}}) ==
        "config: disc_weight_ramp_updates = -1: must be ≥ 0 (0 = no ramp)");
  CHECK(config_error({{"temperature_ramp_updates", -3}}) ==
        "config: temperature_ramp_updates = -3: must be ≥ 0 (0 = no ramp)");
  CHECK(config_error({{"disc_weight_start", -0.5}}) ==
        "config: disc_weight_start = -0.5: must be finite and ≥ 0");
  CHECK(config_error({{"temperature_start", 0}}) ==
        "config: temperature_start = 0: must be finite and positive");
  CHECK(config_error({{"disc_weight_ramp_updates", 2.5}}) ==
        "config: disc_weight_ramp_updates = 2.5: must be an integer");
}

namespace {

// Two rows of 12 tokens, 3 masked positions each, ids in [4, 60).
MaskedBatch curriculum_batch() { return test::twelve_token_batch(false); }

std::vector<double> samples_at(const ModelConfig& config, std::int64_t update,
                               double* disc_weight = nullptr) {
  ParameterStore store;
  const ElectraModel model(config, store, 21);
  Tape tape;
  tape.set_recording(false);
  const StepOutput out = model.forward(tape, curriculum_batch(), {5, update, false, Tensor()});
  if (disc_weight)
    for (const NamedLoss& term : out.losses)
      if (term.name == "disc") *disc_weight = term.weight;
  return out.sampled_ids.to_vector();
}

}  // namespace

TEST_CASE("curriculum: the electra objective reads both schedules at draw.update") {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = 60;
  config.seq_len = 12;
  config.disc_weight_ramp_updates = 100;
  config.temperature_start = 41;
  config.temperature = 1;
  config.temperature_ramp_updates = 2;  // T(1) = 21

  double weight = -1;
  const std::vector<double> ramped = samples_at(config, 1, &weight);
  CHECK(weight == 0.5);  // 50 · 1/100: the disc term's weight in the total
  ModelConfig constant = config;
  constant.temperature_ramp_updates = 0;
  constant.temperature = 21;
  CHECK(ramped == samples_at(constant, 1));  // the same draw at T = 21
  // ... and the draw does depend on T (else the line above proves nothing): at T = 1 it differs.
  constant.temperature = 1;
  CHECK(ramped != samples_at(constant, 1));
  samples_at(config, 2, &weight);
  CHECK(weight == 1.0);
}
