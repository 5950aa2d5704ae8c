#pragma once
// The BERT encoder (post-LN), as both ELECTRA networks use it (DESIGN §2):
//   x = LN(x + Dropout(W_o · SelfAttention(W_q x, W_k x, W_v x)))
//   x = LN(x + Dropout(W_2 · GELU(W_1 x)))
// W_q, W_k and W_v are applied as one product with their row-stacked [3H, H] weight.
// Parameter names under `<prefix>` (e.g. `discriminator.electra.encoder`), HF's:
//   layer.{i}.attention.self.{query,key,value}.{weight,bias}
//   layer.{i}.attention.output.{dense,LayerNorm}.{weight,bias}
//   layer.{i}.intermediate.dense.{weight,bias}
//   layer.{i}.output.{dense,LayerNorm}.{weight,bias}
#include <vector>

#include "models/networks/config.hpp"
#include "models/networks/layers.hpp"
#include "models/networks/random_streams.hpp"

namespace electra {

struct EncoderLayer {
  Linear query, key, value;  // [H, H] each
  Linear attention_output;   // [H, H]
  LayerNorm attention_norm;  // over H
  Linear intermediate;       // [FFN, H]
  Linear output;             // [H, FFN]
  LayerNorm output_norm;     // over H
};

class Encoder {
 public:
  Encoder(ParameterFactory& factory, const std::string& prefix, const EncoderDims& dims,
          const ModelConfig& config);

  // x [B, L, H], attention_mask i32 [B, L] (1 = token, 0 = padding) → [B, L, H].
  Var forward(Tape& tape, Var x, const Tensor& attention_mask,
              const streams::DropoutContext& dropout) const;

  const EncoderDims& dims() const { return dims_; }

 private:
  // key_mask: the additive [B, L] mask (ops::additive_key_mask) shared by every layer.
  Var layer_forward(Tape& tape, std::int64_t index, const Var& x, const Tensor& key_mask,
                    const streams::DropoutContext& dropout) const;

  EncoderDims dims_;
  double hidden_dropout_;
  double attention_dropout_;
  std::vector<EncoderLayer> layers_;
};

}  // namespace electra
