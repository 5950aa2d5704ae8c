// `electra audit --dump` for every registered objective (docs/audit.md): the dump writes what the
// objective's step produces — every named loss with its weight, the samples where it samples, the
// logits it defines, its own heads' parameters and a gradient for every parameter — chosen by
// `--objective` or by the config's "objective" key; the electra dump keeps its names.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "helpers/cli_run.hpp"
#include "helpers/scratch.hpp"
#include "models/formats/safetensors.hpp"
#include "models/objectives/objective.hpp"

namespace fs = std::filesystem;
using namespace electra;
using namespace electra::test;

namespace {

const std::string golden_config =
    std::string(ELECTRA_SOURCE_DIR) + "/tests/golden/golden_config.json";

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

std::string dump_command(const fs::path& dir, const std::string& extra) {
  return electra_binary + " audit --dump " + dir.string() + " --threads 1 --preset tiny --config " +
         golden_config + " --seed 3 --steps 2 " + extra;
}

// golden_config.json with "objective" set, written to dir/<objective>.json.
fs::path config_for(const fs::path& dir, const std::string& objective) {
  nlohmann::json config;
  {
    std::ifstream in(golden_config);
    config = nlohmann::json::parse(in);
  }
  config["objective"] = objective;
  const fs::path path = dir / (objective + ".json");
  std::ofstream(path) << config.dump();
  return path;
}

std::string dump_with_config(const fs::path& dir, const fs::path& config) {
  return electra_binary + " audit --dump " + dir.string() + " --threads 1 --preset tiny --config " +
         config.string() + " --seed 3 --steps 2";
}

bool has_prefix(const SafetensorsContents& contents, const std::string& prefix) {
  for (const NamedTensor& tensor : contents.tensors)
    if (tensor.name.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("audit dump: every registered objective dumps its named losses, outputs and gradients") {
  const fs::path dir = scratch_dir("objectives");
  for (const ObjectiveSpec& spec : objective_table()) {
    CAPTURE(spec.name);
    const fs::path out = dir / spec.name;
    const Run run = run_command(dump_with_config(out, config_for(dir, spec.name)));
    REQUIRE_MESSAGE(run.exit_code == 0, run.output);
    CHECK(contains(run.output, "objective " + spec.name));
    const nlohmann::json index = read_json(out / "audit.json");
    CHECK(index["objective"] == spec.name);
    CHECK(index["config"]["objective"] == spec.name);
    const SafetensorsContents step = load_safetensors((out / "step.safetensors").string());
    const SafetensorsContents trajectory =
        load_safetensors((out / "trajectory.safetensors").string());
    const SafetensorsContents parameters =
        load_safetensors((out / "parameters.safetensors").string());
    const SafetensorsContents gradients =
        load_safetensors((out / "gradients.safetensors").string());

    // Every named loss, in the row's order, as the index, the step and the trajectory hold it.
    const auto names = index["loss_names"].get<std::vector<std::string>>();
    REQUIRE(!names.empty());
    CHECK(names.front() == "mlm");
    double weighted = 0;
    for (const std::string& name : names) {
      CAPTURE(name);
      const double loss = step.at(name + "_loss").item(), weight = step.at(name + "_weight").item();
      CHECK(loss == index["losses"][name][0].get<double>());
      CHECK(weight == index["loss_weights"][name][0].get<double>());
      CHECK(trajectory.at(name + "_loss").numel() == 2);
      CHECK(trajectory.at(name + "_weight").numel() == 2);
      weighted += weight * loss;
    }
    CHECK(step.at("total_loss").item() == doctest::Approx(weighted).epsilon(1e-6));

    // Samples where the row samples; replaced-token tensors where it detects replacements.
    const bool samples = spec.name != "mlm";
    CHECK((step.find("sampled_ids") != nullptr) == samples);
    CHECK((trajectory.find("step_1.sampled_ids") != nullptr) == samples);
    CHECK((step.find("corrupted_ids") != nullptr) == samples);
    CHECK(step.find("mlm_logits") != nullptr);
    CHECK((step.find("disc_logits") != nullptr) == spec.detects_replacements());
    CHECK((step.find("disc_labels") != nullptr) == spec.detects_replacements());

    // The row's own heads are ordinary parameters, each with its gradient.
    CHECK(gradients.tensors.size() == parameters.tensors.size());
    for (const NamedTensor& parameter : parameters.tensors) {
      CAPTURE(parameter.name);
      REQUIRE(gradients.find(parameter.name) != nullptr);
      CHECK(gradients.at(parameter.name).shape() == parameter.tensor.shape());
    }
    if (spec.name == "electra_hp") CHECK(has_prefix(parameters, "objective.electra_hp."));
    if (spec.name == "all_tokens_mlm")
      CHECK(parameters.find("discriminator.copy_prediction.weight") != nullptr);
  }
  fs::remove_all(dir);
}

TEST_CASE("audit dump: --objective selects the row as the config's objective key does") {
  const fs::path dir = scratch_dir("config_key");
  const Run by_key = run_command(dump_with_config(dir / "key", config_for(dir, "electra15")));
  REQUIRE_MESSAGE(by_key.exit_code == 0, by_key.output);
  const Run by_flag = run_command(dump_command(dir / "flag", "--objective electra15"));
  REQUIRE_MESSAGE(by_flag.exit_code == 0, by_flag.output);
  const nlohmann::json key = read_json(dir / "key" / "audit.json");
  const nlohmann::json flag = read_json(dir / "flag" / "audit.json");
  CHECK(key["objective"] == "electra15");
  CHECK(key["losses"] == flag["losses"]);
  fs::remove_all(dir);
}

TEST_CASE("audit dump: the electra dump keeps the names of the first format") {
  const fs::path dir = scratch_dir("electra");
  const Run run = run_command(dump_command(dir, ""));
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  const nlohmann::json index = read_json(dir / "audit.json");
  CHECK(index["objective"] == "electra");
  for (const char* key : {"mlm", "disc", "total"}) CHECK(index["losses"][key].size() == 2);
  const SafetensorsContents step = load_safetensors((dir / "step.safetensors").string());
  for (const char* name : {"mlm_loss", "disc_loss", "total_loss", "mlm_logits", "disc_logits",
                           "disc_labels", "corrupted_ids", "sampled_ids"})
    CHECK(step.find(name) != nullptr);
  const SafetensorsContents trajectory =
      load_safetensors((dir / "trajectory.safetensors").string());
  for (const char* name : {"mlm_loss", "disc_loss", "total_loss", "grad_norm", "learning_rate"})
    CHECK(trajectory.at(name).numel() == 2);
  fs::remove_all(dir);
}

TEST_CASE("audit dump: --objective with --checkpoint and an unknown --objective are refused") {
  const fs::path dir = scratch_dir("refused");
  const Run both = run_command(electra_binary + " audit --dump " + (dir / "a").string() +
                               " --checkpoint " + (dir / "run").string() + " --objective mlm");
  CHECK(both.exit_code != 0);
  CHECK(contains(both.output, "--checkpoint takes its objective from the checkpoint"));
  const Run unknown = run_command(dump_command(dir / "b", "--objective nonsense"));
  CHECK(unknown.exit_code != 0);
  CHECK(contains(unknown.output, "--objective 'nonsense' is not registered"));
  fs::remove_all(dir);
}
