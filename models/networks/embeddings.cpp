#include "models/networks/embeddings.hpp"

namespace electra {

SharedEmbeddings::SharedEmbeddings(ParameterFactory& factory, const ModelConfig& config)
    : embedding_size_(config.embedding_size),
      max_positions_(config.max_position_embeddings),
      type_vocab_size_(config.type_vocab_size) {
  const std::int64_t E = config.embedding_size;
  word_embeddings_ =
      factory.normal("electra.embeddings.word_embeddings.weight", {config.vocab_size, E});
  position_embeddings_ =
      factory.normal("electra.embeddings.position_embeddings.weight", {max_positions_, E});
  token_type_embeddings_ =
      factory.normal("electra.embeddings.token_type_embeddings.weight", {type_vocab_size_, E});
  layer_norm_ =
      LayerNorm::create(factory, "electra.embeddings.LayerNorm", E, config.layer_norm_eps);
}

void SharedEmbeddings::add_discriminator_deltas(ParameterFactory& factory) {
  check(!has_discriminator_deltas(), "embeddings: the GDES deltas are already registered");
  // The tables' deltas are weight-decayed as the tables themselves (decay pulls E_D towards
  // sg(E_G)); the LayerNorm's are not, as LayerNorm parameters never are. The factory makes
  // zeros without decay only, so a decayed delta is drawn as a normal and then zeroed: E_Δ = 0
  // exactly, and E_D = E_G bit for bit at init.
  const auto zero_decayed = [&](const Var& shared) {
    Var delta = factory.normal(gdes_delta_name(shared.name()), shared.shape());
    kernels::copy(Tensor::zeros(shared.shape(), delta.value().dtype(), delta.value().device()),
                  delta.value());
    return delta;
  };
  word_delta_ = zero_decayed(word_embeddings_);
  position_delta_ = zero_decayed(position_embeddings_);
  token_type_delta_ = zero_decayed(token_type_embeddings_);
  layer_norm_weight_delta_ =
      factory.zeros(gdes_delta_name(layer_norm_.weight.name()), layer_norm_.weight.shape());
  layer_norm_bias_delta_ =
      factory.zeros(gdes_delta_name(layer_norm_.bias.name()), layer_norm_.bias.shape());
}

Var SharedEmbeddings::forward(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
                              double dropout_probability,
                              const streams::DropoutContext& dropout) const {
  return embed(tape, input_ids, token_type_ids, dropout_probability, dropout, false);
}

Var SharedEmbeddings::discriminator_forward(Tape& tape, const Tensor& input_ids,
                                            const Tensor& token_type_ids,
                                            double dropout_probability,
                                            const streams::DropoutContext& dropout) const {
  return embed(tape, input_ids, token_type_ids, dropout_probability, dropout,
               has_discriminator_deltas());
}

Var SharedEmbeddings::embed(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
                            double dropout_probability, const streams::DropoutContext& dropout,
                            bool discriminator) const {
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
    for (std::int64_t t = 0; t < length; ++t)
      positions[b * length + t] = static_cast<std::int32_t>(t);
  position_ids = position_ids.to(input_ids.device());

  // GDES: sg(E_G)[ids] + E_Δ[ids], the rows of sg(E_G) + E_Δ without building the [V, E] sum
  // (a lookup is linear: same values, same gradient into E_Δ).
  const auto lookup = [&](const Var& table, const Var& delta, const Tensor& ids) {
    if (!discriminator) return ops::embedding(tape, table, ids);
    return ops::add(tape, ops::embedding(tape, ops::stop_gradient(table), ids),
                    ops::embedding(tape, delta, ids));
  };
  const auto norm_parameter = [&](const Var& shared, const Var& delta) {
    return discriminator ? ops::add(tape, ops::stop_gradient(shared), delta) : shared;
  };
  const Var words = lookup(word_embeddings_, word_delta_, input_ids);  // [B, L, E]
  const Var positions_embedded = lookup(position_embeddings_, position_delta_, position_ids);
  const Var types = lookup(token_type_embeddings_, token_type_delta_, token_type_ids);
  const Var summed = ops::add(tape, ops::add(tape, words, positions_embedded), types);
  const Var normalised =
      ops::layer_norm(tape, summed, norm_parameter(layer_norm_.weight, layer_norm_weight_delta_),
                      norm_parameter(layer_norm_.bias, layer_norm_bias_delta_), layer_norm_.eps);
  return ops::dropout(tape, normalised, dropout_probability, dropout.key(streams::embedding_site),
                      dropout.training);
}

std::string gdes_delta_name(const std::string& shared_name) {
  const std::size_t last_dot = shared_name.rfind('.');
  check(shared_name.rfind("electra.embeddings.", 0) == 0 && last_dot != std::string::npos,
        "embeddings: '", shared_name, "' is not a shared embedding parameter");
  return "discriminator." + shared_name.substr(0, last_dot) + "_delta" +
         shared_name.substr(last_dot);
}

Tensor discriminator_embedding_value(const ParameterStore& store, const std::string& shared_name) {
  const Tensor& shared = store.get(shared_name).value();
  const std::string delta_name = gdes_delta_name(shared_name);
  if (!store.contains(delta_name)) return shared;
  Tensor sum = Tensor::empty(shared.shape(), shared.dtype(), shared.device());
  // E_G + E_Δ in this order, as the forward's add(sg(E_G)[ids], E_Δ[ids]): the same bits.
  kernels::add(shared, store.get(delta_name).value(), sum);
  return sum;
}

}  // namespace electra
