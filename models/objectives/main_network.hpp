#pragma once
// The main network of the masked-LM ablations (replace_mlm, all_tokens_mlm; Clark et al. 2020
// §3.5): a discriminator-sized encoder that reads the corrupted ids and predicts original
// tokens, instead of the replaced-token head. Built as the objective's heads (build_heads), so
// no replaced-token head is registered. Parameters (registered after the generator, where
// "electra" registers its discriminator):
//   discriminator.electra.*                       the body: projection + encoder, as "electra"
//   discriminator.generator_predictions.dense     H → E, then GELU
//   discriminator.generator_predictions.LayerNorm over E
//   discriminator.generator_lm_head.bias          [V]; the output weight is the shared word
//                                                 embedding (tied, as the generator's head)
//   discriminator.copy_prediction                 H → 1, all_tokens_mlm only: the copy logit
// The head's names are the HF ElectraForMaskedLM names under the `discriminator.` prefix, so the
// HF export writes this network as ElectraForMaskedLM by dropping the prefix (the copy head has
// no HF counterpart and is left out: models/formats/hf_format.cpp).
#include <memory>
#include <optional>

#include "models/networks/discriminator.hpp"
#include "models/objectives/objective.hpp"

namespace electra {

class MainNetwork : public ObjectiveHeads {
 public:
  MainNetwork(ParameterFactory& factory, const ModelConfig& config,
              const SharedEmbeddings& embeddings, bool copy_head);

  // ids, token types, attention mask i32 [B, L] on the model's device → hidden [B, L, H], with
  // the discriminator's dropout sites.
  Var encode(const ObjectiveNetworks& networks, Tape& tape, const Tensor& input_ids,
             const MaskedBatch& batch, const ObjectiveDraw& draw) const;
  // hidden rows [K, H] → MLM logits [K, V].
  Var mlm_logits(Tape& tape, const Var& hidden_rows) const;
  // hidden rows [K, H] → copy logits [K] (needs copy_head).
  Var copy_logits(Tape& tape, const Var& hidden_rows) const;

 private:
  Discriminator body_;
  Linear prediction_dense_;                // generator_predictions.dense: H → E
  LayerNorm prediction_norm_;              // generator_predictions.LayerNorm over E
  Var output_bias_;                        // generator_lm_head.bias [V]
  Var tied_word_embeddings_;               // the shared word embedding Var [V, E]
  std::optional<Linear> copy_prediction_;  // copy_prediction: H → 1
};

// The row's build_heads: the main network without / with the copy head.
std::unique_ptr<ObjectiveHeads> build_main_network(ParameterFactory& factory,
                                                   const ModelConfig& config,
                                                   const SharedEmbeddings& embeddings);
std::unique_ptr<ObjectiveHeads> build_main_network_with_copy_head(
    ParameterFactory& factory, const ModelConfig& config, const SharedEmbeddings& embeddings);
// networks.heads as the main network (an error when the row built something else).
const MainNetwork& main_network(const ObjectiveNetworks& networks);

// The start both rows share: generator → MLM loss → a sample per masked position (no gradient)
// → the ORIGINAL ids corrupted there → main network over them. `out` gets mlm_loss, mlm_logits,
// sampled_ids and corrupted_ids (device); returns the main network's hidden states [B, L, H].
Var encode_replaced_inputs(const ObjectiveNetworks& networks, Tape& tape, const MaskedBatch& batch,
                           const MaskedBatch& host_batch, const ObjectiveDraw& draw,
                           StepOutput& out);

// Both rows' boundaries: the main network reads a held sample, so its loss reaches the shared
// embeddings and itself, never the generator's own layers; the generator's MLM never the main
// network.
std::vector<GradientBoundary> main_network_boundaries();

}  // namespace electra
