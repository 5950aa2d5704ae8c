#pragma once
// A tiny Trainer on a shard set (tests/helpers/sample_shards.hpp), for the pre-training tests.
#include <cstdint>
#include <filesystem>
#include <string>

#include "data/shards.hpp"
#include "engine/error.hpp"
#include "models/training/trainer.hpp"

namespace electra::test {

// The tiny preset at the shards' seq_len and vocabulary size, seed 7, max_steps updates on a
// schedule of as many (2 of warm-up), logging every update and saving only at the end.
inline TrainerOptions tiny_trainer_options(const std::string& shards,
                                           const std::filesystem::path& out,
                                           std::int64_t max_steps) {
  const ShardSetInfo info = read_shard_set_info(shards);
  TrainerOptions options;
  options.shards_dir = shards;
  options.out_dir = out.string();
  options.config = model_preset("tiny");
  options.config.seq_len = info.seq_len;
  options.config.vocab_size = info.vocab_size;
  options.config.num_train_steps = max_steps;
  options.config.warmup_steps = 2;
  options.seed = 7;
  options.max_steps = max_steps;
  options.log_every = 1;
  options.save_every = 0;
  return options;
}

// The error message of constructing a Trainer (empty if it succeeded).
inline std::string construction_error(const TrainerOptions& options) {
  try {
    Trainer trainer(options);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace electra::test
