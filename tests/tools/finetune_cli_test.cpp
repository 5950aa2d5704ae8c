// `electra finetune` / `electra evaluate` as a user runs them, on a tiny random encoder and
// tests/data/labelled_sample.tsv: a used --out is refused without --overwrite, --init names what
// a directory lacks, --max-seq-length is bounded by the model (not clamped), evaluate's errors
// speak of evaluate, and NaN weights are refused instead of scoring 0.5.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "helpers/cli_run.hpp"
#include "helpers/scratch.hpp"
#include "helpers/tiny_checkpoint.hpp"
#include "models/formats/hf_format.hpp"
#include "models/formats/safetensors.hpp"
#include "models/training/pretrained_model.hpp"

namespace fs = std::filesystem;
using namespace electra::test;

namespace {

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The error is the last line; `finetune` prints its one-line banner before it.
std::string last_line(const std::string& text) {
  const std::size_t end = text.size() - (text.ends_with('\n') ? 1 : 0);
  const std::size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1));
}

// A tiny random pre-trained checkpoint with a whole-word vocabulary, and the labelled sample
// split 160 / 40 into train.tsv and dev.tsv.
struct Workspace {
  fs::path root, run, train, dev;

  explicit Workspace(const std::string& name) : root(electra::test::scratch_dir(name)) {
    const std::int64_t vocab_size = electra::test::write_labelled_sample_vocab(root / "vocab.txt");
    run = electra::test::write_tiny_checkpoint(root / "run",
                                               electra::test::tiny_config("electra", vocab_size), 1,
                                               (root / "vocab.txt").string());
    train = root / "train.tsv";
    dev = root / "dev.tsv";
    electra::test::split_labelled_sample(train, dev);
  }
  ~Workspace() { fs::remove_all(root); }

  std::string finetune(const fs::path& out, const std::string& extra = "") const {
    return electra_binary + " finetune --init " + run.string() + " --train " + train.string() +
           " --dev " + dev.string() + " --out " + out.string() +
           " --epochs 1 --batch 16 --threads 1 " + extra;
  }
};

}  // namespace

TEST_CASE("finetune CLI: an --out holding an earlier model is refused unless --overwrite") {
  const Workspace work("overwrite");
  const fs::path out = work.root / "out";
  const Run first = run_command(work.finetune(out));
  REQUIRE_MESSAGE(first.exit_code == 0, first.output);
  const std::string model_bytes = read_text(out / "model.safetensors");

  const Run again = run_command(work.finetune(out, "--seed 7"));
  INFO(again.output);
  CHECK(again.exit_code != 0);
  CHECK(line_count(again.output) <= 2);
  CHECK(last_line(again.output) ==
        "electra: error: finetune: --out " + out.string() +
            " already holds model.safetensors, which this run would replace; pass "
            "--overwrite to replace it, or choose another --out");
  CHECK(read_text(out / "model.safetensors") == model_bytes);  // untouched

  const Run replaced = run_command(work.finetune(out, "--seed 7 --overwrite"));
  REQUIRE_MESSAGE(replaced.exit_code == 0, replaced.output);
  CHECK(read_text(out / "model.safetensors") != model_bytes);  // another seed, another head
}

