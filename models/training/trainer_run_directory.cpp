// How a Trainer opens its run directory: the lock, the litter, and the choice between a new run,
// an overwrite and a resume (the newest checkpoint that loads). See trainer.hpp.
#include <optional>

#include "engine/error.hpp"
#include "models/training/trainer.hpp"

namespace electra {
namespace fs = std::filesystem;
void Trainer::open_run_directory() {
  const fs::path out = options_.out_dir;
  const bool resuming = options_.resume || !options_.resume_from.empty();
  check(!(resuming && options_.overwrite), "pretrain: --resume continues the run in ", out.string(),
        " and --overwrite deletes it; pass one of them");
  std::error_code error;
  check(!options_.resume || !options_.resume_from.empty() || fs::is_directory(out, error),
        "pretrain: --resume: ", out.string(),
        " does not exist (no run to continue); drop --resume to start one");
  fs::create_directories(out, error);
  check(!error, "pretrain: cannot create --out ", out.string(), ": ", error.message());
  lock_ = std::make_unique<RunDirectoryLock>(out);
  removed_litter_ = remove_run_directory_litter(out);

  if (!options_.resume_from.empty()) {
    const fs::path checkpoint = options_.resume_from;
    check(fs::exists(checkpoint / "trainer_state.json"), "pretrain: --resume ", checkpoint.string(),
          " is not a checkpoint directory (no trainer_state.json)");
    resume_from(checkpoint);
    return;
  }
  const std::vector<CheckpointDirectory> candidates = checkpoint_directories(out);
  if (!options_.resume) {
    overwritten_ = previous_run_files(out);
    std::string found;
    for (const std::string& name : overwritten_) found += (found.empty() ? "" : ", ") + name;
    check(overwritten_.empty() || options_.overwrite, "pretrain: --out ", out.string(),
          " already holds a run (", found,
          "); pass --resume to continue it, --overwrite to delete it and start afresh, or choose "
          "another --out");
    return;
  }
  // Newest first. A newer checkpoint that does not load (damaged by a crash or by hand) is passed
  // over for an older one that does, and the log names it: losing some updates beats losing the
  // run. Every candidate failing is an error listing each and why, so nothing is ever silently
  // restarted from scratch.
  std::string reasons;
  for (auto candidate = candidates.rbegin(); candidate != candidates.rend(); ++candidate) {
    const std::string name = candidate->path.filename().string();
    std::string reason = "no trainer_state.json (incomplete)";
    if (candidate->complete) {
      try {
        resume_from(candidate->path);
        return;
      } catch (const std::exception& failure) {  // electra::Error, or a filesystem error
        reason = failure.what();
      }
    }
    skipped_checkpoints_.push_back(name + ": " + reason);
    reasons += (reasons.empty() ? "" : "; ") + name + ": " + reason;
  }
  check(!candidates.empty(), "pretrain: --resume: ", out.string(),
        " holds no checkpoint (no step-* directory); drop --resume to start a new run there");
  // Under mpirun the recorded grad_accumulation is ranks × --grad-accum: say so where it differs.
  const bool accumulation = reasons.find("/grad_accumulation") != std::string::npos;
  throw_error(
      "pretrain: --resume: no checkpoint in ", out.string(), " can be continued (", reasons, ")",
      accumulation ? "; grad_accumulation counts the micro-batches of an update over all ranks "
                     "(ranks × --grad-accum), which a resumed run must keep"
                   : "",
      "; pass --overwrite to start a new run there instead");
}

void Trainer::resume_from(const fs::path& checkpoint) {
  const TrainerState state =
      load_checkpoint(checkpoint, parameters_, optimizer_.get(), run_identity());
  const std::string state_path = (checkpoint / "trainer_state.json").string();
  check(state.step == optimizer_->updates_applied(), "checkpoint: ", state_path, ": step ",
        state.step, " but the optimizer has applied ", optimizer_->updates_applied(), " updates");
  DataPosition position;
  for (const auto& [key, field] :
       {std::pair{"epoch", &position.epoch}, std::pair{"offset", &position.offset}}) {
    // Bounded before use: a hand-edited epoch near 2^63 would overflow when the epoch ends.
    const std::optional<std::int64_t> value =
        bounded_integer(state.data_position, key, max_checkpoint_step);
    check(value.has_value(), "checkpoint: ", state_path, ": data_position.", key, " = ",
          state.data_position.contains(key) ? state.data_position[key].dump()
                                            : std::string("(missing)"),
          " is not an integer in [0, ", max_checkpoint_step, "]");
    *field = *value;
  }
  try {
    batches_->set_position(position);
  } catch (const Error& failure) {
    throw_error("checkpoint: ", state_path, ": ", failure.what());
  }
  if (state.metrics.contains("last_logged")) last_metrics_json_ = state.metrics["last_logged"];
  resumed_from_ = checkpoint.string();
  last_saved_ = resumed_from_;
}

}  // namespace electra
