// `electra audit` as a user runs it: the dump's files and index (docs/audit.md), a dump from a
// checkpoint, the whole-model verdict table, flag errors; and `electra pretrain --detect-anomaly`
// naming the op, the update and the parameter of the first NaN/Inf.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "data/masking.hpp"
#include "data/shards.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "models/training/audit_dump.hpp"
#include "models/training/checkpoint.hpp"

namespace fs = std::filesystem;
using namespace electra;

namespace {

const std::string golden_config =
    std::string(ELECTRA_SOURCE_DIR) + "/tests/golden/golden_config.json";

using namespace electra::test;

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

std::string dump_command(const fs::path& dir, const std::string& extra) {
  return electra_binary + " audit --dump " + dir.string() + " --threads 1 " + extra;
}

}  // namespace

TEST_CASE("audit CLI: --dump writes the documented files and index") {
  const fs::path dir = scratch_dir("dump");
  const Run run = run_command(dump_command(
      dir / "f64", "--preset tiny --config " + golden_config + " --seed 5 --dtype f64 --steps 3"));
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  CHECK(contains(run.output, "3 update(s)"));
  const nlohmann::json index = read_json(dir / "f64" / "audit.json");
  CHECK(index["format"] == "electra-audit");
  CHECK(index["dtype"] == "f64");
  CHECK(index["steps"] == 3);
  CHECK(index["config"]["hidden_dropout"] == 0.0);
  CHECK(index["config"]["attention_dropout"] == 0.0);
  const std::int64_t B = index["config"]["batch_size"], L = index["config"]["seq_len"];
  const std::int64_t V = index["config"]["vocab_size"];

  const auto load = [&](const std::string& key) {
    return load_safetensors((dir / "f64" / index["files"][key].get<std::string>()).string());
  };
  const SafetensorsContents parameters = load("parameters"), gradients = load("gradients");
  const SafetensorsContents after = load("parameters_after"),
                            final_values = load("parameters_final");
  const SafetensorsContents moments = load("optimizer_state"), step = load("step"),
                            trajectory = load("trajectory");
  const nlohmann::json& names = index["parameters"];
  REQUIRE(names.size() == parameters.tensors.size());
  CHECK(gradients.tensors.size() == names.size());
  CHECK(after.tensors.size() == names.size());
  CHECK(final_values.tensors.size() == names.size());
  CHECK(moments.tensors.size() == 2 * names.size());
  bool shared_embedding_has_gradient = false;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name = names[i]["name"];
    CAPTURE(name);
    CHECK(parameters.tensors[i].name == name);  // registration order
    CHECK(parameters.at(name).dtype() == DType::f64);
    CHECK(gradients.at(name).shape() == parameters.at(name).shape());
    CHECK(moments.find(name + "/adam_m") != nullptr);
    if (name == "electra.embeddings.word_embeddings.weight")
      for (const double g : gradients.at(name).to_vector())
        shared_embedding_has_gradient |= g != 0.0;
  }
  CHECK(shared_embedding_has_gradient);
  CHECK(parameters.find("generator.generator_lm_head.bias") != nullptr);
  CHECK(parameters.find("discriminator.discriminator_predictions.dense_prediction.weight") !=
        nullptr);

  // The step record: shapes, dtypes, and the same numbers as the index and the trajectory.
  const std::int64_t P = step.at("masked_positions").dim(1);
  for (const char* name :
       {"input_ids", "token_type_ids", "attention_mask", "masked_input_ids", "corrupted_ids"})
    CHECK(step.at(name).shape() == Shape{B, L});
  for (const char* name : {"masked_positions", "masked_ids", "masked_weights", "sampled_ids"})
    CHECK(step.at(name).shape() == Shape{B, P});
  CHECK(step.at("mlm_logits").shape() == Shape{B * P, V});
  CHECK(step.at("disc_logits").shape() == Shape{B, L});
  CHECK(step.at("disc_labels").shape() == Shape{B, L});
  CHECK(step.at("total_loss").dtype() == DType::f64);
  CHECK(step.at("total_loss").item() == index["losses"]["total"][0].get<double>());
  CHECK(step.at("mlm_loss").item() == index["losses"]["mlm"][0].get<double>());
  CHECK(trajectory.at("total_loss").to_vector() ==
        index["losses"]["total"].get<std::vector<double>>());
  CHECK(same_bits(trajectory.at("step_0.sampled_ids"), step.at("sampled_ids")));
  CHECK(same_bits(trajectory.at("step_2.input_ids"), step.at("input_ids")));
  CHECK_FALSE(same_bits(trajectory.at("step_1.masked_positions"), step.at("masked_positions")));

  // An f32 dump of the same seed starts from the very same weights (initialised in f32).
  const Run f32 = run_command(
      dump_command(dir / "f32", "--preset tiny --config " + golden_config + " --seed 5"));
  REQUIRE_MESSAGE(f32.exit_code == 0, f32.output);
  const SafetensorsContents narrow =
      load_safetensors((dir / "f32" / "parameters.safetensors").string());
  for (const NamedTensor& wide : parameters.tensors) {
    CAPTURE(wide.name);
    CHECK(narrow.at(wide.name).dtype() == DType::f32);
    CHECK(same_bits(narrow.at(wide.name).to(DType::f64), wide.tensor));
  }
  fs::remove_all(dir);
}

