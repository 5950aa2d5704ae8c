// The pre-training loop: see trainer.hpp.
#include "models/trainer.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <limits>
#include <sstream>

#include "autograd/ops.hpp"
#include "data/masking.hpp"
#include "engine/device.hpp"
#include "engine/error.hpp"
#include "models/lr_schedule.hpp"
#include "models/safetensors.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

// Set by request_stop() (also from a signal handler): lock-free atomics are async-signal-safe.
std::atomic<int> stop_signals{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_stop_signal(int signal_number) {
  if (stop_signals.fetch_add(1) > 0) std::_Exit(128 + signal_number);  // second signal: now
}

// The mean of the finite values (NaN means "undefined this micro-batch"); NaN if there are none.
struct FiniteMean {
  double sum = 0;
  int count = 0;
  void add(double value) {
    if (std::isfinite(value)) sum += value, ++count;
  }
  double mean() const { return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN(); }
};

// Fields of StepMetrics that are averaged over the micro-batches of one update.
constexpr double StepMetrics::*averaged_fields[] = {
    &StepMetrics::total_loss, &StepMetrics::mlm_loss,       &StepMetrics::disc_loss,
    &StepMetrics::gen_acc,    &StepMetrics::gen_sampled_acc, &StepMetrics::disc_acc,
    &StepMetrics::disc_precision, &StepMetrics::disc_recall, &StepMetrics::disc_auc,
    &StepMetrics::replaced_frac};

std::int64_t count_tokens(const Tensor& attention_mask) {
  const std::int32_t* mask = attention_mask.data<std::int32_t>();
  std::int64_t tokens = 0;
  for (std::int64_t i = 0; i < attention_mask.numel(); ++i) tokens += mask[i] != 0;
  return tokens;
}

// A resumed run continues metrics.jsonl; lines logged after the checkpoint (by the run that was
// interrupted) would be logged again, so they are dropped first.
void truncate_metrics_after(const fs::path& path, std::int64_t step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("step").get<std::int64_t>() > step) continue;
    } catch (const nlohmann::json::exception&) {
      continue;  // a line cut by a crash
    }
    kept << line << '\n';
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  out << kept.str();
  check(out.good(), "pretrain: cannot rewrite ", path.string());
}

}  // namespace

void request_stop() { stop_signals.fetch_add(1); }
void clear_stop_request() { stop_signals.store(0); }
bool stop_requested() { return stop_signals.load() > 0; }

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

double binary_entropy(double p) {
  if (!(p > 0 && p < 1)) return 0;
  return -p * std::log(p) - (1 - p) * std::log(1 - p);
}

SpecialTokens read_shard_special_tokens(const std::string& shards_dir) {
  const fs::path meta_path = fs::path(shards_dir) / "meta.json";
  SpecialTokens special;
  try {
    const nlohmann::json meta = nlohmann::json::parse(read_file_bytes(meta_path.string()));
    const nlohmann::json& ids = meta.at("special_tokens");
    special.pad = ids.at("pad").get<std::int32_t>();
    special.unk = ids.at("unk").get<std::int32_t>();
    special.cls = ids.at("cls").get<std::int32_t>();
    special.sep = ids.at("sep").get<std::int32_t>();
    special.mask = ids.at("mask").get<std::int32_t>();
  } catch (const nlohmann::json::exception& error) {
    throw_error(meta_path.string(), ": cannot read special_tokens (", error.what(), ")");
  }
  return special;
}

