#pragma once
// The shared embeddings (DESIGN §2 step 3): one set of word, position and token-type tables and
// one embedding LayerNorm, read by both the generator and the discriminator, stored once.
//
// Parameter naming scheme of the whole model (strip the network prefix to get HF's names, §4):
//   shared (stored once):
//     electra.embeddings.{word_embeddings,position_embeddings,token_type_embeddings}.weight
//     electra.embeddings.LayerNorm.{weight,bias}
//   generator (ElectraForMaskedLM after stripping `generator.`):
//     generator.electra.embeddings_project.{weight,bias}          (only when E ≠ H_g)
//     generator.electra.encoder.layer.{i}.…                         (see models/encoder.hpp)
//     generator.generator_predictions.{dense,LayerNorm}.{weight,bias}
//     generator.generator_lm_head.bias                (its weight IS the shared word embedding)
//   discriminator (ElectraForPreTraining after stripping `discriminator.`):
//     discriminator.electra.embeddings_project.{weight,bias}      (only when E ≠ H)
//     discriminator.electra.encoder.layer.{i}.…
//     discriminator.discriminator_predictions.{dense,dense_prediction}.{weight,bias}
#include "models/config.hpp"
#include "models/layers.hpp"
#include "models/random_streams.hpp"

namespace electra {

class SharedEmbeddings {
 public:
  SharedEmbeddings(ParameterFactory& factory, const ModelConfig& config);

  // input_ids, token_type_ids i32 [B, L] → LayerNorm(word + position + token type) [B, L, E],
  // then dropout drawn from the calling network's embedding site (each network drops
  // independently, as each official BertModel runs its own embedding post-processor).
  Var forward(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
              double dropout_probability, const streams::DropoutContext& dropout) const;

  const Var& word_embeddings() const { return word_embeddings_; }  // [V, E], tied to the MLM head
  std::int64_t embedding_size() const { return embedding_size_; }

 private:
  Var word_embeddings_;        // [V, E]
  Var position_embeddings_;    // [max_position_embeddings, E]
  Var token_type_embeddings_;  // [type_vocab_size, E]
  LayerNorm layer_norm_;       // over E
  std::int64_t embedding_size_;
  std::int64_t max_positions_;
  std::int64_t type_vocab_size_;
};

}  // namespace electra
