#pragma once
// Shared by the fine-tuning and HF-format tests: a tiny pre-trained-looking checkpoint on disk.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
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

inline ModelConfig tiny_config(const std::string& objective = "electra", std::int64_t vocab_size = 2000) {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = vocab_size;  // 2000: tests/data/sample_vocab.txt
  config.objective = objective;
  return config;
}

// A freshly initialised tiny model saved as a pre-training checkpoint recording the sample vocab.
inline std::filesystem::path write_tiny_checkpoint(const std::filesystem::path& run, const ModelConfig& config,
                                                   std::uint64_t seed,
                                                   const std::string& vocab_path = sample_vocab_path()) {
  ParameterStore store;
  ElectraModel model(config, store, seed);
  AdamW optimizer(store);
  TrainerState state;
  state.step = 0;
  state.seed = seed;
  state.config = {{"model", to_json(config)}};
  state.data_position = {{"epoch", 0}, {"offset", 0}, {"vocab_path", vocab_path}};
  return save_checkpoint(run, store, optimizer, state);
}

// A whole-word vocabulary of tests/data/labelled_sample.tsv (special tokens, every lower-cased
// word, "."), so the fine-tuning tests do not depend on how the shared sample vocab splits words.
// Returns its size.
inline std::int64_t write_labelled_sample_vocab(const std::filesystem::path& path) {
  std::ifstream in(std::string(ELECTRA_TEST_DATA_DIR) + "/labelled_sample.tsv");
  std::set<std::string> words;
  std::string line, word;
  while (std::getline(in, line)) {
    for (char& c : line) c = (c == '.' || c == '\t') ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::istringstream split(line);
    while (split >> word) words.insert(word);
  }
  std::ofstream out(path);
  out << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n";
  for (const std::string& w : words) out << w << '\n';
  return static_cast<std::int64_t>(words.size()) + 6;
}

}  // namespace electra::test
