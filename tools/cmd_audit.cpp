// `electra audit`: gradient audits (docs/audit.md).
//   electra audit                          float64 finite-difference gradcheck of every op, one
//   table electra audit --model tiny             the same for a whole model: per-tensor finite
//                                          differences, stop-gradient, determinism; one verdict
//   electra audit --dump DIR [--checkpoint C | --preset P --seed S] [--objective O] [--dtype f64]
//                 [--steps 10]
//                                          one update (and a trajectory) written for other
//                                          frameworks to check (tools/reference/)
//   electra audit --dot FILE [--preset P --seed S] [--objective O]
//                                          the tape of one training step as Graphviz DOT
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "autograd/op_cases.hpp"
#include "autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/threads.hpp"
#include "models/objectives/objective.hpp"
#include "models/training/audit_dump.hpp"
#include "models/training/model_audit.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {

struct AuditFlags {
  std::string dump_dir, dot_file, checkpoint, preset = "tiny", config_file, dtype = "f32", model;
  std::string objective;  // empty: the config's objective
  std::uint64_t seed = 1;
  std::int64_t steps = 1;
  CLI::Option* preset_flag = nullptr;
  CLI::Option* seed_flag = nullptr;
};

int run_op_audit() {
  std::printf(
      "electra audit: float64 central differences, output projected on a random vector "
      "(threads: %d)\n\n",
      num_threads());
  std::printf("%-18s %-40s %8s %12s %12s  %s\n", "op", "shape", "checked", "max abs err",
              "max rel err", "verdict");
  int failures = 0;
  const std::vector<OpCase> cases = all_op_cases();
  for (const OpCase& op_case : cases) {
    const GradcheckResult result = gradcheck(op_case.function, op_case.inputs, op_case.options);
    std::printf("%-18s %-40s %8lld %12.3e %12.3e  %s\n", op_case.op.c_str(), op_case.shape.c_str(),
                static_cast<long long>(result.checked), result.max_abs_error, result.max_rel_error,
                result.passed ? "pass" : "FAIL");
    if (!result.passed) {
      std::printf("%-18s   worst: %s\n", "", result.worst.c_str());
      ++failures;
    }
  }
  std::printf("\n%zu cases, %d failed\n", cases.size(), failures);
  return failures == 0 ? 0 : 1;
}

// --objective names a registered row (empty: the config's).
void check_objective_flag(const std::string& objective) {
  check(objective.empty() || lookup_objective(objective) != nullptr, "audit: --objective '",
        objective, "' is not registered (registered: ", objective_names(), ")");
}

int run_dump(const AuditFlags& flags) {
  check(flags.dtype == "f32" || flags.dtype == "f64", "audit: --dtype must be f32 or f64, got ",
        flags.dtype);
  check(flags.checkpoint.empty() || (flags.preset_flag->count() == 0 && flags.config_file.empty() &&
                                     flags.seed_flag->count() == 0),
        "audit: --checkpoint takes its config and seed from the checkpoint; drop --preset, "
        "--config and --seed");
  check(flags.checkpoint.empty() || flags.objective.empty(),
        "audit: --checkpoint takes its objective from the checkpoint; drop --objective");
  AuditDumpOptions options;
  options.out_dir = flags.dump_dir;
  options.checkpoint = flags.checkpoint;
  options.preset = flags.preset;
  options.config_file = flags.config_file;
  options.objective = flags.objective;
  check_objective_flag(flags.objective);
  options.seed = flags.seed;
  options.dtype = flags.dtype == "f64" ? DType::f64 : DType::f32;
  options.steps = flags.steps;
  const AuditDumpSummary summary = write_audit_dump(options);
  const nlohmann::json& losses = summary.index["losses"];
  std::printf("electra audit: %s, %s, %lld update(s), dropout 0 (threads: %d)\n",
              summary.index["source"].get<std::string>().c_str(), flags.dtype.c_str(),
              static_cast<long long>(flags.steps), num_threads());
  std::printf("objective %s, update 1:", summary.index["objective"].get<std::string>().c_str());
  for (const auto& name : summary.index["loss_names"])
    std::printf("  %s %.17g", name.get<std::string>().c_str(),
                losses[name.get<std::string>()][0].get<double>());
  std::printf("  total %.17g\n", losses["total"][0].get<double>());
  std::printf("update %lld: total %.17g\n", static_cast<long long>(flags.steps),
              summary.total_losses.back());
  std::printf(
      "wrote %s/audit.json and its safetensors (docs/audit.md; check with "
      "tools/reference/electra_reference.py --dump %s)\n",
      flags.dump_dir.c_str(), flags.dump_dir.c_str());
  return 0;
}

