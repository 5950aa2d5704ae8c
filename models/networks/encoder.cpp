#include "models/networks/encoder.hpp"

namespace electra {

Encoder::Encoder(ParameterFactory& factory, const std::string& prefix, const EncoderDims& dims,
                 const ModelConfig& config)
    : dims_(dims),
      hidden_dropout_(config.hidden_dropout),
      attention_dropout_(config.attention_dropout) {
  const std::int64_t H = dims.hidden_size, FFN = dims.intermediate_size;
  const double eps = config.layer_norm_eps;
  for (std::int64_t i = 0; i < dims.num_layers; ++i) {
    const std::string layer = prefix + ".layer." + std::to_string(i);
    EncoderLayer weights;
    weights.query = Linear::create(factory, layer + ".attention.self.query", H, H);
    weights.key = Linear::create(factory, layer + ".attention.self.key", H, H);
    weights.value = Linear::create(factory, layer + ".attention.self.value", H, H);
    weights.attention_output = Linear::create(factory, layer + ".attention.output.dense", H, H);
    weights.attention_norm =
        LayerNorm::create(factory, layer + ".attention.output.LayerNorm", H, eps);
    weights.intermediate = Linear::create(factory, layer + ".intermediate.dense", H, FFN);
    weights.output = Linear::create(factory, layer + ".output.dense", FFN, H);
    weights.output_norm = LayerNorm::create(factory, layer + ".output.LayerNorm", H, eps);
    layers_.push_back(std::move(weights));
  }
}

Var Encoder::forward(Tape& tape, Var x, const Tensor& attention_mask,
                     const streams::DropoutContext& dropout) const {
  check(x.shape().rank() == 3 && x.shape()[2] == dims_.hidden_size,
        "encoder: input must be "
        "[batch, seq_len, ",
        dims_.hidden_size, "], got ", x.shape().str());
  // One additive key mask for every layer (its 0/1 check reads the mask on the host).
  const Tensor key_mask = ops::additive_key_mask(attention_mask, x.value().dtype());
  for (std::int64_t i = 0; i < dims_.num_layers; ++i)
    x = layer_forward(tape, i, x, key_mask, dropout);
  return x;
}

// x [B, L, H] → [B, L, H]
Var Encoder::layer_forward(Tape& tape, std::int64_t index, const Var& x, const Tensor& key_mask,
                           const streams::DropoutContext& dropout) const {
  const EncoderLayer& layer = layers_[index];
  const bool training = dropout.training;

  // Self-attention: one product x [B, L, H] · [Wq; Wk; Wv]ᵀ → qkv [B, L, 3H] instead of three
  // (one pass over x, one bigger GEMM), then context [B, L, H] (heads read in place by the fused
  // op). The [3H, H] weight and [3H] bias are stacked from the three parameters every step, so
  // parameter names, checkpoints and the HF export keep the separate query/key/value tensors;
  // concat_rows' backward hands each its row block of the gradient.
  const Var qkv_weight =
      ops::concat_rows(tape, {layer.query.weight, layer.key.weight, layer.value.weight});
  const Var qkv_bias = ops::concat_rows(tape, {layer.query.bias, layer.key.bias, layer.value.bias});
  const Var qkv = ops::linear(tape, x, qkv_weight, qkv_bias);
  const Var context =
      ops::self_attention(tape, qkv, key_mask, dims_.num_heads, attention_dropout_,
                          dropout.key(streams::attention_probs_site(index)), training);
  const Var attended =
      ops::dropout(tape, layer.attention_output.forward(tape, context), hidden_dropout_,
                   dropout.key(streams::attention_output_site(index)), training);
  const Var after_attention = layer.attention_norm.forward(tape, ops::add(tape, x, attended));

  // Feed-forward: [B, L, H] → [B, L, FFN] → [B, L, H].
  const Var expanded = ops::gelu(tape, layer.intermediate.forward(tape, after_attention));
  const Var contracted = ops::dropout(tape, layer.output.forward(tape, expanded), hidden_dropout_,
                                      dropout.key(streams::ffn_output_site(index)), training);
  return layer.output_norm.forward(tape, ops::add(tape, after_attention, contracted));
}

}  // namespace electra
