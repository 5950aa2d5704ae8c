// The pre-training loop: see trainer.hpp.
#include "models/training/trainer.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>

#include "autograd/ops.hpp"
#include "data/masking.hpp"
#include "engine/device.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/formats/safetensors.hpp"
#include "models/training/lr_schedule.hpp"

namespace electra {
namespace fs = std::filesystem;

double binary_entropy(double p) {
  if (!(p > 0 && p < 1)) return 0;
  return -p * std::log(p) - (1 - p) * std::log(1 - p);
}

Trainer::Trainer(TrainerOptions options)
    : options_(std::move(options)),
      communicator_(options_.communicator ? options_.communicator
                                          : std::shared_ptr<Communicator>(make_communicator())) {
  // One rank: errors propagate as they always did. Several: what a rank fails at is caught and
  // shared before any other collective, so one rank that cannot read the shards does not leave
  // the others waiting.
  const auto attempt = [this](const auto& work) -> std::string {
    if (communicator_->size() == 1) return work(), std::string();
    try {
      work();
    } catch (const std::exception& error) {  // electra::Error, or a filesystem error
      return error.what();
    }
    return "";
  };
  agree(attempt([this] { set_up(); }));
  // Rank 0 alone touches the run directory (lock, litter, overwrite check) and picks the
  // checkpoint to continue; the others then load that same checkpoint.
  const std::string failure = attempt([this] {
    if (communicator_->is_root()) open_run_directory();
  });
  const std::string chosen = agree(failure, resumed_from_).front();
  agree(attempt([&] {
    if (!communicator_->is_root() && !chosen.empty()) resume_from(chosen);
  }));
}

void Trainer::set_up() {
  shards_ = read_shard_set_info(options_.shards_dir);
  const ModelConfig& config = options_.config;
  check(config.seq_len == shards_.seq_len, "pretrain: seq_len ", config.seq_len,
        " but the shards in ", shards_.dir, " were prepared with seq_len ", shards_.seq_len);
  check(config.vocab_size == shards_.vocab_size, "pretrain: vocab_size ", config.vocab_size,
        " but the shards in ", shards_.dir, " use a vocabulary of ", shards_.vocab_size, " tokens");
  check(options_.grad_accumulation >= 1, "pretrain: --grad-accum must be ≥ 1, got ",
        options_.grad_accumulation);
  check(options_.max_steps >= 0, "pretrain: --max-steps must be ≥ 0, got ", options_.max_steps);
  check(options_.max_minutes >= 0, "pretrain: --max-minutes must be ≥ 0, got ",
        options_.max_minutes);
  check(options_.log_every >= 0 && options_.save_every >= 0,
        "pretrain: --log-every and --save-every must be ≥ 0");
  check(!options_.out_dir.empty(), "pretrain: --out is required");
  LearningRateSchedule{config.learning_rate, config.warmup_steps, config.num_train_steps}
      .validate();

  special_ = read_shard_special_tokens(options_.shards_dir);
  masking_ = config.masking_settings(options_.seed);

  require_device(options_.device, "pretrain: --device");
  check(!options_.allow_tf32 || options_.device == Device::cuda,
        "pretrain: --tf32 applies to CUDA matrix products; it needs --device cuda");
  set_allow_tf32(options_.allow_tf32);
  model_ = std::make_unique<ElectraModel>(config, parameters_, options_.seed, DType::f32,
                                          options_.device);
  optimizer_ = std::make_unique<AdamW>(parameters_, adamw_config(config));
  batches_ = std::make_unique<BatchIterator>(options_.shards_dir, options_.seed);
  tape_.set_anomaly_detection(options_.detect_anomaly);
  if (communicator_->size() > 1)
    gradient_buckets_ = std::make_unique<GradientBuckets>(parameters_, *communicator_);
}

nlohmann::json Trainer::run_identity() const {
  return {{"model", to_json(options_.config)},
          {"seed", options_.seed},
          {"grad_accumulation", micro_batches_per_update()},
          {"data",
           {{"vocab_sha256", shards_.vocab_sha256},
            {"seq_len", shards_.seq_len},
            {"sequences", shards_.sequences}}}};
}

fs::path Trainer::save(const StepMetrics* last_metrics) {
  if (last_metrics != nullptr) last_metrics_json_ = metrics_to_json(*last_metrics);
  const DataPosition position = batches_->position();
  TrainerState state;
  state.step = optimizer_->updates_applied();
  state.data_position = {
      {"epoch", position.epoch},
      {"offset", position.offset},
      {"shards_dir", fs::absolute(options_.shards_dir).lexically_normal().string()}};
  if (!options_.vocab_path.empty())
    state.data_position["vocab_path"] =
        fs::absolute(options_.vocab_path).lexically_normal().string();
  state.seed = options_.seed;
  state.rng_counters = {{"draws", state.step * micro_batches_per_update()}};
  state.config = run_identity();
  state.metrics = {{"last_logged", last_metrics_json_}};
  const auto start = std::chrono::steady_clock::now();
  fs::path saved =
      save_checkpoint(options_.out_dir, parameters_, *optimizer_, state, options_.keep_last);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard<std::mutex> lock(progress_mutex_);
  longest_save_s_ = std::max(longest_save_s_, seconds);
  last_saved_ = saved.string();
  return saved;
}

double Trainer::stop_grace_seconds() const {
  std::lock_guard<std::mutex> lock(progress_mutex_);
  // Time to finish the update under way and save, twice over for a slow one, and never less than
  // the configured floor (a minute by default: the first update is often the slowest).
  return std::max(options_.stop_grace_seconds, 2 * (longest_update_s_ + longest_save_s_));
}

void Trainer::on_stop_timeout(double waited_seconds) const {
  std::string last_saved;
  std::int64_t completed_updates = 0;
  {
    std::lock_guard<std::mutex> lock(progress_mutex_);
    last_saved = last_saved_;
    completed_updates = completed_updates_;
  }
  std::ostringstream message;
  message << "pretrain: stop requested " << static_cast<long long>(waited_seconds)
          << " s ago, but update " << completed_updates + 1
          << " has not ended; exiting without saving ("
          << (last_saved.empty() ? std::string("no checkpoint was saved in ") + options_.out_dir
                                 : "the last checkpoint saved, " + last_saved + ", is intact")
          << ")";
  if (options_.on_stop_timeout) return options_.on_stop_timeout(message.str());
  // The loop's thread is stuck, maybe holding stdio's lock: write(2) directly and _Exit without
  // running destructors that would wait for it.
  const std::string line = "electra: error: " + message.str() + "\n";
  [[maybe_unused]] const ssize_t written = ::write(2, line.data(), line.size());
  std::_Exit(1);
}

TrainingResult Trainer::run(const std::function<void(const StepReport&)>& on_step) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto seconds_since_start = [&] {
    return std::chrono::duration<double>(clock::now() - start).count();
  };