Trainer::Trainer(TrainerOptions options)
    : options_(std::move(options)), shards_(read_shard_set_info(options_.shards_dir)) {
  const ModelConfig& config = options_.config;
  check(config.seq_len == shards_.seq_len, "pretrain: seq_len ", config.seq_len, " but the shards in ",
        shards_.dir, " were prepared with seq_len ", shards_.seq_len);
  check(config.vocab_size == shards_.vocab_size, "pretrain: vocab_size ", config.vocab_size,
        " but the shards in ", shards_.dir, " use a vocabulary of ", shards_.vocab_size, " tokens");
  check(options_.grad_accumulation >= 1, "pretrain: --grad-accum must be ≥ 1, got ",
        options_.grad_accumulation);
  check(options_.max_steps >= 0, "pretrain: --max-steps must be ≥ 0, got ", options_.max_steps);
  check(options_.max_minutes >= 0, "pretrain: --max-minutes must be ≥ 0, got ", options_.max_minutes);
  check(options_.log_every >= 0 && options_.save_every >= 0,
        "pretrain: --log-every and --save-every must be ≥ 0");
  check(!options_.out_dir.empty(), "pretrain: --out is required");
  LearningRateSchedule{config.learning_rate, config.warmup_steps, config.num_train_steps}.validate();

  special_ = read_shard_special_tokens(options_.shards_dir);
  masking_.mask_probability = config.mask_probability;
  masking_.max_predictions = config.predictions_per_sequence();
  masking_.mask_token_share = config.mask_token_share;
  masking_.seed = options_.seed;

  require_device(options_.device, "pretrain: --device");
  check(!options_.allow_tf32 || options_.device == Device::cuda,
        "pretrain: --tf32 applies to CUDA matrix products; it needs --device cuda");
  set_allow_tf32(options_.allow_tf32);
  model_ = std::make_unique<ElectraModel>(config, parameters_, options_.seed, DType::f32,
                                          options_.device);
  optimizer_ = std::make_unique<AdamW>(parameters_, adamw_config(config));
  batches_ = std::make_unique<BatchIterator>(options_.shards_dir, options_.seed);
  tape_.set_anomaly_detection(options_.detect_anomaly);

  std::optional<fs::path> checkpoint;
  if (!options_.resume_from.empty()) {
    checkpoint = fs::path(options_.resume_from);
    check(fs::exists(*checkpoint / "trainer_state.json"), "pretrain: --resume ",
          options_.resume_from, " is not a checkpoint directory (no trainer_state.json)");
  } else {
    checkpoint = latest_checkpoint(options_.out_dir);
    check(options_.resume || !checkpoint, "pretrain: --out ", options_.out_dir,
          " already holds checkpoints (latest ", checkpoint ? checkpoint->filename().string() : "",
          "); pass --resume to continue that run or choose another --out");
  }
  if (checkpoint) {
    const TrainerState state = load_checkpoint(*checkpoint, parameters_, optimizer_.get(), run_identity());
    check(state.step == optimizer_->updates_applied(), "checkpoint: ", checkpoint->string(),
          ": step ", state.step, " but the optimizer has applied ", optimizer_->updates_applied(),
          " updates");
    try {
      batches_->set_position({state.data_position.at("epoch").get<std::int64_t>(),
                              state.data_position.at("offset").get<std::int64_t>()});
    } catch (const nlohmann::json::exception& error) {
      throw_error("checkpoint: ", checkpoint->string(), ": bad data_position (", error.what(), ")");
    }
    if (state.metrics.contains("last_logged")) last_metrics_json_ = state.metrics["last_logged"];
    resumed_from_ = checkpoint->string();
  }
}

Trainer::~Trainer() = default;

nlohmann::json Trainer::run_identity() const {
  return {{"model", to_json(options_.config)},
          {"seed", options_.seed},
          {"grad_accumulation", options_.grad_accumulation},
          {"data",
           {{"vocab_sha256", shards_.vocab_sha256},
            {"seq_len", shards_.seq_len},
            {"sequences", shards_.sequences}}}};
}

