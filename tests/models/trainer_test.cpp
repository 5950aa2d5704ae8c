// The pre-training loop end to end on the committed Moby-Dick sample: it learns, it resumes bit
// for bit, it stops on request with a checkpoint, and it refuses corrupted or mismatched ones.
#include "models/training/trainer.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "data/batch_iterator.hpp"
#include "data/masking.hpp"
#include "data/shards.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "helpers/tiny_trainer.hpp"
#include "models/training/pretrained_model.hpp"

using namespace electra;
namespace fs = std::filesystem;
using namespace electra::test;

namespace {

bool small_scale() {
  const char* scale = std::getenv("ELECTRA_TEST_SCALE");
  return scale != nullptr && std::string(scale) == "small";
}

TrainerOptions tiny_options(const std::string& shards, const fs::path& out,
                            std::int64_t max_steps) {
  TrainerOptions options = test::tiny_trainer_options(shards, out, max_steps);
  options.vocab_path = sample_vocab;
  return options;
}

struct Losses {
  std::vector<double> total, mlm, disc;
};

// Trains and returns the losses of every update this run made.
Losses train(const TrainerOptions& options, TrainingResult* result = nullptr) {
  Trainer trainer(options);
  Losses losses;
  const TrainingResult done = trainer.run([&](const StepReport& report) {
    REQUIRE(report.metrics != nullptr);
    losses.total.push_back(report.metrics->total_loss);
    losses.mlm.push_back(report.metrics->mlm_loss);
    losses.disc.push_back(report.metrics->disc_loss);
  });
  if (result) *result = done;
  return losses;
}

void flip_byte(const fs::path& path, std::size_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(file.good());
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5A);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
}

double mean_of_last(const std::vector<double>& values, std::size_t count) {
  double sum = 0;
  std::size_t used = 0;
  for (std::size_t i = values.size() - std::min(count, values.size()); i < values.size(); ++i)
    if (std::isfinite(values[i])) sum += values[i], ++used;
  return used ? sum / used : std::nan("");
}

// The best a unigram model can do on exactly the masked tokens of updates [first, last): the
// data order and the masks are pure functions of (seed, draw), so those batches can be drawn
// again. `accuracy` is the share of the most frequent token (a unigram argmax's accuracy);
// `entropy` the plug-in entropy of their distribution in nats (the cross-entropy of the unigram
// fitted to exactly these tokens, so optimistic for the baseline).
struct UnigramBaseline {
  double accuracy = 0, entropy = 0, masked_tokens = 0;
};

UnigramBaseline masked_unigram_baseline(const std::string& shards, const TrainerOptions& options,
                                        std::int64_t first, std::int64_t last) {
  BatchIterator batches(shards, options.seed);
  MaskingSettings masking;
  masking.max_predictions = options.config.predictions_per_sequence();
  masking.seed = options.seed;
  const SpecialTokens special = read_shard_special_tokens(shards);
  std::map<std::int32_t, double> counts;
  double masked_total = 0;
  for (std::int64_t update = 0; update < last; ++update) {
    for (std::int64_t micro = 0; micro < options.grad_accumulation; ++micro) {
      const PackedBatch packed = batches.next(options.config.batch_size);
      if (update < first) continue;
      const auto draw = static_cast<std::uint64_t>(update * options.grad_accumulation + micro);
      const MaskedBatch batch = mask_batch(packed, special, masking, draw);
      for (std::int64_t i = 0; i < batch.masked_weights.numel(); ++i) {
        if (batch.masked_weights.data<float>()[i] == 0) continue;
        counts[batch.masked_original_ids.data<std::int32_t>()[i]] += 1;
        masked_total += 1;
      }
    }
  }
  UnigramBaseline baseline;
  baseline.masked_tokens = masked_total;
  for (const auto& [id, count] : counts) {
    baseline.accuracy = std::max(baseline.accuracy, count / masked_total);
    baseline.entropy -= count / masked_total * std::log(count / masked_total);
  }
  return baseline;
}