TEST_CASE("audit CLI: --dump from a checkpoint starts from its parameters and Adam moments") {
  const fs::path dir = scratch_dir("checkpoint");
  const ModelConfig config = load_model_config(golden_config, model_preset("tiny"));
  ParameterStore store;
  const ElectraModel model(config, store, 9, DType::f32);
  AdamW optimizer(store, AdamWConfig{});
  const LearningRateSchedule schedule{config.learning_rate, config.warmup_steps,
                                      config.num_train_steps};
  const SpecialTokens special{0, 1, 2, 3, 4};
  MaskingSettings masking;
  masking.max_predictions = config.predictions_per_sequence();
  for (std::uint64_t step = 0; step < 2; ++step)
    run_audited_update(
        model, store, optimizer, schedule,
        mask_batch(synthetic_packed_batch(config, special, 9), special, masking, step), Tensor());
  TrainerState state;
  state.step = 2;
  state.seed = 9;
  state.config = {{"model", to_json(config)}};
  save_checkpoint(dir / "run", store, optimizer, state, 0);

  const Run run = run_command(dump_command(dir / "dump", "--checkpoint " + (dir / "run").string()));
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  const nlohmann::json index = read_json(dir / "dump" / "audit.json");
  CHECK(index["seed"] == 9);
  CHECK(index["optimizer"]["updates_applied_before"] == 2);
  CHECK(index["learning_rates"][0].get<double>() == schedule.at(2));
  const SafetensorsContents parameters =
      load_safetensors((dir / "dump" / "parameters.safetensors").string());
  const SafetensorsContents moments =
      load_safetensors((dir / "dump" / "optimizer_state.safetensors").string());
  bool moments_nonzero = false;
  for (const Parameter& parameter : store.parameters()) {
    CAPTURE(parameter.name);
    CHECK(same_bits(parameters.at(parameter.name), parameter.var.value()));
    CHECK(
        same_bits(moments.at(parameter.name + "/adam_v"), optimizer.second_moment(parameter.name)));
    for (const double v : moments.at(parameter.name + "/adam_v").to_vector())
      moments_nonzero |= v != 0.0;
  }
  CHECK(moments_nonzero);

  const Run conflicting = run_command(
      dump_command(dir / "dump2", "--checkpoint " + (dir / "run").string() + " --seed 3"));
  CHECK(conflicting.exit_code != 0);
  CHECK(contains(conflicting.output, "--checkpoint takes its config and seed from the checkpoint"));
  fs::remove_all(dir);
}

