// Checkpoints: round trip, atomic layout and retention, and refusal of corrupt or mismatched ones.
#include "models/training/checkpoint.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "helpers/scratch.hpp"
#include "models/formats/safetensors.hpp"

using namespace electra;
namespace fs = std::filesystem;
using namespace electra::test;

namespace {

void make_parameters(ParameterStore& store, float offset) {
  store.add("embeddings.word_embeddings.weight",
            Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2}), true);
  store.add("embeddings.LayerNorm.bias", Tensor::from_vector<float>({0.5f, -0.5f}, {2}), false);
  for (const Parameter& parameter : store.parameters()) {
    Var var = parameter.var;
    for (std::int64_t i = 0; i < var.value().numel(); ++i) var.value().data<float>()[i] += offset;
  }
}

// One optimizer update so the moments are not all zero.
void take_step(ParameterStore& store, AdamW& optimizer) {
  for (const Parameter& parameter : store.parameters()) {
    Var var = parameter.var;
    var.grad_buffer().fill_(0.25);
  }
  optimizer.step(1e-2);
}

TrainerState sample_state(std::int64_t step) {
  TrainerState state;
  state.step = step;
  state.data_position = {{"shard", 3}, {"offset", 12345}};
  state.seed = 0xfedcba9876543210ull;
  state.rng_counters = {{"masking", 7}};
  state.config = {{"hidden_size", 64}, {"num_layers", 2}};
  state.metrics = {{"last_total_loss", 9.5}};
  return state;
}

}  // namespace

TEST_CASE("checkpoint: save then load restores parameters, moments and state exactly") {
  const fs::path run = scratch_dir("roundtrip");
  ParameterStore store;
  make_parameters(store, 0.0f);
  AdamW optimizer(store);
  take_step(store, optimizer);
  const fs::path saved = save_checkpoint(run, store, optimizer, sample_state(123));
  CHECK(saved == run / "step-000123");
  CHECK(fs::exists(saved / "model.safetensors"));
  CHECK(fs::exists(saved / "optimizer.safetensors"));
  CHECK(fs::exists(saved / "trainer_state.json"));
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(run)) entries += entry.is_directory() ? 1 : 0;
  CHECK(entries == 1);  // no temporary directory left behind
  // model.safetensors is a plain safetensors file with parameters by name.
  CHECK(load_safetensors((saved / "model.safetensors").string())
            .at("embeddings.LayerNorm.bias")
            .numel() == 2);

  ParameterStore restored_store;
  make_parameters(restored_store, 100.0f);  // different values, same shapes
  AdamW restored_optimizer(restored_store);
  const TrainerState state =
      load_checkpoint(saved, restored_store, &restored_optimizer, sample_state(0).config);
  CHECK(state.step == 123);
  CHECK(state.data_position == sample_state(0).data_position);
  CHECK(state.seed == 0xfedcba9876543210ull);
  CHECK(state.rng_counters["masking"] == 7);
  CHECK(state.metrics["last_total_loss"] == 9.5);
  CHECK(restored_optimizer.updates_applied() == 1);
  for (const Parameter& parameter : store.parameters()) {
    CHECK(restored_store.get(parameter.name).value().to_vector() ==
          parameter.var.value().to_vector());
    CHECK(restored_optimizer.first_moment(parameter.name).to_vector() ==
          optimizer.first_moment(parameter.name).to_vector());
    CHECK(restored_optimizer.second_moment(parameter.name).to_vector() ==
          optimizer.second_moment(parameter.name).to_vector());
  }
  // Without an optimizer only the parameters are loaded; a null config is not compared.
  ParameterStore parameters_only;
  make_parameters(parameters_only, -1.0f);
  load_checkpoint(saved, parameters_only, nullptr, nullptr);
  CHECK(parameters_only.get("embeddings.LayerNorm.bias").value().to_vector() ==
        store.get("embeddings.LayerNorm.bias").value().to_vector());
  fs::remove_all(run);
}

TEST_CASE("checkpoint: naming, latest, keep-last retention and replacing a step") {
  CHECK(checkpoint_directory_name(0) == "step-000000");
  CHECK(checkpoint_directory_name(1234567) == "step-1234567");
  const fs::path run = scratch_dir("retention");
  CHECK_FALSE(latest_checkpoint(run).has_value());
  CHECK_FALSE(latest_checkpoint(run / "does-not-exist").has_value());

  ParameterStore store;
  make_parameters(store, 0.0f);
  AdamW optimizer(store);
  for (std::int64_t step : {100, 200, 300, 999, 1000})
    save_checkpoint(run, store, optimizer, sample_state(step), 2);
  CHECK(fs::exists(run / "step-000999"));
  CHECK(fs::exists(run / "step-001000"));
  CHECK_FALSE(fs::exists(run / "step-000300"));
  CHECK_FALSE(fs::exists(run / "step-000100"));
  CHECK(latest_checkpoint(run) == run / "step-001000");

  // Incomplete and temporary directories never count as checkpoints.
  fs::create_directories(run / "step-005000");  // no trainer_state.json: a partial copy
  fs::create_directories(run / ".tmp-step-006000-999999999");
  fs::create_directories(run / "step-abc");
  CHECK(latest_checkpoint(run) == run / "step-001000");

  // Re-saving a step replaces it; the abandoned temporary of a dead writer is cleaned up.
  TrainerState again = sample_state(1000);
  again.metrics = {{"last_total_loss", 1.25}};
  save_checkpoint(run, store, optimizer, again, 0);
  CHECK(read_trainer_state(run / "step-001000").metrics["last_total_loss"] == 1.25);
  CHECK(fs::exists(run / "step-000999"));  // keep_last 0 keeps all
  CHECK_FALSE(fs::exists(run / ".tmp-step-006000-999999999"));
  fs::remove_all(run);
}