// The highest mean of `values` over `width` consecutive entries, and where that window starts.
std::pair<double, std::size_t> best_window(const std::vector<double>& values, std::size_t width) {
  std::pair<double, std::size_t> best{-1.0, 0};
  for (std::size_t start = 0; start + width <= values.size(); ++start) {
    const std::vector<double> slice(values.begin() + start, values.begin() + start + width);
    const double mean = mean_of_last(slice, width);
    if (mean > best.first) best = {mean, start};
  }
  return best;
}

std::vector<double> slice_of(const std::vector<double>& values, std::size_t start,
                             std::size_t width) {
  return {values.begin() + start, values.begin() + start + width};
}

}  // namespace

TEST_CASE(
    "trainer: tiny ELECTRA learns on the sample (disc AUC, disc loss vs H(p), gen acc vs "
    "unigram)") {
  const fs::path dir = scratch_dir("learn");
  const std::string shards = prepare_sample_shards(dir, 64);
  // One run at tiny's own recipe (lr 1e-3), which goes through two regimes:
  //  1. While the generator is worse than unigram, its samples are rarer than real tokens and the
  //     discriminator learns to spot them (AUC ~0.9, loss far below a constant predictor's).
  //  2. Once the generator passes unigram that token-identity signal is gone, and the
  //     discriminator falls back near a constant predictor (AUC ~0.55) while the generator goes on
  //     to beat the unigram baseline. Learning context as a discriminator takes far more tokens
  //     than a test can afford: a scan of lr 5e-4..3e-3, batch 8..32, seq_len 32/64, up to 2400
  //     updates, generator_size 0.125..0.5, a 4-layer or 128-wide discriminator and disc_weight 1
  //     never got both AUC >= 0.8 and a generator above unigram at the same time (AUC 0.52-0.58).
  // So the discriminator is checked where it learned (its best window) and the generator at the
  // end; both are required to happen in the same run.
  const std::int64_t steps = small_scale() ? 240 : 1000;
  TrainerOptions options = tiny_options(shards, dir / "run", steps);
  options.config.warmup_steps = steps / 10;
  options.log_every = 1;

  std::vector<double> auc, disc_loss, replaced, gen_acc, mlm_loss;
  Trainer trainer(options);
  trainer.run([&](const StepReport& report) {
    auc.push_back(report.metrics->disc_auc);
    disc_loss.push_back(report.metrics->disc_loss);
    replaced.push_back(report.metrics->replaced_frac);
    gen_acc.push_back(report.metrics->gen_acc);
    mlm_loss.push_back(report.metrics->mlm_loss);
  });
  REQUIRE(auc.size() == static_cast<std::size_t>(steps));

  // Regime 1: the discriminator's best 50 consecutive updates.
  const std::size_t disc_window = 50;
  const auto [best_auc, best_start] = best_window(auc, disc_window);
  const double best_disc_loss =
      mean_of_last(slice_of(disc_loss, best_start, disc_window), disc_window);
  const double best_replaced =
      mean_of_last(slice_of(replaced, best_start, disc_window), disc_window);
  const double best_constant_loss = binary_entropy(best_replaced);

  // Regime 2: the generator over the last fifth, against a unigram model of exactly its tokens.
  const std::size_t window = static_cast<std::size_t>(steps / 5);
  const UnigramBaseline unigram =
      masked_unigram_baseline(shards, options, steps - static_cast<std::int64_t>(window), steps);
  const double final_gen_acc = mean_of_last(gen_acc, window);
  const double final_mlm_loss = mean_of_last(mlm_loss, window);
  const double final_auc = mean_of_last(auc, window);
  const double final_disc_loss = mean_of_last(disc_loss, window);
  const double final_constant_loss = binary_entropy(mean_of_last(replaced, window));
  MESSAGE("tiny, ", steps, " updates. Discriminator, best ", disc_window, " updates (from update ",
          best_start + 1, "): AUC ", best_auc, ", loss ", best_disc_loss,
          " vs H(p = ", best_replaced, ") = ", best_constant_loss, ". Last ", window,
          " updates: gen acc ", final_gen_acc, " vs unigram argmax ", unigram.accuracy,
          ", MLM loss ", final_mlm_loss, " vs unigram entropy ", unigram.entropy, " nats (",
          unigram.masked_tokens, " masked tokens); disc AUC ", final_auc, ", loss ",
          final_disc_loss, " vs H(p) ", final_constant_loss);
  CHECK(best_auc >= (small_scale() ? 0.7 : 0.8));
  CHECK(best_disc_loss < (small_scale() ? 0.9 : 0.8) * best_constant_loss);
  if (small_scale()) {  // 240 updates: the generator is only reaching unigram
    CHECK(final_gen_acc >= 0.8 * unigram.accuracy);
  } else {
    CHECK(final_gen_acc > 1.3 * unigram.accuracy);
    CHECK(final_mlm_loss < unigram.entropy);
    CHECK(final_auc > 0.5);  // above chance even after the shortcut is gone
  }
  fs::remove_all(dir);
}

