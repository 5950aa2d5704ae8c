// objective "replace_mlm": Replace MLM (Clark et al. 2020 §3.5, Table 5). The masked positions
// get generator samples instead of [MASK] (the corrupted sequence of "electra"), and the main
// network — discriminator-sized, with a masked-LM head instead of the replaced-token head
// (main_network.hpp) — predicts the original token at the masked positions:
//   generator(masked ids) → MLM cross-entropy → a sample per masked position (no gradient)
//   → corrupt the ORIGINAL ids there → main network(corrupted ids) → rows at the masked
//   positions → MLM head → cross-entropy against the original ids ("main_mlm")
//   → total = mlm_weight·MLM + main_mlm.
// The generator is still trained jointly (the paper does not say; docs/objectives.md).
#include "autograd/ops.hpp"
#include "models/objectives/main_network.hpp"
#include "models/objectives/registry.hpp"
#include "models/objectives/steps.hpp"

namespace electra {

StepOutput replace_mlm_forward(const ObjectiveNetworks& networks, Tape& tape,
                               const MaskedBatch& batch, const MaskedBatch& host_batch,
                               const ObjectiveDraw& draw) {
  StepOutput out;
  const Var hidden =
      encode_replaced_inputs(networks, tape, batch, host_batch, draw, out);  // [B, L, H]
  const MainNetwork& main = main_network(networks);
  const std::int64_t length = host_batch.original.input_ids.dim(1);
  const Var rows = ops::gather_rows(
      tape, hidden, flat_masked_rows(host_batch.masked_positions, length).to(networks.device));
  const Var main_logits = main.mlm_logits(tape, rows);  // [B·P, V]
  // Plain cross-entropy, as the paper's Replace MLM: generator_focal_gamma is the generator's
  // loss (masked_cross_entropy), not the main network's.
  const std::int64_t slots = main_logits.value().dim(0);
  const Var main_loss =
      ops::cross_entropy(tape, main_logits, batch.masked_original_ids.reshape({slots}),
                         batch.masked_weights.to(networks.dtype).reshape({slots}));
  out.losses = {{"mlm", out.mlm_loss, networks.config.mlm_weight}, {"main_mlm", main_loss, 1.0}};
  out.total_loss = total_of(tape, out.losses);
  return out;
}

ObjectiveSpec replace_mlm_objective() {
  ObjectiveSpec spec;
  spec.name = "replace_mlm";
  spec.summary = "MLM on generator-replaced (not [MASK]ed) positions (paper Table 5 ablation)";
  spec.networks.discriminator = false;  // the main network is the row's heads: no RTD head
  spec.build_heads = build_main_network;
  spec.forward = replace_mlm_forward;
  spec.gradient_boundaries = main_network_boundaries();
  spec.exports_discriminator = false;  // exported as ElectraForMaskedLM in main/ (hf_format.hpp)
  return spec;
}

}  // namespace electra
