#pragma once
// ElectraModel: the networks of one pre-training run — the shared embeddings, the masked-LM
// generator, the discriminator and the objective's own heads, as the config's objective row asks
// (models/objectives/objective.hpp) — and a forward pass that hands them to that row. What a step
// computes (losses, sampling, corruption) lives in models/objectives/, one file per objective.
//
// Randomness is a pure function of (seed, step, site): dropout per site and the sampling use
// the Philox streams of models/networks/random_streams.hpp with counters derived from `step`.
#include <cstdint>
#include <memory>

#include "data/batch.hpp"
#include "models/networks/config.hpp"
#include "models/networks/discriminator.hpp"
#include "models/networks/embeddings.hpp"
#include "models/networks/generator.hpp"
#include "models/objectives/objective.hpp"

namespace electra {

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
  StepOutput forward(Tape& tape, const MaskedBatch& batch, std::uint64_t step, bool training) const;
  // The same with every draw field explicit (the trainer passes the update count, which the
  // curriculum schedules read; the two-argument forms use update = step).
  StepOutput forward(Tape& tape, const MaskedBatch& batch, const ObjectiveDraw& draw) const;
  // The same with the generator's samples given (i32 [B, P]) instead of drawn: golden files
  // from an independent implementation and gradient checks feed them in.
  StepOutput forward_with_samples(Tape& tape, const MaskedBatch& batch, const Tensor& sampled_ids,
                                  std::uint64_t step, bool training) const;

  // Inference for `electra inspect`: generator → sample (noise of `step`) → corrupt →
  // discriminator, no dropout, nothing recorded. Needs an objective with a discriminator.
  InspectOutput inspect(const MaskedBatch& batch, std::uint64_t step = 0) const;
  // P(replaced) f32 [B, L] for the given ids, discriminator only (0 at padding).
  Tensor replaced_probability(const PackedBatch& batch) const;

  const ModelConfig& config() const { return config_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  std::uint64_t seed() const { return seed_; }
  const SharedEmbeddings& embeddings() const { return *embeddings_; }
  const ObjectiveSpec& objective() const { return *objective_; }

 private:
  ObjectiveNetworks networks() const;

  ModelConfig config_;
  const ObjectiveSpec* objective_;
  std::uint64_t seed_;
  DType dtype_;
  Device device_;
  std::unique_ptr<SharedEmbeddings> embeddings_;
  std::unique_ptr<Generator> generator_;
  std::unique_ptr<Discriminator> discriminator_;  // null unless the objective asks for one
  std::unique_ptr<ObjectiveHeads> heads_;         // the objective's own parameters, if any
};

}  // namespace electra