TEST_CASE("audit CLI: bad --dtype and --steps are one-line errors") {
  const fs::path dir = scratch_dir("flags");
  const Run dtype =
      run_command(dump_command(dir / "a", "--config " + golden_config + " --dtype f16"));
  CHECK(dtype.exit_code != 0);
  CHECK(contains(dtype.output, "--dtype must be f32 or f64, got f16"));
  const Run steps =
      run_command(dump_command(dir / "b", "--config " + golden_config + " --steps 0"));
  CHECK(steps.exit_code != 0);
  CHECK(contains(steps.output, "--steps must be ≥ 1, got 0"));
  fs::remove_all(dir);
}

TEST_CASE("audit CLI: --model tiny --objective X passes for every registered objective") {
  // The names come from `pretrain --help`, which lists the objective table: a new row is audited
  // here without editing this test.
  const Run help = run_command(electra_binary + " pretrain --help");
  REQUIRE(help.exit_code == 0);
  std::vector<std::string> objectives;
  std::istringstream lines(help.output.substr(help.output.find("--objective")));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    const std::size_t name_begin = line.find_first_not_of(' ');
    const std::size_t colon = line.find(':');
    if (name_begin == std::string::npos || line.compare(name_begin, 2, "--") == 0 ||
        colon == std::string::npos)
      break;
    objectives.push_back(line.substr(name_begin, colon - name_begin));
  }
  CHECK(objectives.size() >= 6);
  for (const std::string& objective : objectives) {
    const Run run =
        run_command(electra_binary + " audit --model tiny --seed 3 --objective " + objective);
    CHECK_MESSAGE(run.exit_code == 0, objective, ": ", run.output);
    CHECK_MESSAGE(contains(run.output, "verdict: pass"), objective);
    CHECK_MESSAGE(contains(run.output, "objective " + objective + ","), objective);
  }
  const Run unknown = run_command(electra_binary + " audit --model tiny --objective bert");
  CHECK(unknown.exit_code != 0);
  CHECK(contains(unknown.output,
                 "audit: --objective 'bert' is not registered (registered: electra,"));
}

TEST_CASE("audit CLI: --model tiny prints a passing verdict for every check") {
  const Run run = run_command(electra_binary + " audit --model tiny --seed 2");
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  for (const char* line :
       {"embeddings", "attention", "FFN", "LayerNorm", "heads", "finite differences (f64)",
        "stop-gradients hold", "determinism: same seed, same bits",
        "determinism: save, reload, continue", "verdict: pass"})
    CHECK_MESSAGE(contains(run.output, line), line);
  CHECK_FALSE(contains(run.output, "FAIL"));
}

TEST_CASE(
    "pretrain CLI: --detect-anomaly names the op and update and parameter of the first NaN or "
    "Inf") {
  const fs::path dir = scratch_dir("anomaly");
  const std::string shards = test::prepare_sample_shards(dir, 32);
  // lr 1e30 without warm-up: update 1 (clipped, Adam-normalised) moves every weight by ~1e30, so
  // the first matmul of update 2 overflows to Inf.
  const std::string command =
      electra_binary + " pretrain --data " + shards + " --out " + (dir / "run").string() +
      " --preset tiny --threads 1 --max-steps 5 --warmup 0 --lr 1e30 --save-every 0";
  const Run run = run_command(command + " --detect-anomaly");
  CHECK(run.exit_code != 0);
  CHECK_MESSAGE(contains(run.output, "update 2: anomaly: op 'linear'"), run.output);
  CHECK_MESSAGE(contains(run.output, "produced NaN/Inf in forward"), run.output);
  CHECK_MESSAGE(
      contains(run.output, "generator.electra.encoder.layer.0.attention.self.query.weight"),
      run.output);
  fs::remove_all(dir);
}
