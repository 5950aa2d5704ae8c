// objective "all_tokens_mlm": All-Tokens MLM (Clark et al. 2020 §3.5, Table 5). Inputs as in
// replace_mlm (generator samples at the masked positions), but the main network predicts the
// identity of EVERY non-pad token through the paper's copy mechanism:
//   D_t = σ(w·h_t + b)  (copy probability, discriminator.copy_prediction)
//   p(y | t) = D_t·[y = corrupted_t] + (1 − D_t)·softmax(MLM logits_t)_y
//   main_mlm = mean over non-pad tokens of −log p(original_t)   (ops::copy_mixture_loss)
//   total = mlm_weight·MLM + main_mlm.
// Without the generator's replacements the task would be trivial (copy every token, predict
// [MASK]'s original); with them the network must still judge which inputs to trust.
#include "autograd/ops.hpp"
#include "models/objectives/main_network.hpp"
#include "models/objectives/registry.hpp"
#include "models/objectives/steps.hpp"

namespace electra {

StepOutput all_tokens_mlm_forward(const ObjectiveNetworks& networks, Tape& tape,
                                  const MaskedBatch& batch, const MaskedBatch& host_batch,
                                  const ObjectiveDraw& draw) {
  StepOutput out;
  const Var hidden =
      encode_replaced_inputs(networks, tape, batch, host_batch, draw, out);  // [B, L, H]
  const MainNetwork& main = main_network(networks);
  const std::int64_t tokens = hidden.value().dim(0) * hidden.value().dim(1);
  const Var rows = ops::reshape(tape, hidden, {tokens, hidden.value().dim(2)});  // [B·L, H]
  const Var main_logits = main.mlm_logits(tape, rows);                           // [B·L, V]
  const Var copy_logits = main.copy_logits(tape, rows);                          // [B·L]
  const Tensor non_pad = host_batch.original.attention_mask.to(networks.dtype).reshape({tokens});
  const Var main_loss = ops::copy_mixture_loss(
      tape, main_logits, copy_logits, out.corrupted_ids.to(Device::cpu).reshape({tokens}),
      host_batch.original.input_ids.to(Device::cpu).reshape({tokens}), non_pad.to(networks.device));
  out.losses = {{"mlm", out.mlm_loss, networks.config.mlm_weight}, {"main_mlm", main_loss, 1.0}};
  out.total_loss = total_of(tape, out.losses);
  return out;
}

ObjectiveSpec all_tokens_mlm_objective() {
  ObjectiveSpec spec;
  spec.name = "all_tokens_mlm";
  spec.summary = "MLM over all tokens with a copy mechanism, replaced inputs (paper Table 5)";
  spec.networks.discriminator = false;  // the main network is the row's heads: no RTD head
  spec.build_heads = build_main_network_with_copy_head;
  spec.forward = all_tokens_mlm_forward;
  spec.gradient_boundaries = main_network_boundaries();
  // Exported as ElectraForMaskedLM in main/, without the copy head (hf_format.hpp).
  spec.exports_discriminator = false;
  return spec;
}

}  // namespace electra
