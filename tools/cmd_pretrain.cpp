// `electra pretrain`: the ELECTRA pre-training loop (models/training/trainer.hpp) with a progress
// bar, checkpoints, metrics.jsonl and curves.svg in the run directory. SIGINT/SIGTERM finish the
// current update, save a checkpoint and exit 0; a second signal exits at once, and so does a
// watchdog when the update under way does not end (models/training/stop_request.hpp).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "data/sha256.hpp"
#include "data/shard_format.hpp"
#include "engine/communicator.hpp"
#include "engine/device.hpp"
#include "engine/error.hpp"
#include "engine/threads.hpp"
#include "models/objectives/objective.hpp"
#include "models/training/trainer.hpp"
#include "tools/command.hpp"
#include "tools/plot_svg.hpp"
#include "tools/pretrain_ranks.hpp"
#include "tools/progress.hpp"

namespace electra::cli {
namespace {
namespace fs = std::filesystem;

struct PretrainFlags {
  std::string data, out, preset = "small", config_file, objective, vocab, resume_dir;
  std::int64_t max_steps = 0, total_steps = 0, warmup = 0, batch = 0, grad_accum = 1, seq_len = 0;
  double max_minutes = 0, lr = 0;
  std::uint64_t seed = 42;
  std::int64_t log_every = 10, save_every = 1000;
  int keep = 3;
  bool detect_anomaly = false, overwrite = false;
  std::string device = "cpu";
  bool tf32 = false;
  // Which optional flags were given (CLI11 options, filled in setup).
  CLI::Option *total_steps_flag = nullptr, *warmup_flag = nullptr, *lr_flag = nullptr,
              *batch_flag = nullptr, *objective_flag = nullptr, *seq_len_flag = nullptr,
              *resume_flag = nullptr;
};

// The vocabulary the shards were built from, for `electra inspect`: --vocab if given (it must be
// the shards' vocabulary), else a vocab.txt in or next to the shard directory with the same
// SHA-256, else none.
std::string find_vocab(const PretrainFlags& flags, const ShardSetInfo& shards) {
  if (!flags.vocab.empty()) {
    check(fs::is_regular_file(flags.vocab), "pretrain: --vocab ", flags.vocab, ": no such file");
    const std::string digest = sha256_file(flags.vocab);
    check(digest == shards.vocab_sha256, "pretrain: --vocab ", flags.vocab, " (sha256 ",
          digest.substr(0, 12), "…) is not the vocabulary the shards in ", flags.data,
          " were built with (", shards.vocab_sha256.substr(0, 12), "…)");
    return flags.vocab;
  }
  for (const fs::path& candidate :
       {fs::path(flags.data) / "vocab.txt", fs::path(flags.data).parent_path() / "vocab.txt",
        fs::absolute(flags.data).parent_path() / "vocab.txt"}) {
    std::error_code error;
    if (fs::is_regular_file(candidate, error) &&
        sha256_file(candidate.string()) == shards.vocab_sha256)
      return candidate.string();
  }
  return "";
}

TrainerOptions trainer_options(const PretrainFlags& flags) {
  // The device first: a missing GPU or CUDA backend is reported before any data is read.
  const Device device = parse_device(flags.device, "pretrain: --device");
  require_device(device, "pretrain: --device");
  const ShardSetInfo shards = read_shard_set_info(flags.data);
  ModelConfig config = model_preset(flags.preset);
  // The shards decide the sequence length and the vocabulary: a --config or --seq-len that says
  // otherwise is refused rather than silently overridden.
  if (!flags.config_file.empty()) {
    config = load_model_config(flags.config_file, config);
    const nlohmann::json file = nlohmann::json::parse(std::ifstream(flags.config_file));  // valid
    for (const auto& [key, value] : {std::pair{"seq_len", shards.seq_len},
                                     std::pair{"vocab_size", std::int64_t{shards.vocab_size}}}) {
      check(!file.contains(key) || file[key] == value, "pretrain: --config ", flags.config_file,
            " sets ", key, " ", file.contains(key) ? file[key].dump() : "", " but the shards in ",
            flags.data, " have ", key, " ", value, " (the shards decide it: remove ", key,
            " from the file)");
    }
  }
  if (flags.seq_len_flag->count() > 0 && flags.seq_len != shards.seq_len) {
    check(flags.seq_len >= min_seq_len && flags.seq_len <= max_seq_len, "pretrain: --seq-len ",
          flags.seq_len, " is not a sequence length (", min_seq_len, "..", max_seq_len,
          "); the shards in ", flags.data, " have seq_len ", shards.seq_len,
          ", which pretrain uses when --seq-len is left out");
    throw_error("pretrain: --seq-len ", flags.seq_len, " but the shards in ", flags.data,
                " were prepared with seq_len ", shards.seq_len, " (run `electra prepare --seq-len ",
                flags.seq_len, "` for another length)");
  }
  config.seq_len = shards.seq_len;
  config.vocab_size = shards.vocab_size;
  if (config.max_position_embeddings < config.seq_len)
    config.max_position_embeddings = config.seq_len;
  if (flags.objective_flag->count()) config.objective = flags.objective;
  if (flags.batch_flag->count()) config.batch_size = flags.batch;
  if (flags.lr_flag->count()) config.learning_rate = flags.lr;
  if (flags.warmup_flag->count()) config.warmup_steps = flags.warmup;
  // The schedule's length T: --total-steps, else --max-steps, else the preset's/config's.
  if (flags.total_steps_flag->count())
    config.num_train_steps = flags.total_steps;
  else if (flags.max_steps > 0)
    config.num_train_steps = flags.max_steps;
  config.validate();

  TrainerOptions options;
  options.shards_dir = flags.data;
  options.out_dir = flags.out;
  options.config = config;
  options.seed = flags.seed;
  options.max_steps = flags.max_steps;
  options.max_minutes = flags.max_minutes;
  options.grad_accumulation = flags.grad_accum;
  options.log_every = flags.log_every;
  options.save_every = flags.save_every;
  options.keep_last = flags.keep;
  options.resume = flags.resume_flag->count() > 0;
  options.resume_from = flags.resume_dir;
  options.overwrite = flags.overwrite;
  options.detect_anomaly = flags.detect_anomaly;
  options.device = device;
  options.allow_tf32 = flags.tf32;
  options.vocab_path = find_vocab(flags, shards);
  return options;
}

std::string format_count(double value) {
  char text[32];
  if (value >= 1e6)
    std::snprintf(text, sizeof text, "%.2fM", value / 1e6);
  else if (value >= 1e3)
    std::snprintf(text, sizeof text, "%.1fk", value / 1e3);
  else
    std::snprintf(text, sizeof text, "%.0f", value);
  return text;
}

std::string status_line(const StepMetrics& metrics, double tokens_per_s, bool electra) {
  char text[256];
  if (electra) {
    std::snprintf(text, sizeof text,
                  "loss %.3f mlm %.3f disc %.4f | AUC %.3f in-context %.3f | %s tok/s",
                  metrics.total_loss, metrics.mlm_loss, metrics.disc_loss, metrics.disc_auc,
                  metrics.disc_auc_context, format_count(tokens_per_s).c_str());
  } else {
    std::snprintf(text, sizeof text, "mlm %.3f | gen acc %.3f | %s tok/s", metrics.mlm_loss,
                  metrics.gen_acc, format_count(tokens_per_s).c_str());
  }
  return text;
}

// curves.svg from metrics.jsonl; returns its path, or "" (with a note) when nothing was logged.
std::string write_curves(const std::string& metrics_path, const fs::path& run_dir) {
  std::error_code error;
  if (!fs::exists(metrics_path, error) || fs::file_size(metrics_path, error) == 0) return "";
  const fs::path svg_path = run_dir / "curves.svg";
  try {
    const auto columns = read_metrics_columns(metrics_path);
    std::ofstream file(svg_path, std::ios::binary | std::ios::trunc);
    file << render_svg(training_panels(columns, columns.at("step").size() > 50 ? 5 : 1),
                       run_dir.filename().string());
    check(file.good(), "cannot write ", svg_path.string());
  } catch (const Error& failure) {
    std::fprintf(stderr, "electra pretrain: warning: no curves.svg: %s\n", failure.what());
    return "";
  }
  return svg_path.string();
}

// `text` as one shell word: as is when it has no character the shell treats specially.
std::string shell_word(const std::string& text) {
  const bool plain = !text.empty() && text.find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_./:=@%+,-") == std::string::npos;
  if (plain) return text;
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// How to run this binary from the current directory: "electra" when that name on PATH is this
// file, else its path relative to the working directory (build/release/tools/electra after the
// quick start), else its absolute path. The "next:" lines then run as printed.
std::string invoked_binary() {
  std::error_code error;
  const fs::path self = fs::canonical("/proc/self/exe", error);
  if (error) return "electra";
  if (const char* path = std::getenv("PATH")) {
    std::stringstream directories(path);
    for (std::string directory; std::getline(directories, directory, ':');) {
      const fs::path candidate = fs::path(directory.empty() ? "." : directory) / "electra";
      if (!fs::is_regular_file(candidate, error)) continue;
      if (fs::equivalent(candidate, self, error)) return "electra";
      break;  // the shell would run this other one
    }
  }
  const fs::path relative = self.lexically_relative(fs::current_path(error));
  if (error || relative.empty() || *relative.begin() == "..") return shell_word(self.string());
  return shell_word(relative.has_parent_path() ? relative.string() : "./" + relative.string());
}

// This command as typed, for the resume hint: every flag given (the global --threads too), less
// --resume and --overwrite (and --max-steps when asked), in the order the command declares them.
std::string repeat_command(const CLI::App& app, bool without_max_steps) {
  std::string command = invoked_binary() + " pretrain";
  std::vector<const CLI::Option*> given = app.get_options();
  if (const CLI::Option* threads = app.get_parent()->get_option_no_throw("--threads"))
    given.push_back(threads);
  for (const CLI::Option* option : given) {
    if (option->count() == 0 || option->get_lnames().empty()) continue;
    const std::string name = "--" + option->get_lnames().front();
    if (name == "--resume" || name == "--overwrite" || name == "--help" ||
        (without_max_steps && name == "--max-steps"))
      continue;
    command += " " + name;
    if (option->get_items_expected_max() == 0) continue;  // a flag
    for (const std::string& value : option->results()) command += " " + shell_word(value);
  }
  return command + " --resume";
}

// "a, b, c" for the log.
std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

int train(const PretrainFlags& flags, const CLI::App& app,
          const std::shared_ptr<Communicator>& communicator) {
  TrainerOptions options;
  if (communicator->size() == 1) {
    options = trainer_options(flags);
  } else {
    // Every rank's failure to start and its run identity, in one collective before any other.
    std::string failure, identity;
    try {
      options = trainer_options(flags);
      identity = pretrain_identity(app, options);
    } catch (const std::exception& error) {
      failure = error.what();
    }
    check_same_run(*communicator, failure, identity);
  }
  options.communicator = communicator;
  const ModelConfig& config = options.config;
  clear_stop_request();
  install_stop_signal_handlers();
  Trainer trainer(options);
  if (!communicator->is_root()) {  // rank 0 alone prints and writes
    trainer.run();
    return 0;
  }

  const bool electra = config.has_discriminator();
  std::printf("electra pretrain: preset %s, objective %s, %s parameters, threads %d\n",
              config.preset.c_str(), config.objective.c_str(),
              format_count(static_cast<double>(trainer.parameters().total_numel())).c_str(),
              num_threads());
  std::printf("  device %s%s\n", device_description(options.device).c_str(),
              options.allow_tf32 ? ", TF32 matrix products" : "");
  std::printf("  data %s: %lld sequences of %lld tokens, vocab %lld%s\n",
              options.shards_dir.c_str(),
              static_cast<long long>(read_shard_set_info(options.shards_dir).sequences),
              static_cast<long long>(config.seq_len), static_cast<long long>(config.vocab_size),
              options.vocab_path.empty() ? "" : (" (" + options.vocab_path + ")").c_str());
  if (communicator->size() > 1)
    std::printf("  data-parallel: %s, each %lld micro-batch%s per update\n",
                communicator->describe().c_str(), static_cast<long long>(options.grad_accumulation),
                options.grad_accumulation > 1 ? "es" : "");
  std::printf(
      "  batch %lld x %lld micro-batches, lr %g, warm-up %lld, schedule %lld updates, seed %llu\n",
      static_cast<long long>(config.batch_size),
      static_cast<long long>(trainer.micro_batches_per_update()), config.learning_rate,
      static_cast<long long>(config.warmup_steps), static_cast<long long>(config.num_train_steps),
      static_cast<unsigned long long>(options.seed));
  if (config.warmup_steps >= config.num_train_steps)
    std::printf(
        "  note: the warm-up (%lld) is not shorter than the schedule (%lld): the rate never "
        "reaches its peak (set --warmup)\n",
        static_cast<long long>(config.warmup_steps),
        static_cast<long long>(config.num_train_steps));
  if (!trainer.removed_litter().empty())
    std::printf("  removed leftovers of an interrupted run: %s\n",
                joined(trainer.removed_litter()).c_str());
  for (const std::string& skipped : trainer.skipped_checkpoints())
    std::printf("  skipped %s\n", skipped.c_str());
  if (!trainer.resumed_from().empty())
    std::printf("  resuming from %s at update %lld\n", trainer.resumed_from().c_str(),
                static_cast<long long>(trainer.step()));
  if (!trainer.overwritten().empty())
    std::printf("  --overwrite: deleting the previous run in %s (%s)\n", options.out_dir.c_str(),
                joined(trainer.overwritten()).c_str());
  std::printf("  run directory %s (Ctrl-C saves a checkpoint and stops)\n",
              options.out_dir.c_str());
  std::fflush(stdout);

  const std::int64_t first_step = trainer.step();
  const std::int64_t last_step = options.max_steps > 0 ? options.max_steps : config.num_train_steps;
  ProgressBar bar("pretrain", last_step > 0 ? last_step - first_step : 0, 10.0);
  std::string status;
  std::optional<StepMetrics> last_logged;
  const TrainingResult result = trainer.run([&](const StepReport& report) {
    if (report.metrics) status = status_line(*report.metrics, report.tokens_per_s, electra);
    if (report.metrics) last_logged = *report.metrics;
    bar.update(report.step - first_step, "step " + std::to_string(report.step) + " | " + status);
  });
  bar.finish("step " + std::to_string(result.final_step) + " | " + status);

  const fs::path run_dir = options.out_dir;
  const std::string curves = write_curves(result.metrics_path, run_dir);
  const char* why = result.stopped_by_request ? "stopped by signal"
                    : result.stopped_by_time  ? "time limit reached"
                                              : "finished";
  std::printf("electra pretrain: %s at update %lld (%lld this run, %s)\n", why,
              static_cast<long long>(result.final_step),
              static_cast<long long>(result.final_step - result.first_step),
              format_duration(result.seconds).c_str());
  std::printf("  checkpoint  %s\n  metrics     %s\n", result.last_checkpoint.string().c_str(),
              result.metrics_path.c_str());
  if (!curves.empty()) std::printf("  curves      %s\n", curves.c_str());
  if (communicator->size() > 1)  // rank 0's share; a rank waits on the slowest one too
    std::printf("  waited on communication %.1f s (%.0f%% of this run, rank 0)\n",
                communicator->wait_seconds(),
                result.seconds > 0 ? 100 * communicator->wait_seconds() / result.seconds : 0.0);
  if (electra && last_logged) {
    // The plain AUC also rewards spotting rare ids; only the within-id AUC shows judging in
    // context.
    std::printf(
        "  discriminator at update %lld: AUC %.3f, within token id %.3f (0.5: not judging "
        "context yet), without [CLS]/[SEP] %.3f\n",
        static_cast<long long>(last_logged->step), last_logged->disc_auc,
        last_logged->disc_auc_context, last_logged->disc_auc_no_special);
  }
  const std::string binary = invoked_binary();
  std::printf("next:\n");
  if (electra && !result.last_checkpoint.empty())
    std::printf("  %s inspect --checkpoint %s%s --text \"The whale swam under the ship.\"\n",
                binary.c_str(), shell_word(result.last_checkpoint.string()).c_str(),
                options.vocab_path.empty() ? " --vocab VOCAB.txt" : "");
  std::printf("  %s plot %s -o %s --smooth 5\n", binary.c_str(),
              shell_word(result.metrics_path).c_str(),
              shell_word((run_dir / "curves.svg").string()).c_str());
  // Continuing makes sense when the run stopped early, or when --max-steps ended it before the
  // schedule did (then without --max-steps, to the schedule's end); a finished schedule has
  // nothing left to run.
  const bool stopped_early = result.stopped_by_request || result.stopped_by_time;
  if (stopped_early || result.final_step < config.num_train_steps)
    std::printf("  %s   (continue from update %lld)\n",
                repeat_command(app, /*without_max_steps=*/!stopped_early).c_str(),
                static_cast<long long>(result.final_step));
  return 0;
}

int run_pretrain(const PretrainFlags& flags, const CLI::App& app) {
  const std::shared_ptr<Communicator> communicator(make_communicator());
  if (communicator->size() == 1) return train(flags, app, communicator);
  try {
    return train(flags, app, communicator);
  } catch (const CollectiveError& error) {
    // Every rank knows it: rank 0 prints it once and every rank exits normally.
    if (communicator->is_root()) std::fprintf(stderr, "electra: error: %s\n", error.what());
    return 1;
  } catch (const std::exception& error) {
    // This rank alone failed (a non-finite loss, a read error): the others are, or will be,
    // waiting for it in a sum, so it ends them all.
    std::fprintf(stderr, "electra: error: rank %d: %s\n", communicator->rank(), error.what());
    std::fflush(stderr);
    communicator->abort_all(1);
  }
  return 1;  // not reached: abort_all does not return
}

// The --objective help: one line per row of the objective table.
std::string objective_help() {
  std::string help = "the pre-training objective (default electra):";
  for (const ObjectiveSpec& spec : objective_table())
    help += "\n  " + spec.name + ": " + spec.summary;
  return help;
}

const CommandRegistration pretrain_command{Command{
    "pretrain", "pre-train an ELECTRA generator + discriminator on prepared shards",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<PretrainFlags>();
      app.footer(
          "Schedule: the learning rate warms up linearly over --warmup updates and decays linearly "
          "to 0 "
          "at T updates. T is --total-steps if given, else --max-steps, else the preset's (or "
          "config "
          "file's) num_train_steps (tiny 1000, mini 800, small 1M, base 766k). The run ends at "
          "--max-steps, else at T; --max-minutes only ever stops it sooner (with a checkpoint). "
          "seq_len and vocab_size come from "
          "the shards' meta.json. --resume continues the newest checkpoint in --out that loads (or "
          "the "
          "given one) bit-identically; a damaged newer one is skipped and named, and none loading "
          "is "
          "an error. The flags must describe the same run. A new run refuses an --out that holds a "
          "previous one unless --overwrite is given; one --out has one writer at a time "
          "(OUT/.lock). "
          "SIGINT/SIGTERM finish the update, save and exit 0; an update that has not ended max(60 "
          "s, "
          "2x the longest update + save) later is abandoned (exit 1, the last checkpoint intact).");
      app.add_option("--data", flags->data, "shard directory from `electra prepare`")->required();
      app.add_option("--out", flags->out, "run directory: checkpoints, metrics.jsonl, curves.svg")
          ->required();
      app.add_option("--preset", flags->preset, "model size: tiny, mini, small, base")
          ->check(CLI::IsMember(model_preset_names()))
          ->capture_default_str();
      app.add_option("--config", flags->config_file, "JSON file overriding preset fields");
      app.add_option("--max-steps", flags->max_steps,
                     "stop after N updates in total (0: at the end of the schedule, T)")
          ->check(non_negative_integer());
      app.add_option("--max-minutes", flags->max_minutes,
                     "stop after M minutes of this process (0: none)")
          ->check(non_negative_number());
      flags->total_steps_flag =
          app.add_option("--total-steps", flags->total_steps,
                         "schedule length T (default: --max-steps, else the preset's)")
              ->check(positive_integer());
      flags->warmup_flag = app.add_option("--warmup", flags->warmup, "warm-up updates")
                               ->check(non_negative_integer());
      flags->lr_flag =
          app.add_option("--lr", flags->lr, "peak learning rate")->check(positive_number());
      flags->batch_flag = app.add_option("--batch", flags->batch, "sequences per micro-batch")
                              ->check(positive_integer());
      app.add_option("--grad-accum", flags->grad_accum, "micro-batches per update")
          ->check(positive_integer())
          ->capture_default_str();
      flags->seq_len_flag =
          app.add_option("--seq-len", flags->seq_len, "must equal the shards' seq_len (checked)");
      app.add_option("--seed", flags->seed,
                     "seed of parameters, data order, masks, dropout and sampling")
          ->capture_default_str();
      flags->objective_flag = app.add_option("--objective", flags->objective, objective_help())
                                  ->check([](const std::string& name) {
                                    return lookup_objective(name) != nullptr
                                               ? std::string()
                                               : "'" + name + "' is not registered (registered: " +
                                                     objective_names() + ")";
                                  });
      app.add_option("--log-every", flags->log_every, "updates between metrics lines")
          ->check(non_negative_integer())
          ->capture_default_str();
      app.add_option("--save-every", flags->save_every,
                     "updates between checkpoints (0: only at the end)")
          ->check(non_negative_integer())
          ->capture_default_str();
      app.add_option("--keep", flags->keep, "checkpoints kept (0: all)")->capture_default_str();
      flags->resume_flag =
          app.add_option("--resume", flags->resume_dir,
                         "continue the newest loadable checkpoint in --out, or the given one")
              ->expected(0, 1);
      app.add_flag("--detect-anomaly", flags->detect_anomaly,
                   "check every op for NaN/Inf (slow); the error names the op and the update");
      app.add_option("--device", flags->device, "where to train: cpu or cuda")
          ->check(CLI::IsMember({"cpu", "cuda"}))
          ->capture_default_str();
      app.add_flag("--tf32", flags->tf32,
                   "TF32 tensor-core matrix products on cuda (faster; products to ~1e-3 relative)");
      app.add_option("--vocab", flags->vocab,
                     "the shards' vocab.txt, recorded for `electra inspect` (default: found next "
                     "to the shards)");
      app.add_flag("--overwrite", flags->overwrite,
                   "delete the previous run in --out (checkpoints, metrics.jsonl, curves.svg) and "
                   "start afresh");
      return [flags, &app] { return run_pretrain(*flags, app); };
    }}};

}  // namespace
}  // namespace electra::cli
