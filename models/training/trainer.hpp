#pragma once
// The pre-training loop (DESIGN §2): for every update
//   for each of grad_accumulation micro-batches:
//     batch iterator (seeded shuffle) → mask_batch(seed, draw) → model.forward(tape, draw)
//     → tape.backward(total_loss / micro-batches per update) → tape.clear()
//   → sum of the gradients over the ranks → AdamW step (global-norm clip, lr from the schedule at
//     t = updates applied) → zero grads
//   → every log_every updates: one JSON line in OUT/metrics.jsonl (flushed)
//   → every save_every updates, at the end and on a stop request: a checkpoint (keep the last N).
//
// Data parallelism (docs/distributed.md): with N ranks (mpirun) and A = grad_accumulation, one
// update consumes M = N·A micro-batches of the ONE global data order, numbered
// g = step·M + r·A + a on rank r (a = 0..A−1): each rank takes a contiguous block and skips the
// others' batches. draw = g numbers the micro-batches of the whole run, so the masks, the dropout
// and the sampling are a pure function of (seed, g, site), whatever N is; with the (global)
// iterator position and Adam's moments in the checkpoint a resumed run repeats an uninterrupted
// one bit for bit, and N ranks × A micro-batches draw exactly what 1 rank × N·A micro-batches does.
//
// Order of the gradient additions. With M > 1 each micro-batch's gradient G_g is computed on its
// own (backward into zeroed grads, so a parameter used twice gets G_g = g_g,a + g_g,b) and whole
// micro-batch gradients are added in order: per rank acc_r = (…(G_rA + G_rA+1) …) + G_rA+A−1,
// then the rank-ordered sum (…(acc_0 + acc_1) …) + acc_N−1. With A = 1 that is exactly the
// 1-rank left fold (…(G_0 + G_1) …) + G_N−1 of `--grad-accum N`, for every N: bit for bit. With
// A > 1 and N > 1 it groups the same terms per rank ((G0+G1)+(G2+G3) instead of
// ((G0+G1)+G2)+G3): equal up to float rounding, not bit for bit. A = 1 backpropagates straight
// into the (zeroed) grads, as before. The sums over the ranks go through GradientBuckets: with
// A = 1 they start during backward (overlapped); with A > 1 after the rank's last addition. The
// metrics are summed the same way (per-rank sums, then the rank-ordered sum) and divided once, so
// the logged line matches the 1-rank run's likewise.
//
// One run, many processes: rank 0 alone locks the run directory and writes metrics.jsonl and the
// checkpoints; it also picks the checkpoint to resume, which every rank then loads (--out must be
// readable by every rank). A failure while constructing on any rank is collected before anything
// else talks (CollectiveError on every rank, naming the rank), so no rank waits for a dead one.
// Stop requests and time limits are agreed on before each update, so every rank stops together.
//
// Stopping: request_stop() (async-signal-safe; install_stop_signal_handlers() wires SIGINT and
// SIGTERM to it, a second signal exits at once) makes the loop finish the current update, save a
// checkpoint and return. A watchdog ends the process if that takes longer than the grace period
// (models/training/stop_request.hpp), so a stuck update cannot make a stop request hang.
//
// A non-finite loss ends the run with an error naming the update before any metric is computed
// or the gradient is applied; a non-finite gradient norm is refused by AdamW before any parameter
// changes. No checkpoint is written then: the last one saved stays the newest.
//
// The run directory (models/training/run_directory.hpp) is locked for the Trainer's lifetime;
// litter of interrupted runs is removed under the lock. A new run into a directory holding a
// previous one needs `overwrite`; `resume` loads the newest checkpoint that loads, newest first,
// and refuses (naming every candidate and why it failed) when none does.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "autograd/parameter_store.hpp"
#include "autograd/tape.hpp"
#include "data/batch_iterator.hpp"
#include "data/shards.hpp"  // read_shard_special_tokens
#include "engine/communicator.hpp"
#include "models/networks/config.hpp"
#include "models/networks/electra_model.hpp"
#include "models/training/checkpoint.hpp"
#include "models/training/gradient_buckets.hpp"
#include "models/training/metrics.hpp"
#include "models/training/optimizer.hpp"
#include "models/training/run_directory.hpp"
#include "models/training/stop_request.hpp"

