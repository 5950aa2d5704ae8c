#pragma once
// The committed Moby-Dick sample (tests/data/sample/) and its vocabulary, and shard sets prepared
// from it through the data API.
#include <cstdint>
#include <filesystem>
#include <string>

#include "data/shards.hpp"
#include "engine/error.hpp"

namespace electra::test {

inline const std::string sample_corpus =
    std::string(ELECTRA_TEST_DATA_DIR) + "/sample/moby_dick_sample.txt";
// Trained on the sample with:
//   electra vocab --corpus tests/data/sample/moby_dick_sample.txt --size 2000 --scoring likelihood
//                 --out tests/data/sample_vocab.txt
// Likelihood merges split common words into characters, which gives the tiny discriminator of the
// trainer test an easy signal (sampled pieces that break words). With --scoring frequency the
// generator samples whole plausible words from early on, and within that test's budget the
// discriminator falls to AUC ~0.55 at every learning rate tried (see
// tests/models/trainer_test.cpp).
inline const std::string sample_vocab = std::string(ELECTRA_TEST_DATA_DIR) + "/sample_vocab.txt";

inline PrepareSettings sample_settings(const std::filesystem::path& out_dir,
                                       std::int64_t seq_len = 128) {
  PrepareSettings settings;
  settings.corpus_paths = {sample_corpus};
  settings.vocab_path = sample_vocab;
  settings.seq_len = seq_len;
  settings.out_dir = out_dir.string();
  return settings;
}

// Shards of the sample at this length in `dir`/shards; returns that directory.
inline std::string prepare_sample_shards(const std::filesystem::path& dir, std::int64_t seq_len) {
  const PrepareSettings settings = sample_settings(dir / "shards", seq_len);
  prepare_shards(settings);
  return settings.out_dir;
}

// The message prepare_shards throws ("" if it succeeds).
inline std::string prepare_error(const PrepareSettings& settings) {
  try {
    prepare_shards(settings);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace electra::test