  TrainingResult result;
  result.first_step = step();
  result.resumed_from = resumed_from_;
  result.metrics_path = (fs::path(options_.out_dir) / "metrics.jsonl").string();
  const bool root = communicator_->is_root();  // the only rank that writes anything
  std::optional<MetricsWriter> writer;
  if (root) {
    if (!resumed_from_.empty()) trim_metrics_after(result.metrics_path, step());
    if (!overwritten_.empty()) remove_previous_run(options_.out_dir);
    writer.emplace(result.metrics_path, /*append=*/!resumed_from_.empty());
  }
  {
    std::lock_guard<std::mutex> lock(progress_mutex_);
    completed_updates_ = step();
  }
  const StopWatchdog watchdog([this] { return stop_grace_seconds(); },
                              [this](double waited) { on_stop_timeout(waited); });

  // The run ends at --max-steps, else where the schedule does (its learning rate is 0 from there
  // on); a time limit only ever ends it sooner.
  const std::int64_t max_steps =
      options_.max_steps > 0 ? options_.max_steps : options_.config.num_train_steps;
  std::int64_t last_saved = resumed_from_.empty() ? -1 : step();
  std::int64_t tokens = 0;
  StepMetrics metrics;
  bool have_metrics = false;
  for (;;) {
    if (max_steps > 0 && step() >= max_steps) break;
    // Agreed on by every rank (a signal or the clock may reach them an update apart), so they
    // all leave the loop before the same update.
    const auto [stop, out_of_time] =
        any_rank(stop_requested(),
                 options_.max_minutes > 0 && seconds_since_start() >= options_.max_minutes * 60);
    if (stop) {
      result.stopped_by_request = true;
      break;
    }
    if (out_of_time) {
      result.stopped_by_time = true;
      break;
    }
    const std::int64_t next = step() + 1;
    const bool log =
        options_.log_every > 0 && (next % options_.log_every == 0 || next == max_steps);
    const auto update_start = clock::now();
    train_one_update(log, metrics, tokens);

    StepReport report;
    report.step = step();
    report.elapsed_s = seconds_since_start();
    report.tokens_per_s = report.elapsed_s > 0 ? tokens / report.elapsed_s : 0;
    if (log) {
      metrics.tokens_per_s = report.tokens_per_s;
      metrics.elapsed_s = report.elapsed_s;
      if (writer) writer->write(metrics);
      report.metrics = &metrics;
      have_metrics = true;
    }
    if (on_step) on_step(report);
    {
      std::lock_guard<std::mutex> lock(progress_mutex_);
      longest_update_s_ = std::max(
          longest_update_s_, std::chrono::duration<double>(clock::now() - update_start).count());
      completed_updates_ = step();
    }
    if (options_.save_every > 0 && step() % options_.save_every == 0) {
      if (root) result.last_checkpoint = save(have_metrics ? &metrics : nullptr);
      last_saved = step();
    }
  }
  if (last_saved != step() && root)
    result.last_checkpoint = save(have_metrics ? &metrics : nullptr);
  else if (result.last_checkpoint.empty() && !resumed_from_.empty())
    result.last_checkpoint = resumed_from_;
  result.final_step = step();
  result.seconds = seconds_since_start();
  return result;
}

}  // namespace electra
