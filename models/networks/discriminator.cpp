#include "models/networks/discriminator.hpp"

namespace electra {

Discriminator::Discriminator(ParameterFactory& factory, const ModelConfig& config,
                             const SharedEmbeddings& embeddings, Head head)
    // Members are built in state-dict order (projection, encoder, head).
    : hidden_dropout_(config.hidden_dropout),
      embeddings_project_(make_embeddings_project(factory, "discriminator",
                                                  embeddings.embedding_size(), config.hidden_size)),
      encoder_(factory, "discriminator.electra.encoder", config.discriminator_dims(), config) {
  if (head == Head::none) return;
  const std::int64_t H = config.hidden_size;
  prediction_dense_ =
      Linear::create(factory, "discriminator.discriminator_predictions.dense", H, H);
  prediction_output_ =
      Linear::create(factory, "discriminator.discriminator_predictions.dense_prediction", H, 1,
                     Linear::Init::glorot_uniform);
}

Var Discriminator::encode(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
                          const Tensor& token_type_ids, const Tensor& attention_mask,
                          const streams::DropoutContext& dropout) const {
  // With GDES deltas: stop_gradient(E_G) + E_Δ (models/networks/embeddings.hpp).
  Var hidden =
      embeddings.discriminator_forward(tape, input_ids, token_type_ids, hidden_dropout_, dropout);
  if (embeddings_project_) hidden = embeddings_project_->forward(tape, hidden);  // [B, L, H]
  return encoder_.forward(tape, hidden, attention_mask, dropout);
}

Var Discriminator::forward(Tape& tape, const SharedEmbeddings& embeddings, const Tensor& input_ids,
                           const Tensor& token_type_ids, const Tensor& attention_mask,
                           const streams::DropoutContext& dropout) const {
  check(prediction_dense_.has_value(), "Discriminator: built without its replaced-token head");
  const Var hidden =
      encode(tape, embeddings, input_ids, token_type_ids, attention_mask, dropout);   // [B, L, H]
  const Var transformed = ops::gelu(tape, prediction_dense_->forward(tape, hidden));  // [B, L, H]
  const Var logits = prediction_output_->forward(tape, transformed);                  // [B, L, 1]
  return ops::reshape(tape, logits, {input_ids.dim(0), input_ids.dim(1)});
}

}  // namespace electra