int run_model(const AuditFlags& flags) {
  check(flags.dump_dir.empty() && flags.checkpoint.empty(),
        "audit: --model cannot be combined with --dump or --checkpoint");
  ModelAuditOptions options;
  options.preset = flags.model;
  options.config_file = flags.config_file;
  options.objective = flags.objective;
  check_objective_flag(flags.objective);
  options.seed = flags.seed;
  std::printf("electra audit --model %s%s%s: float64, seed %llu (threads: %d)\n\n",
              flags.model.c_str(), flags.objective.empty() ? "" : " --objective ",
              flags.objective.c_str(), static_cast<unsigned long long>(flags.seed), num_threads());
  const ModelAuditReport report = run_model_audit(options);
  std::printf("%s", format_model_audit(report).c_str());
  return report.passed() ? 0 : 1;
}

// One training step of a fresh model (the preset shrunk as `--model` shrinks it: batch 2,
// seq_len ≤ 32, vocab ≤ 256, so the drawing stays readable), its tape written as DOT before
// backward consumes it; backward then runs so a step that cannot train fails here too.
int run_dot(const AuditFlags& flags) {
  check(flags.dump_dir.empty() && flags.checkpoint.empty(),
        "audit: --dot cannot be combined with --dump, --model or --checkpoint");
  check_objective_flag(flags.objective);
  std::ofstream out(flags.dot_file);  // opened first: a bad path fails before any work
  check(out.good(), "audit: cannot write --dot file '", flags.dot_file, "'");
  ModelAuditOptions options;
  options.preset = flags.preset;
  options.config_file = flags.config_file;
  options.objective = flags.objective;
  const ModelConfig config = audit_config(options);
  const MaskedBatch batch = audit_batch(config, flags.seed, /*step=*/0);
  ParameterStore parameters;
  const ElectraModel model(config, parameters, flags.seed, DType::f32);
  Tape tape;
  const StepOutput step = model.forward(tape, batch, /*step=*/0, /*training=*/true);
  const std::size_t nodes = tape.size();
  out << tape.to_dot();
  out.close();
  check(out.good(), "audit: cannot write --dot file '", flags.dot_file, "'");
  tape.backward(step.total_loss);
  std::printf(
      "electra audit --dot: one %s step of preset %s (batch 2, seq_len %lld), %zu ops, %zu "
      "parameter tensors -> %s (render: dot -Tsvg %s -o step.svg)\n",
      config.objective.c_str(), flags.preset.c_str(), static_cast<long long>(config.seq_len), nodes,
      parameters.parameters().size(), flags.dot_file.c_str(), flags.dot_file.c_str());
  return 0;
}

const CommandRegistration audit_command{Command{
    "audit",
    "check gradients: every op (default), a whole model (--model), dump a step (--dump) or draw "
    "its tape (--dot)",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<AuditFlags>();
      app.add_option("--dump", flags->dump_dir,
                     "write one update (and --steps of trajectory) to this directory");
      app.add_option("--dot", flags->dot_file,
                     "write the tape of one training step (fresh --preset model, batch 2) as "
                     "Graphviz DOT to this file");
      app.add_option("--checkpoint", flags->checkpoint,
                     "dump from this checkpoint (or run directory) instead of a fresh model");
      flags->preset_flag =
          app.add_option("--preset", flags->preset, "fresh model preset for --dump and --dot")
              ->capture_default_str();
      app.add_option("--config", flags->config_file, "JSON overriding preset keys");
      flags->seed_flag = app.add_option("--seed", flags->seed, "parameters, batch, masks, samples")
                             ->capture_default_str();
      app.add_option("--dtype", flags->dtype, "f32 or f64")->capture_default_str();
      app.add_option("--steps", flags->steps, "updates in the dumped trajectory")
          ->capture_default_str();
      app.add_option("--model", flags->model,
                     "audit a whole model of this preset: finite differences, stop-gradient, "
                     "determinism");
      app.add_option("--objective", flags->objective,
                     "the objective to audit (registered: " + objective_names() + ")");
      return [flags] {
        check(flags->dot_file.empty() || flags->model.empty(),
              "audit: --dot cannot be combined with --dump, --model or --checkpoint");
        if (!flags->dot_file.empty()) return run_dot(*flags);
        if (!flags->model.empty()) return run_model(*flags);
        if (!flags->dump_dir.empty()) return run_dump(*flags);
        check(flags->checkpoint.empty(), "audit: --checkpoint needs --dump DIR");
        return run_op_audit();
      };
    }}};

}  // namespace
}  // namespace electra::cli
