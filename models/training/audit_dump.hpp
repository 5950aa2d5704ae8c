#pragma once
// The gradient audit dump (docs/audit.md): one update of any registered objective, or a short
// trajectory of them, written as safetensors + a JSON index so that any framework can recompute
// and check it. What is written follows the objective's StepOutput: every named loss (and its
// weight at that update), and the logits, labels and ids it defines.
//
//   DIR/audit.json                     index: config used, seed, dtype, schedule, losses, files
//   DIR/step.safetensors               update 0: batch, masking, samples, labels, logits, losses
//                                      ("<name>_loss", "<name>_weight" per named loss)
//   DIR/parameters.safetensors         parameters before update 0 (internal names, DESIGN §4)
//   DIR/optimizer_state.safetensors    Adam moments before update 0 ("<name>/adam_m", "/adam_v")
//   DIR/gradients.safetensors          d total_loss / d parameter of update 0, before clipping
//   DIR/parameters_after.safetensors   parameters after update 0
//   DIR/trajectory.safetensors         per update k: "step_<k>.<batch field>", losses and loss
//                                      weights [N], lr [N]
//   DIR/parameters_final.safetensors   parameters after the N updates
//
// Dropout is always 0 in an audit (another framework cannot reproduce our Philox masks); the
// config written to the index says so. The generator's samples are recorded, so a checker feeds
// them in and needs no RNG of ours (an objective that samples nothing, e.g. "mlm", has none).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/parameter_store.hpp"
#include "data/batch.hpp"
#include "models/formats/safetensors.hpp"
#include "models/networks/config.hpp"
#include "models/networks/electra_model.hpp"
#include "models/training/lr_schedule.hpp"
#include "models/training/optimizer.hpp"

namespace electra {

// One term of the total loss as a number: total = Σ weight · value.
struct AuditLoss {
  std::string name;  // StepOutput's NamedLoss name ("mlm", "disc", …)
  double value = 0, weight = 0;
};

// What one audited update produced (losses before the update, gradients before clipping).
struct AuditUpdateRecord {
  std::int64_t step = 0;  // updates applied before this one (t of the schedule)
  MaskedBatch batch;
  Tensor sampled_ids;             // i32 [B, P]; undefined when the objective samples nothing
  StepOutput output;              // losses, logits, corrupted ids, labels
  std::vector<AuditLoss> losses;  // every named loss, the row's order
  double mlm_loss = 0, disc_loss = 0, total_loss = 0;  // NaN for a loss the row does not have
  double grad_norm = 0, learning_rate = 0;
  std::vector<NamedTensor> gradients;  // every parameter, registration order, model dtype
};

// One update exactly as training does it (forward, backward of total_loss, clipped AdamW at the
// schedule's rate for t = optimizer.updates_applied(), zero gradients), except that the samples
// are given when `sampled_ids` is defined (else drawn with the sampling of `step`), and that
// the gradients are copied out before the optimizer runs.
AuditUpdateRecord run_audited_update(const ElectraModel& model, ParameterStore& parameters,
                                     AdamW& optimizer, const LearningRateSchedule& schedule,
                                     const MaskedBatch& batch, const Tensor& sampled_ids);

// The parameters as named tensors (clones), registration order.
std::vector<NamedTensor> parameter_tensors(const ParameterStore& parameters);
// Overwrites each parameter from `contents` (name = prefix + parameter name), converting the dtype;
// every parameter must be present with its shape. `source` names the file in errors.
void load_parameter_values(ParameterStore& parameters, const SafetensorsContents& contents,
                           const std::string& prefix, const std::string& source);
// Copies every parameter value from `from` into `to` (same names and shapes), converting dtype.
void copy_parameter_values(const ParameterStore& from, ParameterStore& to);

// A reproducible batch of `[CLS] A [SEP] B [SEP] [PAD]…` rows for an audit without shards: row 0
// fills the sequence, later rows are shorter (padding), token ids avoid the special ids.
PackedBatch synthetic_packed_batch(const ModelConfig& config, const SpecialTokens& special,
                                   std::uint64_t seed);

// Masked-batch fields "<prefix>input_ids", "token_type_ids", "attention_mask",
// "masked_input_ids", "masked_positions", "masked_ids", "masked_weights" and "sampled_ids"
// (the last only when defined).
void append_update_inputs(std::vector<NamedTensor>& out, const std::string& prefix,
                          const MaskedBatch& batch, const Tensor& sampled_ids);
// The inverse of append_update_inputs; errors name `source` and the missing tensor.
MaskedBatch masked_batch_from(const SafetensorsContents& contents, const std::string& prefix,
                              const std::string& source);

struct AuditDumpOptions {
  std::string out_dir;
  std::string checkpoint;       // a checkpoint or run directory; empty: a fresh model
  std::string preset = "tiny";  // fresh model: preset, then config_file overrides
  std::string config_file;
  std::string objective;   // fresh model: overrides the config's objective when not empty
  std::uint64_t seed = 1;  // fresh model: parameters, batch, masks and samples
  DType dtype = DType::f32;
  std::int64_t steps = 1;  // updates in the trajectory (the first is dumped in full)
};

struct AuditDumpSummary {
  nlohmann::json index;  // what audit.json holds
  std::vector<double> total_losses;
};

// Runs the updates and writes DIR (created; existing audit files are replaced). Parameters are
// initialised in f32 as training does and widened for an f64 audit, so the f32 and f64 dumps of
// one seed start from identical weights.
AuditDumpSummary write_audit_dump(const AuditDumpOptions& options);

}  // namespace electra
