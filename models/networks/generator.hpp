#pragma once
// The generator: a narrower masked-LM network reading the shared embeddings (DESIGN §2 steps 3–4).
//   masked ids → shared embeddings [B, L, E] → embeddings_project (E → H_g, when E ≠ H_g)
//   → encoder [B, L, H_g] → rows at the masked positions [K, H_g] → dense (H_g → E) → GELU
//   → LayerNorm(E) → logits [K, V] = h · W_wordᵀ + output_bias
// The output projection is the shared word embedding Var itself (tied), so its gradient is the
// sum of the input-side and output-side contributions.
#include <optional>

#include "models/networks/embeddings.hpp"
#include "models/networks/encoder.hpp"

namespace electra {

class Generator {
 public:
  // Registers `generator.*` parameters (see models/networks/embeddings.hpp for the scheme).
  Generator(ParameterFactory& factory, const ModelConfig& config, const EncoderDims& dims,
            const SharedEmbeddings& embeddings);

  // input_ids, token_type_ids, attention_mask i32 [B, L]; masked_rows i32 [K]: flat indices
  // b·L + position of the positions to predict → logits [K, V].
  Var forward(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
              const Tensor& token_type_ids, const Tensor& attention_mask, const Tensor& masked_rows,
              const streams::DropoutContext& dropout) const;
  // forward in two halves, for heads that read the generator's state (objective electra_hp):
  // the transformed hidden state at masked_rows, LayerNorm(GELU(dense(h))) [K, E], and the
  // logits [K, V] from it. logits(transformed(…)) is forward, node for node.
  Var transformed(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
                  const Tensor& token_type_ids, const Tensor& attention_mask,
                  const Tensor& masked_rows, const streams::DropoutContext& dropout) const;
  Var logits(Tape& tape, const Var& transformed) const;

 private:
  double hidden_dropout_;
  std::optional<Linear> embeddings_project_;  // E → H_g, absent when E = H_g
  Encoder encoder_;
  Linear prediction_dense_;    // generator_predictions.dense: H_g → E
  LayerNorm prediction_norm_;  // generator_predictions.LayerNorm over E
  Var output_bias_;            // generator_lm_head.bias [V]
  Var tied_word_embeddings_;   // the shared word embedding Var [V, E]
};

}  // namespace electra
