#pragma once
// Shared by the fine-tuning and HF-format tests: a tiny pre-trained-looking checkpoint on disk,
// and tests/data/labelled_sample.tsv split into train and dev.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "helpers/sample_shards.hpp"
#include "models/networks/electra_model.hpp"
#include "models/training/checkpoint.hpp"

namespace electra::test {

inline ModelConfig tiny_config(const std::string& objective = "electra",
                               std::int64_t vocab_size = 2000) {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = vocab_size;  // 2000: tests/data/sample_vocab.txt
  config.objective = objective;
  return config;
}

// A freshly initialised tiny model saved as a pre-training checkpoint recording the sample vocab.
inline std::filesystem::path write_tiny_checkpoint(const std::filesystem::path& run,
                                                   const ModelConfig& config, std::uint64_t seed,
                                                   const std::string& vocab_path = sample_vocab) {
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
    for (char& c : line)
      c = (c == '.' || c == '\t') ? ' '
                                  : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::istringstream split(line);
    while (split >> word) words.insert(word);
  }
  std::ofstream out(path);
  out << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n";
  for (const std::string& w : words) out << w << '\n';
  return static_cast<std::int64_t>(words.size()) + 6;
}

// The labelled sample's first 160 lines as train, the last 40 as dev (with the header in both).
inline void split_labelled_sample(const std::filesystem::path& train,
                                  const std::filesystem::path& dev) {
  std::ifstream in(std::string(ELECTRA_TEST_DATA_DIR) + "/labelled_sample.tsv");
  std::string header, line;
  std::getline(in, header);
  std::ofstream train_file(train), dev_file(dev);
  train_file << header << '\n';
  dev_file << header << '\n';
  for (int i = 0; std::getline(in, line); ++i) (i < 160 ? train_file : dev_file) << line << '\n';
}

}  // namespace electra::test
