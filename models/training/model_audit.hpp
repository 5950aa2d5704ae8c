#pragma once
// `electra audit --model`: the whole-model gradient checks of docs/audit.md, one verdict each.
//   1. float64 central differences of the total loss for a random sample of entries of EVERY
//      parameter tensor (the shared embeddings included) plus each tensor's largest-gradient entry;
//   2. the objective row's gradient boundaries (models/objectives/objective.hpp): where a sample
//      is drawn or a stop-gradient placed, e.g. for electra d disc_loss / d generator = 0 exactly
//      while the shared embeddings and the discriminator get gradient, d mlm_loss / d
//      discriminator = 0;
//   3. determinism: two runs of the same seed give the same bits (losses and parameters), and
//      save → reload → continue gives the bits of an uninterrupted run.
#include <cstdint>
#include <string>
#include <vector>

#include "data/batch.hpp"
#include "models/networks/config.hpp"

namespace electra {

struct ModelAuditOptions {
  std::string preset = "tiny";
  std::string config_file;  // JSON overriding preset keys (optional)
  std::string objective;    // a registered objective; empty: the config's (electra by default)
  std::uint64_t seed = 1;
  std::int64_t samples_per_tensor = 3;  // random entries per tensor (+ the largest-gradient one)
  double step = 1e-5;                   // central-difference h
  double relative_tolerance = 1e-5;
  double absolute_tolerance = 1e-7;
};

// One parameter tensor's finite-difference result.
struct TensorGradientCheck {
  std::string parameter;
  std::string family;  // see parameter_family
  std::int64_t checked = 0;
  double max_abs_error = 0;
  double max_rel_error = 0;  // over entries with |gradient| ≥ 1e-4 (above FD rounding noise)
  bool passed = true;
  std::string worst;  // "entry 17: analytic …, numeric …"
};

struct ModelAuditCheck {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct ModelAuditReport {
  std::string config_summary;
  std::vector<TensorGradientCheck> tensors;
  std::vector<ModelAuditCheck> checks;  // finite differences (summary), stop-gradient, determinism
  bool passed() const;
};

// "embeddings", "attention", "FFN", "LayerNorm" or "heads" for an internal parameter name.
std::string parameter_family(const std::string& parameter_name);

// The model the audit checks: the preset (+ config file, objective) shrunk so a step stays small
// and readable: vocab ≤ 256, seq_len ≤ 32, batch 2, no prediction cap. `electra audit --dot`
// draws the same model.
ModelConfig audit_config(const ModelAuditOptions& options);
// A synthetic masked batch for that config (ids avoid the special tokens 0–4), masked at `step`.
MaskedBatch audit_batch(const ModelConfig& config, std::uint64_t seed, std::uint64_t step);

// The preset's architecture on a small batch (batch 2, seq_len ≤ 32, vocab ≤ 256) so the whole
// audit runs in seconds; dropout stays on (its masks are fixed per step, so the loss is smooth).
ModelAuditReport run_model_audit(const ModelAuditOptions& options);

// The per-family table and the verdict table, as printed by `electra audit --model`.
std::string format_model_audit(const ModelAuditReport& report);

}  // namespace electra
