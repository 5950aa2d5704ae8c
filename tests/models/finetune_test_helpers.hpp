#pragma once
// Shared by the fine-tuning and HF-format tests: a tiny pre-trained-looking checkpoint on disk.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "models/checkpoint.hpp"
#include "models/electra_model.hpp"

namespace electra::test {

inline std::filesystem::path scratch_directory(const std::string& name) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("electra_finetune_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

inline std::string sample_vocab_path() { return std::string(ELECTRA_TEST_DATA_DIR) + "/sample_vocab.txt"; }

inline ModelConfig tiny_config(const std::string& objective = "electra") {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = 2000;  // tests/data/sample_vocab.txt
  config.objective = objective;
  return config;
}

// A freshly initialised tiny model saved as a pre-training checkpoint recording the sample vocab.
inline std::filesystem::path write_tiny_checkpoint(const std::filesystem::path& run, const ModelConfig& config,
                                                   std::uint64_t seed) {
  ParameterStore store;
  ElectraModel model(config, store, seed);
  AdamW optimizer(store);
  TrainerState state;
  state.step = 0;
  state.seed = seed;
  state.config = {{"model", to_json(config)}};
  state.data_position = {{"epoch", 0}, {"offset", 0}, {"vocab_path", sample_vocab_path()}};
  return save_checkpoint(run, store, optimizer, state);
}

}  // namespace electra::test
