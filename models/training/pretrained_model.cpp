// Loading a checkpoint for inference: see pretrained_model.hpp.
#include "models/training/pretrained_model.hpp"

#include "engine/error.hpp"

namespace electra {
namespace fs = std::filesystem;

fs::path resolve_checkpoint_dir(const fs::path& path) {
  check(fs::exists(path), "checkpoint: ", path.string(), ": no such directory");
  if (fs::exists(path / "trainer_state.json")) return path;
  const std::optional<fs::path> latest = latest_checkpoint(path);
  check(latest.has_value(), "checkpoint: ", path.string(),
        " is neither a checkpoint (no trainer_state.json) nor a run directory with step-* "
        "checkpoints");
  return *latest;
}

PretrainedModel load_pretrained_model(const fs::path& path, const nlohmann::json& model_overrides) {
  PretrainedModel loaded;
  loaded.checkpoint_dir = resolve_checkpoint_dir(path);
  loaded.state = read_trainer_state(loaded.checkpoint_dir);
  const fs::path state_path = loaded.checkpoint_dir / "trainer_state.json";
  check(loaded.state.config.is_object() && loaded.state.config.contains("model"),
        "checkpoint: ", state_path.string(),
        ": config has no \"model\" section (not written by `electra pretrain`?)");
  try {
    nlohmann::json model = loaded.state.config.at("model");
    if (model_overrides.is_object()) model.merge_patch(model_overrides);
    loaded.config = model_config_from_json(model);
  } catch (const Error& error) {
    throw_error("checkpoint: ", state_path.string(), ": ", error.what());
  }
  loaded.parameters = std::make_unique<ParameterStore>();
  loaded.model =
      std::make_unique<ElectraModel>(loaded.config, *loaded.parameters, loaded.state.seed);
  load_checkpoint(loaded.checkpoint_dir, *loaded.parameters, nullptr, nlohmann::json());
  return loaded;
}

}  // namespace electra
