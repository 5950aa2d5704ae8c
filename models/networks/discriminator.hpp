#pragma once
// The discriminator (DESIGN §2 step 7): reads the corrupted ids through the shared embeddings,
// its own embeddings_project (E → H when E ≠ H) and encoder, then per token
//   dense (H → H) → GELU → dense_prediction (H → 1) → a logit for "this token was replaced".
// dense_prediction is Glorot-uniform initialised, as the official code's tf.layers.dense default.
//
// With Head::none only the body (projection + encoder) is registered and `encode` is the whole
// network: the main network of the masked-LM ablations (replace_mlm, all_tokens_mlm), which puts
// its own heads on the hidden states and keeps the `discriminator.` prefix because it is the
// network that is fine-tuned.
#include <optional>

#include "models/networks/embeddings.hpp"
#include "models/networks/encoder.hpp"

namespace electra {

class Discriminator {
 public:
  enum class Head { replaced_token, none };
  // Registers `discriminator.*` parameters (see models/networks/embeddings.hpp for the scheme).
  Discriminator(ParameterFactory& factory, const ModelConfig& config,
                const SharedEmbeddings& embeddings, Head head = Head::replaced_token);

  // input_ids, token_type_ids, attention_mask i32 [B, L] → hidden states [B, L, H].
  Var encode(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
             const Tensor& token_type_ids, const Tensor& attention_mask,
             const streams::DropoutContext& dropout) const;
  // input_ids, token_type_ids, attention_mask i32 [B, L] → logits [B, L] (Head::replaced_token).
  Var forward(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
              const Tensor& token_type_ids, const Tensor& attention_mask,
              const streams::DropoutContext& dropout) const;

 private:
  double hidden_dropout_;
  std::optional<Linear> embeddings_project_;  // E → H, absent when E = H
  Encoder encoder_;
  std::optional<Linear> prediction_dense_;   // discriminator_predictions.dense: H → H
  std::optional<Linear> prediction_output_;  // discriminator_predictions.dense_prediction: H → 1
};

}  // namespace electra