void Trainer::train_one_update(bool compute_metrics, StepMetrics& metrics, std::int64_t& tokens) {
  const std::int64_t step = optimizer_->updates_applied();
  const std::int64_t micro_batches = options_.grad_accumulation;
  FiniteMean averages[std::size(averaged_fields)];
  try {
    for (std::int64_t micro = 0; micro < micro_batches; ++micro) {
      const auto draw = static_cast<std::uint64_t>(step * micro_batches + micro);
      const PackedBatch packed = batches_->next(options_.config.batch_size);
      const MaskedBatch batch = mask_batch(packed, special_, masking_, draw);
      const StepOutput output = model_->forward(tape_, batch, draw, /*training=*/true);
      // Averaging the micro-batch losses makes the accumulated gradient that of the mean.
      const Var loss = micro_batches == 1 ? output.total_loss
                                          : ops::scale(tape_, output.total_loss, 1.0 / micro_batches);
      tape_.backward(loss);
      tokens += count_tokens(packed.attention_mask);
      if (compute_metrics) {
        const StepMetrics micro_metrics = compute_step_metrics(output, batch);
        for (std::size_t i = 0; i < std::size(averaged_fields); ++i)
          averages[i].add(micro_metrics.*averaged_fields[i]);
      }
      tape_.clear();
    }
    const LearningRateSchedule schedule{options_.config.learning_rate, options_.config.warmup_steps,
                                        options_.config.num_train_steps};
    const OptimizerStepReport report = optimizer_->step(schedule.at(step));
    parameters_.zero_grad();
    if (compute_metrics) {
      for (std::size_t i = 0; i < std::size(averaged_fields); ++i)
        metrics.*averaged_fields[i] = averages[i].mean();
      metrics.step = step + 1;
      metrics.grad_norm = report.grad_norm;
      metrics.lr = report.learning_rate;
    }
  } catch (const Error& error) {
    tape_.clear();
    throw_error("pretrain: update ", step + 1, ": ", error.what());
  }
}

fs::path Trainer::save(const StepMetrics* last_metrics) {
  if (last_metrics != nullptr) last_metrics_json_ = metrics_to_json(*last_metrics);
  const DataPosition position = batches_->position();
  TrainerState state;
  state.step = optimizer_->updates_applied();
  state.data_position = {{"epoch", position.epoch},
                         {"offset", position.offset},
                         {"shards_dir", fs::absolute(options_.shards_dir).lexically_normal().string()}};
  if (!options_.vocab_path.empty())
    state.data_position["vocab_path"] = fs::absolute(options_.vocab_path).lexically_normal().string();
  state.seed = options_.seed;
  state.rng_counters = {{"draws", state.step * options_.grad_accumulation}};
  state.config = run_identity();
  state.metrics = {{"last_logged", last_metrics_json_}};
  return save_checkpoint(options_.out_dir, parameters_, *optimizer_, state, options_.keep_last);
}

TrainingResult Trainer::run(const std::function<void(const StepReport&)>& on_step) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto seconds_since_start = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };

  fs::create_directories(options_.out_dir);
  TrainingResult result;
  result.first_step = step();
  result.resumed_from = resumed_from_;
  result.metrics_path = (fs::path(options_.out_dir) / "metrics.jsonl").string();
  if (!resumed_from_.empty()) truncate_metrics_after(result.metrics_path, step());
  MetricsWriter writer(result.metrics_path, /*append=*/!resumed_from_.empty());

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
    if (stop_requested()) {
      result.stopped_by_request = true;
      break;
    }
    if (options_.max_minutes > 0 && seconds_since_start() >= options_.max_minutes * 60) {
      result.stopped_by_time = true;
      break;
    }
    const std::int64_t next = step() + 1;
    const bool log = options_.log_every > 0 && (next % options_.log_every == 0 || next == max_steps);
    train_one_update(log, metrics, tokens);

    StepReport report;
    report.step = step();
    report.elapsed_s = seconds_since_start();
    report.tokens_per_s = report.elapsed_s > 0 ? tokens / report.elapsed_s : 0;
    if (log) {
      metrics.tokens_per_s = report.tokens_per_s;
      metrics.elapsed_s = report.elapsed_s;
      writer.write(metrics);
      report.metrics = &metrics;
      have_metrics = true;
    }
    if (on_step) on_step(report);
    if (options_.save_every > 0 && step() % options_.save_every == 0) {
      result.last_checkpoint = save(have_metrics ? &metrics : nullptr);
      last_saved = step();
    }
  }
  if (last_saved != step()) result.last_checkpoint = save(have_metrics ? &metrics : nullptr);
  else if (result.last_checkpoint.empty() && !resumed_from_.empty()) result.last_checkpoint = resumed_from_;
  result.final_step = step();
  result.seconds = seconds_since_start();
  return result;
}

}  // namespace electra
