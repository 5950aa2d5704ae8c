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
//     generator.electra.encoder.layer.{i}.…                         (see
//     models/networks/encoder.hpp) generator.generator_predictions.{dense,LayerNorm}.{weight,bias}
//     generator.generator_lm_head.bias                (its weight IS the shared word embedding)
//   discriminator (ElectraForPreTraining after stripping `discriminator.`):
//     discriminator.electra.embeddings_project.{weight,bias}      (only when E ≠ H)
//     discriminator.electra.encoder.layer.{i}.…
//     discriminator.discriminator_predictions.{dense,dense_prediction}.{weight,bias}
//   GDES only (embedding_sharing "gdes"; registered last, after every other parameter):
//     discriminator.electra.embeddings.{word,position,token_type}_embeddings_delta.weight
//     discriminator.electra.embeddings.LayerNorm_delta.{weight,bias}
//
// GDES (DeBERTaV3, He et al. 2021; docs/objectives.md): the discriminator reads every shared
// tensor as E_D = stop_gradient(E_G) + E_Δ with E_Δ zero at init, so its loss trains E_Δ and
// never E_G; the generator reads E_G as before. The HF export and fine-tuning take E_G + E_Δ.
#include <string>

#include "autograd/parameter_store.hpp"
#include "models/networks/config.hpp"
#include "models/networks/layers.hpp"
#include "models/networks/random_streams.hpp"

namespace electra {

class SharedEmbeddings {
 public:
  SharedEmbeddings(ParameterFactory& factory, const ModelConfig& config);

  // input_ids, token_type_ids i32 [B, L] → LayerNorm(word + position + token type) [B, L, E],
  // then dropout drawn from the calling network's embedding site (each network drops
  // independently, as each official BertModel runs its own embedding post-processor).
  Var forward(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
              double dropout_probability, const streams::DropoutContext& dropout) const;

  // GDES: registers the zero deltas E_Δ (names above). ElectraModel calls it after every other
  // parameter, so their registration indices, hence their Philox init streams, do not move.
  void add_discriminator_deltas(ParameterFactory& factory);
  bool has_discriminator_deltas() const { return word_delta_.defined(); }
  // What the discriminator reads: forward with stop_gradient(E_G) + E_Δ in place of each shared
  // tensor when the deltas exist, else exactly forward.
  Var discriminator_forward(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
                            double dropout_probability,
                            const streams::DropoutContext& dropout) const;

  const Var& word_embeddings() const { return word_embeddings_; }  // [V, E], tied to the MLM head
  std::int64_t embedding_size() const { return embedding_size_; }

 private:
  // The sequence of forward: lookups, sum, LayerNorm(γ, β), dropout.
  Var embed(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
            double dropout_probability, const streams::DropoutContext& dropout,
            bool discriminator) const;

  Var word_embeddings_;        // [V, E]
  Var position_embeddings_;    // [max_position_embeddings, E]
  Var token_type_embeddings_;  // [type_vocab_size, E]
  LayerNorm layer_norm_;       // over E
  // GDES deltas (undefined unless add_discriminator_deltas ran), shaped as the tensor they correct.
  Var word_delta_, position_delta_, token_type_delta_, layer_norm_weight_delta_,
      layer_norm_bias_delta_;
  std::int64_t embedding_size_;
  std::int64_t max_positions_;
  std::int64_t type_vocab_size_;
};

// GDES: the delta's parameter name for a shared one ("electra.embeddings.word_embeddings.weight"
// → "discriminator.electra.embeddings.word_embeddings_delta.weight").
std::string gdes_delta_name(const std::string& shared_name);
// The discriminator's value of a shared embedding tensor: E_G + E_Δ (one addition, the very
// value its forward reads) when `store` holds the delta, else E_G itself. For the HF export and
// fine-tuning from a checkpoint, where the discriminator goes on as a plain ELECTRA.
Tensor discriminator_embedding_value(const ParameterStore& store, const std::string& shared_name);

}  // namespace electra
