#include "models/embeddings.hpp"

namespace electra {

SharedEmbeddings::SharedEmbeddings(ParameterFactory& factory, const ModelConfig& config)
    : embedding_size_(config.embedding_size),
      max_positions_(config.max_position_embeddings),
      type_vocab_size_(config.type_vocab_size) {
  const std::int64_t E = config.embedding_size;
  word_embeddings_ = factory.normal("electra.embeddings.word_embeddings.weight", {config.vocab_size, E});
  position_embeddings_ =
      factory.normal("electra.embeddings.position_embeddings.weight", {max_positions_, E});
  token_type_embeddings_ =
      factory.normal("electra.embeddings.token_type_embeddings.weight", {type_vocab_size_, E});
  layer_norm_ = LayerNorm::create(factory, "electra.embeddings.LayerNorm", E, config.layer_norm_eps);
}

Var SharedEmbeddings::forward(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
                              double dropout_probability,
                              const streams::DropoutContext& dropout) const {
  check_dtype("embeddings", input_ids, DType::i32);
  check_dtype("embeddings", token_type_ids, DType::i32);
  check(input_ids.rank() == 2, "embeddings: input_ids must be [batch, seq_len], got ",
        input_ids.shape().str());
  check_shape("embeddings", "token_type_ids", token_type_ids, input_ids.shape());
  const std::int64_t batch = input_ids.dim(0), length = input_ids.dim(1);
  check(length <= max_positions_, "embeddings: seq_len ", length,
        " exceeds max_position_embeddings ", max_positions_);

  // position_ids [B, L] = 0, 1, …, L−1 in every row: a lookup, so the position table's gradient
  // is the per-position sum over the batch.
  Tensor position_ids = Tensor::empty(input_ids.shape(), DType::i32);
  std::int32_t* positions = position_ids.data<std::int32_t>();
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < length; ++t) positions[b * length + t] = static_cast<std::int32_t>(t);
  position_ids = position_ids.to(input_ids.device());

  const Var words = ops::embedding(tape, word_embeddings_, input_ids);               // [B, L, E]
  const Var positions_embedded = ops::embedding(tape, position_embeddings_, position_ids);
  const Var types = ops::embedding(tape, token_type_embeddings_, token_type_ids);
  const Var summed = ops::add(tape, ops::add(tape, words, positions_embedded), types);
  const Var normalised = layer_norm_.forward(tape, summed);
  return ops::dropout(tape, normalised, dropout_probability,
                      dropout.key(streams::embedding_site), dropout.training);
}

}  // namespace electra
