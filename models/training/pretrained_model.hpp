#pragma once
// A pre-trained model loaded from a checkpoint for inference (`electra inspect`, evaluation):
// the config and seed stored in trainer_state.json rebuild the model, then the parameters are
// loaded with the checkpoint's checks (format version, SHA-256, every name, shape and dtype).
#include <filesystem>
#include <memory>

#include "autograd/parameter_store.hpp"
#include "models/networks/config.hpp"
#include "models/networks/electra_model.hpp"
#include "models/training/checkpoint.hpp"

namespace electra {

struct PretrainedModel {
  std::filesystem::path checkpoint_dir;
  TrainerState state;
  ModelConfig config;
  // The store outlives the model that refers to it (members are destroyed in reverse order).
  std::unique_ptr<ParameterStore> parameters;
  std::unique_ptr<ElectraModel> model;
};

// `path` is a checkpoint directory (holding trainer_state.json) or a run directory, in which case
// its latest checkpoint is used. Errors name the directory or file at fault. `model_overrides`
// (a JSON object of config fields, e.g. {"temperature": 1}) is merged into the stored model
// config before the model is built: evaluation may sample other than training did.
PretrainedModel load_pretrained_model(const std::filesystem::path& path,
                                      const nlohmann::json& model_overrides = nullptr);

// The checkpoint directory `path` designates (see above); throws when there is none.
std::filesystem::path resolve_checkpoint_dir(const std::filesystem::path& path);

}  // namespace electra