TEST_CASE("trainer: k updates + resume + k updates = 2k updates, bit for bit (with accumulation)") {
  const fs::path dir = scratch_dir("resume");
  const std::string shards = prepare_sample_shards(dir, 32);
  const std::int64_t k = 3;
  TrainerOptions straight = tiny_options(shards, dir / "straight", 2 * k);
  straight.grad_accumulation = 2;
  straight.config.batch_size = 4;
  const Losses expected = train(straight);
  REQUIRE(expected.total.size() == 2 * k);

  TrainerOptions first_half = straight;
  first_half.out_dir = (dir / "resumed").string();
  first_half.max_steps = k;  // the schedule length stays 2k: num_train_steps is in the config
  TrainingResult first_result;
  const Losses first = train(first_half, &first_result);
  CHECK(first_result.final_step == k);
  CHECK(fs::exists(first_result.last_checkpoint / "model.safetensors"));

  TrainerOptions second_half = straight;
  second_half.out_dir = first_half.out_dir;
  second_half.resume = true;
  TrainingResult second_result;
  const Losses second = train(second_half, &second_result);
  CHECK(second_result.first_step == k);
  REQUIRE(second.total.size() == k);
  for (std::int64_t i = 0; i < k; ++i) {
    CHECK(first.total[i] == expected.total[i]);
    // Exact equality on purpose: everything random is a function of (seed, draw, site) and the
    // data position and Adam's moments come back from the checkpoint.
    CHECK(second.total[i] == expected.total[k + i]);
    CHECK(second.mlm[i] == expected.mlm[k + i]);
    CHECK(second.disc[i] == expected.disc[k + i]);
  }

  // The parameters end up identical too, and the metrics log reads like one run.
  const PretrainedModel a = load_pretrained_model(dir / "straight");
  const PretrainedModel b = load_pretrained_model(dir / "resumed");
  REQUIRE(a.parameters->size() == b.parameters->size());
  for (std::size_t p = 0; p < a.parameters->size(); ++p) {
    const Tensor& x = a.parameters->parameters()[p].var.value();
    const Tensor& y = b.parameters->parameters()[p].var.value();
    REQUIRE(x.nbytes() == y.nbytes());
    CHECK_MESSAGE(std::memcmp(x.raw(), y.raw(), x.nbytes()) == 0,
                  a.parameters->parameters()[p].name);
  }
  std::ifstream log(dir / "resumed" / "metrics.jsonl");
  std::vector<std::int64_t> logged;
  for (std::string line; std::getline(log, line);)
    logged.push_back(nlohmann::json::parse(line)["step"]);
  CHECK(logged == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6});
  fs::remove_all(dir);
}