TEST_CASE("finetune CLI: --init names what the directory is missing") {
  const Workspace work("init");
  const fs::path out = work.root / "out";
  const std::string command = work.finetune(out);
  auto with_init = [&](const fs::path& init) {
    std::string changed = command;
    changed.replace(changed.find(work.run.string()), work.run.string().size(), init.string());
    return run_command(changed);
  };
  // An exported directory whose config.json was lost: an HF directory missing a file, not a
  // "checkpoint without trainer_state.json".
  const electra::PretrainedModel original = electra::load_pretrained_model(work.run);
  const electra::HfExport exported = electra::export_pretraining_to_hf(
      *original.parameters, original.config, work.root / "hf", "");
  fs::remove(exported.discriminator / "config.json");
  const Run no_config = with_init(exported.discriminator);
  INFO(no_config.output);
  CHECK(no_config.exit_code != 0);
  CHECK(line_count(no_config.output) <= 2);
  CHECK(last_line(no_config.output) ==
        "electra: error: finetune: --init " + exported.discriminator.string() +
            ": looks like a Hugging Face directory (model.safetensors) but has no "
            "config.json");
  CHECK_FALSE(contains(no_config.output, "trainer_state.json"));
  // The export directory above it: its generator/ still has a config.json, which would be taken
  // as the encoder; with that gone too the message names discriminator/.
  fs::remove(exported.generator / "config.json");
  const Run export_dir = with_init(work.root / "hf");
  CHECK(export_dir.exit_code != 0);
  CHECK(contains(export_dir.output,
                 exported.discriminator.string() + ": looks like a Hugging Face directory"));

  fs::create_directories(work.root / "empty");
  const Run empty = with_init(work.root / "empty");
  CHECK(empty.exit_code != 0);
  CHECK(contains(
      empty.output,
      "is neither a Hugging Face directory (config.json, model.safetensors), a pre-training "
      "checkpoint (trainer_state.json) nor a run directory (step-* checkpoints)"));
  const Run missing = with_init(work.root / "nowhere");
  CHECK(missing.exit_code != 0);
  CHECK(contains(missing.output,
                 "finetune: --init " + (work.root / "nowhere").string() + ": no such directory"));
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("finetune CLI: --max-seq-length beyond the model's positions is refused, not clamped") {
  const Workspace work("seq_len");
  const fs::path out = work.root / "out";
  const Run too_long = run_command(work.finetune(out, "--max-seq-length 513"));
  INFO(too_long.output);
  CHECK(too_long.exit_code != 0);
  CHECK(line_count(too_long.output) <= 2);
  CHECK(last_line(too_long.output)
            .starts_with("electra: error: finetune: --max-seq-length 513 exceeds the model's 512 "
                         "positions (max_position_embeddings of " +
                         work.run.string()));
  const Run too_short = run_command(work.finetune(out, "--max-seq-length 2"));
  CHECK(too_short.exit_code != 0);
  CHECK(contains(
      too_short.output,
      "--max-seq-length 2 leaves no room for text: a sentence needs [CLS], a token and [SEP] (3)"));
  const Run pair_too_short = run_command(work.finetune(out, "--task pair --max-seq-length 4"));
  CHECK(pair_too_short.exit_code != 0);
  CHECK(contains(pair_too_short.output, "(5)"));
  CHECK_FALSE(fs::exists(out / "model.safetensors"));
  const Run at_limit =
      run_command(work.finetune(out, "--max-seq-length 512 --max-train-examples 16"));
  CHECK_MESSAGE(at_limit.exit_code == 0, at_limit.output);
}

TEST_CASE("evaluate CLI: errors say evaluate and name the model's labels, not finetune's flags") {
  const Workspace work("evaluate_errors");
  const fs::path out = work.root / "out";
  const Run trained = run_command(work.finetune(out));
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.output);
  {
    std::ofstream odd(work.root / "odd.tsv");
    odd << "sentence\tlabel\nthe film was fine\tneutral\n";
  }
  const Run unknown = run_command(electra_binary + " evaluate --model " + out.string() +
                                  " --data " + (work.root / "odd.tsv").string());
  INFO(unknown.output);
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.output ==
        "electra: error: evaluate: " + (work.root / "odd.tsv").string() +
            ": example 1: label 'neutral' is not one of the model's labels (negative, positive)\n");
  CHECK_FALSE(contains(unknown.output, "finetune:"));
  CHECK_FALSE(contains(unknown.output, "--labels"));
}

TEST_CASE("evaluate CLI: a model with NaN or infinite weights is refused, naming the model") {
  const Workspace work("evaluate_nan");
  const fs::path out = work.root / "out";
  const Run trained = run_command(work.finetune(out));
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.output);
  const Run healthy = run_command(electra_binary + " evaluate --model " + out.string() +
                                  " --data " + work.dev.string());
  REQUIRE_MESSAGE(healthy.exit_code == 0, healthy.output);

  const std::pair<const char*, float> poisons[] = {
      {"electra.encoder.layer.0.output.dense.weight", std::nanf("")},
      {"classifier.out_proj.bias", std::numeric_limits<float>::infinity()}};
  for (const auto& [tensor_name, poison] : poisons) {
    const fs::path broken = work.root / "broken";
    fs::remove_all(broken);
    fs::copy(out, broken);
    electra::SafetensorsContents contents =
        electra::load_safetensors((broken / "model.safetensors").string());
    for (electra::NamedTensor& named : contents.tensors)
      if (named.name == tensor_name) named.tensor.data<float>()[0] = poison;
    electra::save_safetensors((broken / "model.safetensors").string(), contents.tensors);

    const Run run = run_command(electra_binary + " evaluate --model " + broken.string() +
                                " --data " + work.dev.string());
    INFO(tensor_name, "\n", run.output);
    CHECK(run.exit_code != 0);
    CHECK(line_count(run.output) == 1);
    CHECK(contains(run.output,
                   "electra: error: evaluate: " + (broken / "model.safetensors").string() +
                       ": tensor '" + tensor_name + "' holds NaN or infinite values"));
    CHECK_FALSE(contains(run.output, "accuracy"));
  }
}
