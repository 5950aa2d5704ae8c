#include "models/training/model_audit.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "autograd/tape.hpp"
#include "data/masking.hpp"
#include "models/networks/electra_model.hpp"
#include "models/objectives/gdes.hpp"
#include "models/training/audit_dump.hpp"
#include "models/training/checkpoint.hpp"

namespace electra {
namespace {
namespace fs = std::filesystem;

const SpecialTokens audit_specials{0, 1, 2, 3, 4};
// Relative errors are reported for |gradient| ≥ 1e-4 only: below that the central difference's
// rounding noise (~1e-9 absolute at h = 1e-5 on a loss of ~50) is no longer small against it.
constexpr double relative_error_floor = 1e-4;

bool contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// Whether the row declares that `loss` must not reach `parameter` (a stop-gradient or a sample).
bool blocked(const std::vector<GradientBoundary>& boundaries, const std::string& loss,
             const std::string& parameter) {
  for (const GradientBoundary& boundary : boundaries)
    if (boundary.zero && boundary.loss == loss &&
        parameter.rfind(boundary.parameter_prefix, 0) == 0)
      return true;
  return false;
}

// Finite differences for every parameter tensor; the samples are drawn once and then fixed
// (they are discrete: the loss is smooth only with them held), and so are the values the row holds
// (HeldValues). A loss term that the row blocks
// from a parameter (stop-gradient) still depends on it through its forward VALUE, which central
// differences would see; so each parameter is checked against Σ weight·loss over the terms that
// may reach it. That the blocked terms give exactly 0 is the stop-gradient check's job.
void check_finite_differences(const ModelConfig& config, const ModelAuditOptions& options,
                              ModelAuditReport& report) {
  ParameterStore store;
  const ElectraModel model(config, store, options.seed, DType::f64);
  const ObjectiveSpec& objective = model.objective();
  const MaskedBatch batch = audit_batch(config, options.seed, 0);
  const std::uint64_t step = 1;  // dropout on, masks of step 1 in every evaluation
  Tape tape;
  HeldValues held;  // recorded by the first forward, replayed by every evaluation
  const auto step_draw = [&](const Tensor& samples) {
    return ObjectiveDraw{step, static_cast<std::int64_t>(step), /*training=*/true, samples, &held};
  };
  const StepOutput first = model.forward(tape, batch, step_draw(Tensor()));
  const Tensor samples = first.sampled_ids;
  tape.backward(first.total_loss);
  tape.clear();
  const std::vector<GradientBoundary> boundaries = gradient_boundaries(objective, config);
  std::string parameter_name;
  const auto loss_at = [&] {
    Tape quiet;
    quiet.set_recording(false);
    const StepOutput out = model.forward(quiet, batch, step_draw(samples));
    double total = 0;
    for (const NamedLoss& term : out.losses)
      if (!blocked(boundaries, term.name, parameter_name))
        total += term.weight * term.loss.value().item();
    return total;
  };

  std::mt19937_64 random(options.seed * 7919 + 17);
  for (const Parameter& parameter : store.parameters()) {
    TensorGradientCheck result;
    result.parameter = parameter_name = parameter.name;
    result.family = parameter_family(parameter.name);
    Var var = parameter.var;
    double* values = var.value().data<double>();
    const std::vector<double> analytic =
        var.has_grad() ? var.grad().to_vector() : std::vector<double>(var.value().numel(), 0.0);
    const auto numel = static_cast<std::uint64_t>(var.value().numel());
    std::vector<std::int64_t> entries;
    for (std::int64_t i = 0; i < options.samples_per_tensor; ++i)
      entries.push_back(static_cast<std::int64_t>(random() % numel));
    entries.push_back(
        std::max_element(analytic.begin(), analytic.end(),
                         [](double a, double b) { return std::abs(a) < std::abs(b); }) -
        analytic.begin());
    if (std::abs(analytic[entries.back()]) == 0.0) {
      result.passed = false;
      result.worst = "every entry of the gradient is 0: the tensor does not reach the loss";
    }
    for (const std::int64_t entry : entries) {
      const double saved = values[entry];
      values[entry] = saved + options.step;
      const double plus = loss_at();
      values[entry] = saved - options.step;
      const double minus = loss_at();
      values[entry] = saved;
      const double numeric = (plus - minus) / (2 * options.step);
      const double error = std::abs(numeric - analytic[entry]);
      const double scale = std::max(std::abs(numeric), std::abs(analytic[entry]));
      ++result.checked;
      result.max_abs_error = std::max(result.max_abs_error, error);
      if (scale >= relative_error_floor)
        result.max_rel_error = std::max(result.max_rel_error, error / scale);
      if (error > std::max(options.relative_tolerance * scale, options.absolute_tolerance)) {
        result.passed = false;
        std::ostringstream worst;
        worst.precision(10);
        worst << "entry " << entry << ": analytic " << analytic[entry] << ", numeric " << numeric;
        result.worst = worst.str();
      }
    }
    report.tensors.push_back(result);
  }
  std::int64_t checked = 0, failed = 0;
  for (const TensorGradientCheck& tensor : report.tensors) {
    checked += tensor.checked;
    failed += tensor.passed ? 0 : 1;
  }
  std::ostringstream detail;
  detail << checked << " entries of " << report.tensors.size() << " tensors, " << failed
         << " tensors failed (h " << options.step << ", tolerance max("
         << options.relative_tolerance << "·|g|, " << options.absolute_tolerance << "))";
  report.checks.push_back({"finite differences (f64)", failed == 0, detail.str()});
}

double grad_abs_sum(const Var& var) {
  if (!var.has_grad()) return 0.0;
  double total = 0;
  for (const double value : var.grad().to_vector()) total += std::abs(value);
  return total;
}

// Each of the row's gradient boundaries: the loss alone, backward, and every parameter under
// the prefix has an exactly-zero gradient (zero) or a non-zero one (not zero).
void check_stop_gradient(const ModelConfig& config, const ModelAuditOptions& options,
                         ModelAuditReport& report) {
  ParameterStore store;
  const ElectraModel model(config, store, options.seed, DType::f64);
  const ObjectiveSpec& objective = model.objective();
  const std::vector<GradientBoundary> boundaries = gradient_boundaries(objective, config);
  if (boundaries.empty()) return;  // nothing drawn, nothing held
  const MaskedBatch batch = audit_batch(config, options.seed, 0);
  std::string offender, described;
  std::vector<std::string> losses;
  for (const GradientBoundary& boundary : boundaries)
    if (std::find(losses.begin(), losses.end(), boundary.loss) == losses.end())
      losses.push_back(boundary.loss);
  for (const std::string& loss : losses) {
    Tape tape;
    const StepOutput out = model.forward(tape, batch, 1, true);
    const Var term = out.loss(loss);
    check(term.defined(), "audit: objective '", objective.name,
          "' has a gradient boundary for "
          "loss '",
          loss, "', which its forward does not produce");
    tape.backward(term);
    for (const GradientBoundary& boundary : boundaries) {
      if (boundary.loss != loss) continue;
      described += (described.empty() ? "" : "; ") +
                   ("d " + loss + "_loss / d " + boundary.parameter_prefix + "* " +
                    (boundary.zero ? "= 0" : "≠ 0"));
      for (const Parameter& parameter : store.parameters()) {
        if (parameter.name.rfind(boundary.parameter_prefix, 0) != 0) continue;
        const double sum = grad_abs_sum(parameter.var);
        if ((boundary.zero ? sum != 0.0 : sum == 0.0) && offender.empty())
          offender =
              "d " + loss + "_loss / d " + parameter.name + (sum == 0.0 ? " is 0" : " is not 0");
      }
    }
    store.zero_grad();
  }
  report.checks.push_back({"stop-gradients hold", offender.empty(),
                           offender.empty() ? described + " (exactly)" : offender});
}

struct Run {
  std::unique_ptr<ParameterStore> store = std::make_unique<ParameterStore>();
  std::unique_ptr<ElectraModel> model;
  std::unique_ptr<AdamW> optimizer;
  std::vector<double> losses;
};

Run fresh_run(const ModelConfig& config, std::uint64_t seed) {
  Run run;
  run.model = std::make_unique<ElectraModel>(config, *run.store, seed, DType::f32);
  run.optimizer = std::make_unique<AdamW>(*run.store, adamw_config(config));
  return run;
}

// Training updates as the trainer does them (f32, dropout on, generator samples drawn).
void train(Run& run, const ModelConfig& config, std::uint64_t seed, std::int64_t updates) {
  const LearningRateSchedule schedule{config.learning_rate, 1, 100};  // warm-up 1: lr > 0 at once
  for (std::int64_t k = 0; k < updates; ++k) {
    const auto step = static_cast<std::uint64_t>(run.optimizer->updates_applied());
    run.losses.push_back(run_audited_update(*run.model, *run.store, *run.optimizer, schedule,
                                            audit_batch(config, seed, step), Tensor())
                             .total_loss);
  }
}

// The first parameter whose bits differ, or "".
std::string first_difference(const Run& a, const Run& b) {
  for (std::size_t i = 0; i < a.losses.size() && i < b.losses.size(); ++i)
    if (std::memcmp(&a.losses[i], &b.losses[i], sizeof(double)) != 0)
      return "loss of update " + std::to_string(i + 1);
  for (const Parameter& parameter : a.store->parameters()) {
    const Tensor& x = parameter.var.value();
    const Tensor& y = b.store->get(parameter.name).value();
    if (std::memcmp(x.raw(), y.raw(), x.nbytes()) != 0) return parameter.name;
  }
  return "";
}

void check_determinism(const ModelConfig& config, const ModelAuditOptions& options,
                       ModelAuditReport& report) {
  Run first = fresh_run(config, options.seed), second = fresh_run(config, options.seed);
  train(first, config, options.seed, 4);
  train(second, config, options.seed, 4);
  const std::string same_seed = first_difference(first, second);
  report.checks.push_back({"determinism: same seed, same bits", same_seed.empty(),
                           same_seed.empty()
                               ? "4 updates twice: losses and every parameter equal bit for bit"
                               : "differs at " + same_seed});

  const fs::path dir =
      fs::temp_directory_path() /
      ("electra_model_audit_" + std::to_string(::getpid()) + "_" + std::to_string(options.seed));
  fs::remove_all(dir);
  Run interrupted = fresh_run(config, options.seed);
  train(interrupted, config, options.seed, 2);
  TrainerState state;
  state.step = interrupted.optimizer->updates_applied();
  state.seed = options.seed;
  const fs::path saved = save_checkpoint(dir, *interrupted.store, *interrupted.optimizer, state, 0);
  Run resumed = fresh_run(config, options.seed);
  load_checkpoint(saved, *resumed.store, resumed.optimizer.get(), nullptr);
  resumed.losses = interrupted.losses;
  train(resumed, config, options.seed, 2);
  fs::remove_all(dir);
  const std::string resume = first_difference(first, resumed);
  report.checks.push_back({"determinism: save, reload, continue", resume.empty(),
                           resume.empty()
                               ? "2 updates + checkpoint + 2 updates = 4 updates, bit for bit"
                               : "differs from the uninterrupted run at " + resume});
}

}  // namespace

ModelConfig audit_config(const ModelAuditOptions& options) {
  ModelConfig config = model_preset(options.preset);
  if (!options.config_file.empty()) config = load_model_config(options.config_file, config);
  config.vocab_size = std::min<std::int64_t>(config.vocab_size, 256);
  config.seq_len = std::min<std::int64_t>(config.seq_len, 32);
  config.batch_size = 2;
  config.max_predictions = 0;
  if (!options.objective.empty()) config.objective = options.objective;
  config.validate();
  return config;
}

MaskedBatch audit_batch(const ModelConfig& config, std::uint64_t seed, std::uint64_t step) {
  return mask_batch(synthetic_packed_batch(config, audit_specials, seed), audit_specials,
                    config.masking_settings(seed), step);
}

bool ModelAuditReport::passed() const {
  for (const TensorGradientCheck& tensor : tensors)
    if (!tensor.passed) return false;
  for (const ModelAuditCheck& check : checks)
    if (!check.passed) return false;
  return !checks.empty();
}

std::string parameter_family(const std::string& name) {
  if (contains(name, "LayerNorm")) return "LayerNorm";
  if (contains(name, "embeddings")) return "embeddings";  // tables and embeddings_project
  if (contains(name, ".attention.")) return "attention";
  if (contains(name, ".intermediate.") || contains(name, ".output.dense")) return "FFN";
  return "heads";  // generator_predictions, generator_lm_head, discriminator_predictions
}

ModelAuditReport run_model_audit(const ModelAuditOptions& options) {
  const ModelConfig config = audit_config(options);
  ModelAuditReport report;
  std::ostringstream summary;
  summary << "objective " << config.objective << ", preset " << options.preset << ": "
          << config.num_layers << " layers, hidden " << config.hidden_size << ", embedding "
          << config.embedding_size << ", generator hidden " << config.generator_dims().hidden_size
          << "; batch " << config.batch_size << " × " << config.seq_len << ", vocab "
          << config.vocab_size << ", dropout " << config.hidden_dropout << "/"
          << config.attention_dropout;
  report.config_summary = summary.str();
  check_finite_differences(config, options, report);
  check_stop_gradient(config, options, report);
  check_determinism(config, options, report);
  return report;
}

std::string format_model_audit(const ModelAuditReport& report) {
  std::ostringstream out;
  char line[512];
  out << report.config_summary << "\n\n";
  std::snprintf(line, sizeof line, "%-11s %8s %8s %12s %12s  %s\n", "family", "tensors", "entries",
                "max abs err", "max rel err", "verdict");
  out << line;
  std::map<std::string, TensorGradientCheck> families;
  std::map<std::string, std::int64_t> tensor_counts;
  for (const TensorGradientCheck& tensor : report.tensors) {
    TensorGradientCheck& family = families[tensor.family];
    family.checked += tensor.checked;
    family.max_abs_error = std::max(family.max_abs_error, tensor.max_abs_error);
    family.max_rel_error = std::max(family.max_rel_error, tensor.max_rel_error);
    family.passed = family.passed && tensor.passed;
    ++tensor_counts[tensor.family];
  }
  for (const auto& [name, family] : families) {
    std::snprintf(line, sizeof line, "%-11s %8lld %8lld %12.3e %12.3e  %s\n", name.c_str(),
                  static_cast<long long>(tensor_counts[name]),
                  static_cast<long long>(family.checked), family.max_abs_error,
                  family.max_rel_error, family.passed ? "pass" : "FAIL");
    out << line;
  }
  for (const TensorGradientCheck& tensor : report.tensors)
    if (!tensor.passed) out << "  FAIL " << tensor.parameter << ": " << tensor.worst << "\n";
  out << "\n";
  for (const ModelAuditCheck& check : report.checks) {
    std::snprintf(line, sizeof line, "%-38s %-5s %s\n", check.name.c_str(),
                  check.passed ? "pass" : "FAIL", check.detail.c_str());
    out << line;
  }
  out << "\nverdict: " << (report.passed() ? "pass" : "FAIL") << "\n";
  return out.str();
}

}  // namespace electra