namespace electra {

struct TrainerOptions {
  std::string shards_dir;  // `electra prepare` output (meta.json + shards)
  std::string out_dir;     // run directory: step-*/ checkpoints, metrics.jsonl
  // The model and schedule. seq_len and vocab_size must equal the shards' (the trainer checks);
  // num_train_steps is the schedule length T, warmup_steps the warm-up.
  ModelConfig config;
  std::uint64_t seed = 42;             // parameters, data order, masks, dropout, sampling
  std::int64_t max_steps = 0;          // stop after this many updates in total (0: no step limit)
  double max_minutes = 0;              // stop after this much wall time in this process (0: none)
  std::int64_t grad_accumulation = 1;  // micro-batches of config.batch_size per update and rank
  std::int64_t log_every = 10;         // updates between metrics lines (the last update too)
  std::int64_t save_every = 1000;      // updates between checkpoints (0: only at the end)
  int keep_last = 3;                   // checkpoints kept (≤ 0: all)
  // Resume from the newest loadable checkpoint in out_dir (resume = true) or from resume_from;
  // with none, construction fails. overwrite = true deletes a previous run in out_dir (step-*,
  // metrics.jsonl, curves.svg) when run() starts; without it a new run refuses such a directory.
  bool resume = false;
  std::string resume_from;
  bool overwrite = false;
  // After a stop request the run gets max(this, 2 × (longest update + longest save)) seconds to
  // return before the watchdog calls on_stop_timeout (default: one line on stderr, exit code 1).
  double stop_grace_seconds = 60;
  std::function<void(const std::string& message)> on_stop_timeout;
  bool detect_anomaly = false;  // NaN/Inf checks after every op; errors name the update
  // Where parameters, Adam's moments and activations live. Checkpoints hold host copies, so a
  // run may be resumed on the other device; batches come from the CPU and move once per step.
  Device device = Device::cpu;
  bool allow_tf32 = false;  // TF32 tensor-core GEMMs on cuda (faster, ~1e-3 relative products)
  std::string vocab_path;   // recorded in the checkpoints for `electra inspect` (optional)
  // The ranks of a data-parallel run (null: make_communicator(), one rank outside mpirun).
  std::shared_ptr<Communicator> communicator;
};

// An error every rank knows about (a failure on some rank, shared through gather_strings): each
// rank throws it, so the CLI prints it once (rank 0) and every rank exits without aborting.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

// What the caller sees after each update; `metrics` is set on logged updates only.
struct StepReport {
  std::int64_t step = 0;  // updates applied so far (1 after the first)
  const StepMetrics* metrics = nullptr;
  double elapsed_s = 0;
  double tokens_per_s =
      0;  // non-pad tokens per second (all ranks) since this process started training
};

struct TrainingResult {
  std::int64_t first_step = 0;  // updates already applied when this process started (resume)
  std::int64_t final_step = 0;
  bool stopped_by_request = false;  // a signal or request_stop() ended the run early
  bool stopped_by_time = false;
  std::filesystem::path last_checkpoint;  // empty if none was written
  std::string resumed_from;               // checkpoint dir, empty for a fresh run
  std::string metrics_path;
  double seconds = 0;
};

class Trainer {
 public:
  // Opens the shards, checks them against the config, builds the model (and loads the
  // checkpoint when resuming; a corrupted or mismatched one throws a one-line electra::Error).
  explicit Trainer(TrainerOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains until max_steps, max_minutes or a stop request. on_step runs after every update.
  TrainingResult run(const std::function<void(const StepReport&)>& on_step = {});

  std::int64_t step() const { return optimizer_->updates_applied(); }
  const ModelConfig& config() const { return options_.config; }
  const ElectraModel& model() const { return *model_; }
  const ParameterStore& parameters() const { return parameters_; }
  const std::string& resumed_from() const { return resumed_from_; }
  // Newer checkpoints passed over when resuming, each "step-…: why it did not load".
  const std::vector<std::string>& skipped_checkpoints() const { return skipped_checkpoints_; }
  // Leftovers of interrupted runs removed from out_dir at construction (.tmp-*, empty step-*).
  const std::vector<std::string>& removed_litter() const { return removed_litter_; }
  // What `overwrite` will delete when run() starts (empty when out_dir held no previous run).
  const std::vector<std::string>& overwritten() const { return overwritten_; }
  // The JSON a checkpoint must match to be resumed: model config, seed, accumulation, shards.
  // Its grad_accumulation is the micro-batches per update over all ranks (N·A): a checkpoint of
  // 2 ranks × 1 resumes on 1 rank with --grad-accum 2 and vice versa; another product (another
  // effective batch) is refused like any other change of the run.
  nlohmann::json run_identity() const;
  Communicator& communicator() const { return *communicator_; }
  // Micro-batches per update over all ranks: ranks × grad_accumulation.
  std::int64_t micro_batches_per_update() const {
    return communicator_->size() * options_.grad_accumulation;
  }

 private:
  // Opens the shards, checks them against the config, builds the model: what each rank does alone.
  void set_up();
  // One update: accumulate grad_accumulation micro-batches, step the optimizer. Fills `metrics`
  // (averaged over the micro-batches) when asked to.
  void train_one_update(bool compute_metrics, StepMetrics& metrics, std::int64_t& tokens);
  std::filesystem::path save(const StepMetrics* last_metrics);
  // Chooses and loads the checkpoint to continue, or leaves a fresh run (see TrainerOptions).
  void open_run_directory();
  void resume_from(const std::filesystem::path& checkpoint);
  // Collective: throws CollectiveError on every rank when `failure` is non-empty on any rank
  // ("rank R: failure" for each), else returns every rank's `result` (rank order).
  std::vector<std::string> agree(const std::string& failure, const std::string& result = {});
  // Collective (one sum): whether any rank has `first` set, and whether any has `second`.
  std::pair<bool, bool> any_rank(bool first, bool second);
  // acc_p (+)= grad_p, then grad_p = 0 (see the order of additions above). Used when A > 1.
  void accumulate_micro_batch_gradients(bool first);
  // The watchdog's grace period and what it does when that runs out.
  double stop_grace_seconds() const;
  void on_stop_timeout(double waited_seconds) const;

  TrainerOptions options_;
  std::shared_ptr<Communicator> communicator_;
  ShardSetInfo shards_;
  SpecialTokens special_;
  MaskingSettings masking_;
  ParameterStore parameters_;
  std::unique_ptr<ElectraModel> model_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<BatchIterator> batches_;
  Tape tape_;
  std::vector<Tensor> accumulated_gradients_;          // per parameter, used when A > 1
  std::unique_ptr<GradientBuckets> gradient_buckets_;  // the sums over the ranks (N > 1)
  std::string resumed_from_;
  std::vector<std::string> skipped_checkpoints_, removed_litter_, overwritten_;
  std::unique_ptr<RunDirectoryLock> lock_;
  nlohmann::json last_metrics_json_ = nlohmann::json::object();
  // Read by the watchdog's thread while the loop runs.
  mutable std::mutex progress_mutex_;
  double longest_update_s_ = 0, longest_save_s_ = 0;
  std::int64_t completed_updates_ = 0;
  std::string last_saved_;  // the newest complete checkpoint of this run directory
};

// Constant-predictor BCE for a replaced fraction p: H(p) = −p·ln p − (1−p)·ln(1−p), in nats.
double binary_entropy(double p);

}  // namespace electra
