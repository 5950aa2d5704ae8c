#pragma once
// ElectraModel: the generator, the discriminator and the shared embeddings, and the joint
// replaced-token-detection objective of DESIGN §2 steps 3–9:
//   generator(masked ids) → MLM cross-entropy at the masked positions
//   → categorical sample per masked position (no gradient) → corrupt the ORIGINAL ids there
//   → label 1 where the token now differs → discriminator(corrupted ids)
//   → BCE over all non-pad tokens → total = mlm_weight·MLM + disc_weight·disc.
// One backward of total_loss reaches both networks; the shared embeddings get both contributions.
//
// Objective "mlm" (BERT-style baseline): only the masked-LM network is built, at the FULL
// discriminator size (hidden, heads, FFN, layers), because the paper's BERT baselines are
// compared at the same model size and compute as the ELECTRA discriminator; its parameters
// still use the `generator.` prefix (it exports as ElectraForMaskedLM) and total = mlm_weight·MLM.
//
// Randomness is a pure function of (seed, step, site): dropout per site and the sampling use
// the Philox streams of models/random_streams.hpp with counters derived from `step`.
#include <cstdint>
#include <memory>

#include "data/batch.hpp"
#include "models/config.hpp"
#include "models/discriminator.hpp"
#include "models/embeddings.hpp"
#include "models/generator.hpp"

namespace electra {

// Everything one step produces, for the loss, the metrics and the audit dump. B = batch,
// L = seq_len, P = predictions per sequence (masked_positions' width), V = vocab.
// Floating tensors are in the model's dtype (f32 when training). With objective "mlm" the
// discriminator fields (disc_loss, corrupted_ids, disc_*) are undefined.
struct StepOutput {
  Var total_loss;        // [1]
  Var mlm_loss;          // [1] Σ w·CE / (Σw + 1e-6) over masked positions
  Var disc_loss;         // [1] Σ w·BCE / (Σw + 1e-6) over non-pad tokens
  Tensor mlm_logits;     // [B·P, V] generator logits at the masked positions (row b·P + p)
  Tensor sampled_ids;    // i32 [B, P] generator samples (0 where masked_weights is 0)
  Tensor corrupted_ids;  // i32 [B, L] original ids with the samples put at the masked positions
  Tensor disc_labels;    // [B, L] 1 where corrupted_ids differs from the original, else 0
  Tensor disc_logits;    // [B, L] discriminator logits (P(replaced) = σ(logit))
  Tensor disc_weights;   // [B, L] attention mask as float: which tokens count in the disc loss
};

// What `electra inspect` shows: one pass of generator + sampling + discriminator, no tape.
struct InspectOutput {
  Tensor sampled_ids;           // i32 [B, P]
  Tensor corrupted_ids;         // i32 [B, L]
  Tensor disc_labels;           // f32 [B, L]: 1 where replaced
  Tensor replaced_probability;  // f32 [B, L]: σ(discriminator logit); 0 at padding
};

class ElectraModel {
 public:
  // Validates the config and registers every parameter in `store` (shared embeddings first,
  // then generator, then discriminator), initialised from `seed` in `dtype` (f32 or f64) on the
  // CPU and then placed on `device` (cuda needs f32), so CPU and CUDA models with one seed start
  // from identical weights. `seed` also keys dropout and the sampling.
  ElectraModel(const ModelConfig& config, ParameterStore& store, std::uint64_t seed,
               DType dtype = DType::f32, Device device = Device::cpu);
  ~ElectraModel();
  ElectraModel(const ElectraModel&) = delete;
  ElectraModel& operator=(const ElectraModel&) = delete;

  // One training (or evaluation, training = false: no dropout) forward pass recorded on `tape`.
  // `step` selects the dropout masks and the sampling. The batch may live on any device (data/
  // makes CPU batches); it is moved to the model's device once per call. StepOutput's tensors
  // are on the model's device except sampled_ids, which is drawn back to the host.
  StepOutput forward(Tape& tape, const MaskedBatch& batch, std::uint64_t step,
                     bool training) const;
  // The same with the generator's samples given (i32 [B, P]) instead of drawn: golden files
  // from an independent implementation and gradient checks feed them in.
  StepOutput forward_with_samples(Tape& tape, const MaskedBatch& batch, const Tensor& sampled_ids,
                                  std::uint64_t step, bool training) const;

  // Inference for `electra inspect`: generator → sample (noise of `step`) → corrupt →
  // discriminator, no dropout, nothing recorded. Needs objective "electra".
  InspectOutput inspect(const MaskedBatch& batch, std::uint64_t step = 0) const;
  // P(replaced) f32 [B, L] for the given ids, discriminator only (0 at padding).
  Tensor replaced_probability(const PackedBatch& batch) const;

  const ModelConfig& config() const { return config_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  std::uint64_t seed() const { return seed_; }
  const SharedEmbeddings& embeddings() const { return *embeddings_; }

 private:
  Tensor draw_samples(const Tensor& mlm_logits, const MaskedBatch& batch,
                      std::uint64_t step) const;

  ModelConfig config_;
  std::uint64_t seed_;
  DType dtype_;
  Device device_;
  std::unique_ptr<SharedEmbeddings> embeddings_;
  std::unique_ptr<Generator> generator_;
  std::unique_ptr<Discriminator> discriminator_;  // null with objective "mlm"
};

}  // namespace electra
