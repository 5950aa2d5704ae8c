#pragma once
// A pre-training objective: a function from (the networks, a masked batch, the step's draws) to
// named losses and the tensors the metrics, `inspect` and the audits read. Each objective lives
// in one file of models/objectives/ and is one row of the table in registry.cpp; config
// validation, `pretrain --help`, the metrics, `inspect`, the audit dump, the model audit and
// the HF export read that row and nothing else. docs/objectives.md walks through adding one.
//
// ElectraModel builds the networks a row asks for (the shared embeddings and the masked-LM
// generator always; the discriminator when `networks.discriminator`; the row's own heads
// through `build_heads`) and hands them to the row's `forward`.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tape.hpp"
#include "data/batch.hpp"
#include "models/networks/config.hpp"

namespace electra {

class SharedEmbeddings;
class Generator;
class Discriminator;
class ParameterFactory;

// Parameters an objective adds beyond the generator and discriminator (e.g. a hardness head).
// Registered after both networks, so adding an objective never changes the others' init.
class ObjectiveHeads {
 public:
  virtual ~ObjectiveHeads() = default;
};

// What a row's forward may read. `discriminator` and `heads` are null unless the row asks.
struct ObjectiveNetworks {
  const ModelConfig& config;
  std::uint64_t seed;  // keys dropout and sampling (models/networks/random_streams.hpp)
  DType dtype;
  Device device;
  const SharedEmbeddings& embeddings;
  const Generator& generator;
  const Discriminator* discriminator;
  const ObjectiveHeads* heads;
};

// Values a forward treats as constants although they are computed from parameters (importance
// weights read from the generator's probabilities, say): held like the samples. The model audit
// passes one HeldValues to its first forward, which records them, and the same to every
// finite-difference evaluation, which replays them, so central differences see the function the
// gradient is of. Training passes none: each step computes its own.
class HeldValues {
 public:
  // The value recorded under `name`, recording `value` the first time.
  const Tensor& hold(const std::string& name, const Tensor& value);

 private:
  std::vector<std::pair<std::string, Tensor>> values_;
};

// Which randomness and which point of the schedules one forward pass uses.
struct ObjectiveDraw {
  std::uint64_t step = 0;      // the draw: dropout masks and sampling noise (micro-batch counter)
  std::int64_t update = 0;     // optimizer updates applied: the curriculum schedules' clock
  bool training = true;        // dropout on
  Tensor given_samples;        // i32 [B, P]: use these instead of drawing (golden files, audits)
  HeldValues* held = nullptr;  // see HeldValues; null: nothing held

  // `value`, or the value held under `name` when `held` is set.
  Tensor hold(const std::string& name, const Tensor& value) const {
    return held != nullptr ? held->hold(name, value) : value;
  }
};

// One term of the total loss: total = Σ weight · loss.
struct NamedLoss {
  std::string name;  // "mlm", "disc", …: logged as <name>_loss
  Var loss;          // [1]
  double weight = 1;
};

// Everything one step produces, for the loss, the metrics and the audit dump. B = batch,
// L = seq_len, P = predictions per sequence (masked_positions' width), V = vocab.
// Floating tensors are in the model's dtype (f32 when training). Fields an objective does not
// produce stay undefined (the metrics report NaN for them).
struct StepOutput {
  Var total_loss;                 // [1] Σ weight · loss over `losses`
  std::vector<NamedLoss> losses;  // every term of total_loss, in the row's order
  Var mlm_loss;                   // [1] the generator's masked-LM loss (also in `losses`)
  Var disc_loss;                  // [1] replaced-token detection loss (also in `losses`)
  Tensor mlm_logits;     // [B·P, V] generator logits at the masked positions (row b·P + p)
  Tensor sampled_ids;    // i32 [B, P] generator samples (0 where masked_weights is 0)
  Tensor corrupted_ids;  // i32 [B, L] original ids with the samples put at the masked positions
  Tensor disc_labels;    // [B, L] 1 where corrupted_ids differs from the original, else 0
  Tensor disc_logits;    // [B, L] discriminator logits (P(replaced) = σ(logit))
  Tensor disc_weights;   // [B, L] which tokens count in the disc loss

  // The loss named `name`, or an undefined Var.
  Var loss(const std::string& name) const;
};

// A gradient that must be exactly zero (or must not be) for one loss term, checked by the model
// audit: where a sample is drawn or a stop-gradient is placed, nothing may leak through it.
struct GradientBoundary {
  std::string loss;              // a NamedLoss name
  std::string parameter_prefix;  // e.g. "generator."
  bool zero = true;              // true: every such parameter's gradient is 0; false: some is not
};

// How the HF export maps the networks (docs/export.md): the discriminator as
// ElectraForPreTraining, the generator as ElectraForMaskedLM.
struct ObjectiveSpec {
  std::string name;
  std::string summary;  // one line, shown by `pretrain --help` and docs/objectives.md
  struct Networks {
    bool discriminator = true;         // build the replaced-token discriminator
    bool full_size_generator = false;  // the masked-LM network gets the discriminator's sizes
  } networks;
  // Registers the row's own parameters (may be null: none).
  std::unique_ptr<ObjectiveHeads> (*build_heads)(ParameterFactory& factory,
                                                 const ModelConfig& config,
                                                 const SharedEmbeddings& embeddings) = nullptr;
  // The step. `batch` is on the model's device, `host_batch` is the same batch on the CPU.
  StepOutput (*forward)(const ObjectiveNetworks& networks, Tape& tape, const MaskedBatch& batch,
                        const MaskedBatch& host_batch, const ObjectiveDraw& draw) = nullptr;
  std::vector<GradientBoundary> gradient_boundaries;
  // The HF export writes a `discriminator/` directory (ElectraForPreTraining) only when true.
  bool exports_discriminator = true;
  // `inspect`, the audit dump and replaced_probability need a replaced-token discriminator.
  bool detects_replacements() const { return networks.discriminator; }
};

// Every registered objective, in --help order.
const std::vector<ObjectiveSpec>& objective_table();
// The row named `name`; an unknown name is an error listing the registered ones.
const ObjectiveSpec& find_objective(const std::string& name);
// The row named `name`, or null.
const ObjectiveSpec* lookup_objective(const std::string& name);
// "electra, mlm, …" for help texts and messages.
std::string objective_names();

}  // namespace electra
