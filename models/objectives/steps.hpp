#pragma once
// The steps objectives are built from (DESIGN §2 steps 3–9), each usable on its own:
//   run_generator   masked ids → generator → logits at the masked positions, MLM cross-entropy
//   samples_for     the generator's samples (given, or drawn from softmax(logits / T))
//   corrupt         samples put at the masked positions of the ORIGINAL ids, labels 1 = replaced
//   discriminate    corrupted ids → discriminator → one logit per token
//   total_of        Σ weight · loss over the named losses
#include <cstdint>
#include <vector>

#include "models/objectives/objective.hpp"

namespace electra {

// masked_rows i32 [B·P] = b·L + masked_positions[b, p]: rows of the flattened [B·L, H] sequence.
// `masked_positions` may be on any device; the result is on the CPU.
Tensor flat_masked_rows(const Tensor& masked_positions, std::int64_t length);

struct GeneratorPass {
  Var logits;       // [B·P, V] at the masked positions
  Var loss;         // [1] masked_cross_entropy of the logits
  Var transformed;  // [B·P, E] the head's state the logits are read from (Generator::transformed)
};
// The generator on batch.masked_input_ids, cross-entropy against masked_original_ids.
GeneratorPass run_generator(const ObjectiveNetworks& networks, Tape& tape, const MaskedBatch& batch,
                            const MaskedBatch& host_batch, const ObjectiveDraw& draw);
// The generator's MLM loss over logits [B·P, V]: Σ w·CE / (Σw + 1e-6) (the cross_entropy op)
// when config.generator_focal_gamma is 0, else Hao et al.'s focal loss
// Σ w·(−(1 − p)^γ·log p) / (Σw + 1e-6) (the focal_cross_entropy op).
Var masked_cross_entropy(const ObjectiveNetworks& networks, Tape& tape, const Var& logits,
                         const MaskedBatch& batch);

// i32 [B, P] on the CPU: draw.given_samples when defined (shape and dtype checked), else one
// draw per row from softmax(logits / T), T = sampling_temperature(config, draw.update), with the
// noise of draw.step (config.disallow_correct removes the original id first); 0 in padding slots
// (masked_weights 0). No gradient: the logits' values are read, never the Var.
Tensor samples_for(const ObjectiveNetworks& networks, const Tensor& mlm_logits,
                   const MaskedBatch& host_batch, const ObjectiveDraw& draw);
// samples_for's draw alone, for objectives that sample from other scores (electra_hp): one
// draw per row of scores [B·P, V] (any device) from softmax(scores / temperature) with the noise
// of draw.step → i32 [B, P] on the CPU, 0 in padding slots.
Tensor draw_samples(const ObjectiveNetworks& networks, const Tensor& scores,
                    const MaskedBatch& host_batch, const ObjectiveDraw& draw, double temperature);

struct Corruption {
  Tensor corrupted_ids;  // i32 [B, L] on the CPU
  Tensor labels;         // [B, L] in `dtype` on the CPU: 1 where the token now differs
};
// Padding slots (weight 0) are skipped: their position 0 is [CLS], which the official
// scatter_update also never overwrites.
Corruption corrupt(const MaskedBatch& host_batch, const Tensor& sampled_ids, DType dtype);

// The discriminator over `input_ids` (i32 [B, L] on the model's device) → logits [B, L].
Var discriminate(const ObjectiveNetworks& networks, Tape& tape, const Tensor& input_ids,
                 const MaskedBatch& batch, const ObjectiveDraw& draw);

// The whole "electra" step (models/objectives/electra.cpp) with the discriminator's loss weights
// [B, L] given (on the CPU, any float dtype): electra passes the attention mask, electra15 the
// masked positions. Losses "mlm" (mlm_weight) and "disc" (discriminator_weight at draw.update).
StepOutput replaced_token_detection(const ObjectiveNetworks& networks, Tape& tape,
                                    const MaskedBatch& batch, const MaskedBatch& host_batch,
                                    const ObjectiveDraw& draw, const Tensor& disc_weights);

// Its gradient boundaries: the sample is discrete and held, so the disc loss reaches the shared
// embeddings and the discriminator, never the generator's own layers; the MLM loss never the
// discriminator.
std::vector<GradientBoundary> replaced_token_boundaries();

// Σ weight · loss in the order given (a weight of 1 adds no node).
Var total_of(Tape& tape, const std::vector<NamedLoss>& losses);

}  // namespace electra
