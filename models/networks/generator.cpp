#include "models/networks/generator.hpp"

namespace electra {

Generator::Generator(ParameterFactory& factory, const ModelConfig& config, const EncoderDims& dims,
                     const SharedEmbeddings& embeddings)
    // Members are built in state-dict order (projection, encoder, head), which is also the
    // registration order (the order of checkpoints and exports; the init is keyed by name).
    : hidden_dropout_(config.hidden_dropout),
      embeddings_project_(
          make_embeddings_project(factory, "generator", config.embedding_size, dims.hidden_size)),
      encoder_(factory, "generator.electra.encoder", dims, config),
      tied_word_embeddings_(embeddings.word_embeddings()) {
  const std::int64_t E = config.embedding_size;
  prediction_dense_ =
      Linear::create(factory, "generator.generator_predictions.dense", dims.hidden_size, E);
  prediction_norm_ = LayerNorm::create(factory, "generator.generator_predictions.LayerNorm", E,
                                       config.layer_norm_eps);
  output_bias_ = factory.zeros("generator.generator_lm_head.bias", {config.vocab_size});
}

Var Generator::forward(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
                       const Tensor& token_type_ids, const Tensor& attention_mask,
                       const Tensor& masked_rows, const streams::DropoutContext& dropout) const {
  return logits(tape, transformed(tape, embeddings, input_ids, token_type_ids, attention_mask,
                                  masked_rows, dropout));
}

Var Generator::transformed(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
                           const Tensor& token_type_ids, const Tensor& attention_mask,
                           const Tensor& masked_rows,
                           const streams::DropoutContext& dropout) const {
  Var hidden = embeddings.forward(tape, input_ids, token_type_ids, hidden_dropout_, dropout);
  if (embeddings_project_) hidden = embeddings_project_->forward(tape, hidden);  // [B, L, H_g]
  hidden = encoder_.forward(tape, hidden, attention_mask, dropout);

  // Only the masked positions go through the head: [K, H_g] → [K, E].
  const Var selected = ops::gather_rows(tape, hidden, masked_rows);
  return prediction_norm_.forward(tape, ops::gelu(tape, prediction_dense_.forward(tape, selected)));
}

// transformed [K, E] → logits [K, V] = transformed · W_wordᵀ + output_bias.
Var Generator::logits(Tape& tape, const Var& transformed) const {
  return ops::linear(tape, transformed, tied_word_embeddings_, output_bias_);
}

}  // namespace electra