TEST_CASE("trainer: a stop request finishes the update, saves a checkpoint and returns") {
  const fs::path dir = scratch_dir("stop");
  const std::string shards = prepare_sample_shards(dir, 32);
  TrainerOptions options = tiny_options(shards, dir / "run", 1000);
  options.save_every = 0;
  clear_stop_request();
  Trainer trainer(options);
  const TrainingResult result = trainer.run([](const StepReport& report) {
    if (report.step == 2) request_stop();
  });
  clear_stop_request();
  CHECK(result.stopped_by_request);
  CHECK(result.final_step == 2);
  REQUIRE(latest_checkpoint(dir / "run").has_value());
  CHECK(*latest_checkpoint(dir / "run") == result.last_checkpoint);
  CHECK(read_trainer_state(result.last_checkpoint).step == 2);

  // The checkpoint rebuilds the model for inference: same parameters, inspect runs.
  const PretrainedModel loaded = load_pretrained_model(dir / "run");
  CHECK(loaded.config == trainer.config());
  CHECK(loaded.state.data_position.value("vocab_path", std::string()) ==
        fs::absolute(sample_vocab).lexically_normal().string());
  for (std::size_t p = 0; p < loaded.parameters->size(); ++p) {
    const Tensor& x = loaded.parameters->parameters()[p].var.value();
    const Tensor& y = trainer.parameters().parameters()[p].var.value();
    CHECK(std::memcmp(x.raw(), y.raw(), x.nbytes()) == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE(
    "trainer: corrupted or mismatched checkpoints are refused with one line naming the cause") {
  const fs::path dir = scratch_dir("refuse");
  const std::string shards = prepare_sample_shards(dir, 32);
  TrainerOptions options = tiny_options(shards, dir / "run", 2);
  train(options);
  const fs::path checkpoint = *latest_checkpoint(dir / "run");

  TrainerOptions resume = options;
  resume.resume = true;
  resume.max_steps = 4;
  SUBCASE("a different learning rate") {
    resume.config.learning_rate = 5e-4;
    const std::string message = construction_error(resume);
    CHECK(message.find("learning_rate") != std::string::npos);
    CHECK(message.find(checkpoint.string()) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  SUBCASE("another seed") {
    resume.seed = 8;
    CHECK(construction_error(resume).find("/seed") != std::string::npos);
  }
  SUBCASE("a flipped byte in model.safetensors") {
    flip_byte(checkpoint / "model.safetensors",
              fs::file_size(checkpoint / "model.safetensors") - 5);
    const std::string message = construction_error(resume);
    CHECK(message.find((checkpoint / "model.safetensors").string()) != std::string::npos);
    CHECK(message.find("sha256") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  SUBCASE("a fresh run into a directory holding checkpoints") {
    TrainerOptions fresh = options;
    CHECK(construction_error(fresh).find("--resume") != std::string::npos);
  }
  SUBCASE("a config whose seq_len differs from the shards'") {
    TrainerOptions other = options;
    other.out_dir = (dir / "other").string();
    other.config.seq_len = 64;
    CHECK(construction_error(other).find("seq_len") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("trainer: binary entropy of the constant predictor") {
  CHECK(binary_entropy(0.5) == doctest::Approx(std::log(2.0)));
  CHECK(binary_entropy(0.1) == doctest::Approx(-0.1 * std::log(0.1) - 0.9 * std::log(0.9)));
  CHECK(binary_entropy(0.0) == 0.0);
  CHECK(binary_entropy(1.0) == 0.0);
}

TEST_CASE(
    "trainer: BatchIterator::skip(n) leaves the iterator where next() over n sequences does") {
  // The ranks of a data-parallel run skip each other's batches (trainer.hpp); skipping must land
  // exactly where reading them would, across epoch boundaries too, or the ranks' data diverge.
  const fs::path dir = scratch_dir("skip");
  const std::string shards = prepare_sample_shards(dir, 32);
  BatchIterator read(shards, 7), skipped(shards, 7);
  const std::int64_t size = read.size();
  for (const std::int64_t sequences : {std::int64_t{3}, size - 5, std::int64_t{4}, 2 * size + 1}) {
    for (std::int64_t left = sequences; left > 0; left -= std::min<std::int64_t>(left, 64))
      read.next(std::min<std::int64_t>(left, 64));
    skipped.skip(sequences);
    CHECK(skipped.position() == read.position());
    const PackedBatch a = read.next(2), b = skipped.next(2);
    CHECK(std::memcmp(a.input_ids.raw(), b.input_ids.raw(), a.input_ids.nbytes()) == 0);
  }
  fs::remove_all(dir);
}
