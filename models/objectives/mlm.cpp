// objective "mlm": the BERT-style baseline. Only the masked-LM network is built, at the FULL
// discriminator size (hidden, heads, FFN, layers), because the paper's BERT baselines are
// compared at the same model size and compute as the ELECTRA discriminator; its parameters keep
// the `generator.` prefix (it exports as ElectraForMaskedLM). total = mlm_weight·MLM.
#include "models/objectives/registry.hpp"
#include "models/objectives/steps.hpp"

namespace electra {

StepOutput mlm_forward(const ObjectiveNetworks& networks, Tape& tape, const MaskedBatch& batch,
                       const MaskedBatch& host_batch, const ObjectiveDraw& draw) {
  StepOutput out;
  const GeneratorPass generated = run_generator(networks, tape, batch, host_batch, draw);
  out.mlm_loss = generated.loss;
  out.mlm_logits = generated.logits.value();
  out.losses = {{"mlm", out.mlm_loss, networks.config.mlm_weight}};
  out.total_loss = total_of(tape, out.losses);
  return out;
}

ObjectiveSpec mlm_objective() {
  ObjectiveSpec spec;
  spec.name = "mlm";
  spec.summary = "BERT-style masked LM at the discriminator's size, no discriminator (baseline)";
  spec.networks.discriminator = false;
  spec.networks.full_size_generator = true;
  spec.forward = mlm_forward;
  spec.exports_discriminator = false;
  return spec;
}

}  // namespace electra