TEST_CASE("checkpoint: corrupt files and mismatched models are refused, changing nothing") {
  const fs::path run = scratch_dir("refusals");
  ParameterStore store;
  make_parameters(store, 0.0f);
  AdamW optimizer(store);
  take_step(store, optimizer);
  const fs::path saved = save_checkpoint(run, store, optimizer, sample_state(7));

  ParameterStore target;
  make_parameters(target, 50.0f);
  AdamW target_optimizer(target);
  const auto untouched = target.get("embeddings.word_embeddings.weight").value().to_vector();

  SUBCASE("config differs") {
    nlohmann::json other = sample_state(0).config;
    other["hidden_size"] = 128;
    CHECK_THROWS_WITH(load_checkpoint(saved, target, &target_optimizer, other),
                      doctest::Contains("at /hidden_size: checkpoint has 64, this run has 128"));
  }
  SUBCASE("a flipped byte in the model file") {
    {
      std::fstream file(saved / "model.safetensors",
                        std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(-2, std::ios::end);
      file.put('\x7f');
    }
    // Integrity is checked before compatibility: a corrupt file is reported as corrupt even
    // when the config differs too.
    nlohmann::json other = sample_state(0).config;
    other["hidden_size"] = 128;
    CHECK_THROWS_WITH(load_checkpoint(saved, target, &target_optimizer, other),
                      doctest::Contains("model.safetensors: sha256"));
  }
  SUBCASE("a truncated optimizer file") {
    fs::resize_file(saved / "optimizer.safetensors", 40);
    CHECK_THROWS_WITH(load_checkpoint(saved, target, &target_optimizer, nullptr),
                      doctest::Contains("optimizer.safetensors: sha256"));
  }
  SUBCASE("a parameter with another shape") {
    ParameterStore wider;
    wider.add("embeddings.word_embeddings.weight", Tensor::zeros({3, 4}), true);
    wider.add("embeddings.LayerNorm.bias", Tensor::zeros({2}), false);
    CHECK_THROWS_WITH(load_checkpoint(saved, wider, nullptr, nullptr),
                      doctest::Contains("parameter 'embeddings.word_embeddings.weight' is f32[3, "
                                        "2] in the checkpoint but f32[3, 4] in the model"));
  }
  SUBCASE("a parameter missing from the checkpoint, or one the model does not have") {
    ParameterStore bigger;
    make_parameters(bigger, 0.0f);
    bigger.add("discriminator_predictions.dense.weight", Tensor::zeros({2, 2}), true);
    CHECK_THROWS_WITH(
        load_checkpoint(saved, bigger, nullptr, nullptr),
        doctest::Contains("missing parameter 'discriminator_predictions.dense.weight'"));
    ParameterStore smaller;
    smaller.add("embeddings.word_embeddings.weight", Tensor::zeros({3, 2}), true);
    CHECK_THROWS_WITH(
        load_checkpoint(saved, smaller, nullptr, nullptr),
        doctest::Contains("tensor 'embeddings.LayerNorm.bias' is not a parameter of this model"));
  }
  SUBCASE("a trainer state of another format version") {
    nlohmann::json json =
        nlohmann::json::parse(read_file_bytes((saved / "trainer_state.json").string()));
    json["format_version"] = 99;
    std::ofstream(saved / "trainer_state.json") << json.dump();
    CHECK_THROWS_WITH(load_checkpoint(saved, target, &target_optimizer, nullptr),
                      doctest::Contains("format_version 99"));
  }
  SUBCASE("hand-edited fields of the wrong type are electra::Errors naming the field") {
    // Found by fuzz_trainer_state: a non-string "format" escaped as a nlohmann type_error, a
    // seed of 1e300 was converted to uint64 (undefined behaviour), a negative one wrapped.
    const fs::path state_path = saved / "trainer_state.json";
    const nlohmann::json good = nlohmann::json::parse(read_file_bytes(state_path.string()));
    auto refused_with = [&](const nlohmann::json& edited, const std::string& expected) {
      std::ofstream(state_path) << edited.dump();
      CHECK_THROWS_AS(read_trainer_state(saved), const Error&);
      CHECK_THROWS_WITH(read_trainer_state(saved), doctest::Contains(expected.c_str()));
    };
    nlohmann::json edited = good;
    edited["format"] = 5;
    refused_with(edited, "is not an electra.cpp trainer state");
    edited = good;
    edited["rng"]["seed"] = 1e300;
    refused_with(edited, "rng.seed 1e+300 is not an integer");
    edited["rng"]["seed"] = -1;
    refused_with(edited, "rng.seed -1 is not an integer");
    edited = good;
    edited["format_version"] = nlohmann::json::array({nlohmann::json::array()});
    refused_with(edited, "format_version of type array");
    std::ofstream(state_path) << good.dump();
  }
  CHECK(target.get("embeddings.word_embeddings.weight").value().to_vector() == untouched);
  CHECK(target_optimizer.updates_applied() == 0);
  fs::remove_all(run);
}
