#pragma once
// The discriminator (DESIGN §2 step 7): reads the corrupted ids through the shared embeddings,
// its own embeddings_project (E → H when E ≠ H) and encoder, then per token
//   dense (H → H) → GELU → dense_prediction (H → 1) → a logit for "this token was replaced".
// dense_prediction is Glorot-uniform initialised, as the official code's tf.layers.dense default.
#include <optional>

#include "models/embeddings.hpp"
#include "models/encoder.hpp"

namespace electra {

class Discriminator {
 public:
  // Registers `discriminator.*` parameters (see models/embeddings.hpp for the scheme).
  Discriminator(ParameterFactory& factory, const ModelConfig& config,
                const SharedEmbeddings& embeddings);

  // input_ids, token_type_ids, attention_mask i32 [B, L] → logits [B, L].
  Var forward(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
              const Tensor& token_type_ids, const Tensor& attention_mask,
              const streams::DropoutContext& dropout) const;

 private:
  double hidden_dropout_;
  std::optional<Linear> embeddings_project_;  // E → H, absent when E = H
  Encoder encoder_;
  Linear prediction_dense_;       // discriminator_predictions.dense: H → H
  Linear prediction_output_;      // discriminator_predictions.dense_prediction: H → 1
};

}  // namespace electra
