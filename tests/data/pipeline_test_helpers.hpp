#pragma once
// Helpers shared by the data-pipeline tests (packing, shards, batches, masking): scratch
// directories and a shard set prepared from the committed Moby-Dick sample.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "data/shards.hpp"

namespace electra::testing {

inline const std::string sample_corpus =
    std::string(ELECTRA_TEST_DATA_DIR) + "/sample/moby_dick_sample.txt";
// Trained on the sample with:
//   electra vocab --corpus tests/data/sample/moby_dick_sample.txt --size 2000 --scoring likelihood
//                 --out tests/data/sample_vocab.txt
// Likelihood merges split common words into characters, which gives the tiny discriminator of the
// trainer test an easy signal (sampled pieces that break words). With --scoring frequency the
// generator samples whole plausible words from early on, and within that test's budget the
// discriminator falls to AUC ~0.55 at every learning rate tried (see tests/models/trainer_test.cpp).
inline const std::string sample_vocab = std::string(ELECTRA_TEST_DATA_DIR) + "/sample_vocab.txt";

// A fresh, empty directory under the system temp dir, unique to this process and name.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("electra_pipeline_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline PrepareSettings sample_settings(const std::filesystem::path& out_dir,
                                       std::int64_t seq_len = 128) {
  PrepareSettings settings;
  settings.corpus_paths = {sample_corpus};
  settings.vocab_path = sample_vocab;
  settings.seq_len = seq_len;
  settings.out_dir = out_dir.string();
  return settings;
}

}  // namespace electra::testing
