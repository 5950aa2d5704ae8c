// objective "electra": replaced-token detection (Clark et al. 2020; DESIGN §2 steps 3–9).
//   generator(masked ids) → MLM cross-entropy at the masked positions
//   → a sample per masked position (no gradient) → corrupt the ORIGINAL ids there
//   → label 1 where the token now differs → discriminator(corrupted ids)
//   → BCE over all non-pad tokens → total = mlm_weight·MLM + disc_weight·disc.
// One backward of the total reaches both networks; the shared embeddings get both contributions.
#include "autograd/ops.hpp"
#include "models/objectives/curriculum.hpp"
#include "models/objectives/registry.hpp"
#include "models/objectives/steps.hpp"

namespace electra {

StepOutput replaced_token_detection(const ObjectiveNetworks& networks, Tape& tape,
                                    const MaskedBatch& batch, const MaskedBatch& host_batch,
                                    const ObjectiveDraw& draw, const Tensor& disc_weights) {
  StepOutput out;
  const GeneratorPass generated = run_generator(networks, tape, batch, host_batch, draw);
  out.mlm_loss = generated.loss;
  out.mlm_logits = generated.logits.value();

  out.sampled_ids = samples_for(networks, out.mlm_logits, host_batch, draw);
  const Corruption corruption = corrupt(host_batch, out.sampled_ids, networks.dtype);
  out.corrupted_ids = corruption.corrupted_ids.to(networks.device);
  out.disc_labels = corruption.labels.to(networks.device);
  out.disc_weights = disc_weights.to(networks.dtype).to(networks.device);

  const Var disc_logits = discriminate(networks, tape, out.corrupted_ids, batch, draw);  // [B, L]
  out.disc_logits = disc_logits.value();
  out.disc_loss = ops::bce_with_logits(tape, disc_logits, out.disc_labels, out.disc_weights);
  out.losses = {{"mlm", out.mlm_loss, networks.config.mlm_weight},
                {"disc", out.disc_loss, discriminator_weight(networks.config, draw.update)}};
  out.total_loss = total_of(tape, out.losses);
  return out;
}

std::vector<GradientBoundary> replaced_token_boundaries() {
  return {{"disc", "generator.", true},
          {"disc", "electra.embeddings.", false},
          {"disc", "discriminator.", false},
          {"mlm", "discriminator.", true}};
}

namespace {

StepOutput electra_forward(const ObjectiveNetworks& networks, Tape& tape, const MaskedBatch& batch,
                           const MaskedBatch& host_batch, const ObjectiveDraw& draw) {
  // Every non-pad token counts.
  return replaced_token_detection(networks, tape, batch, host_batch, draw,
                                  host_batch.original.attention_mask);
}

}  // namespace

ObjectiveSpec electra_objective() {
  ObjectiveSpec spec;
  spec.name = "electra";
  spec.summary = "replaced-token detection over every token + the generator's MLM (the paper)";
  spec.forward = electra_forward;
  spec.gradient_boundaries = replaced_token_boundaries();
  return spec;
}

}  // namespace electra
