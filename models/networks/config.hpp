#pragma once
// ModelConfig: every hyperparameter of one ELECTRA pre-training run (DESIGN §2), with the presets
// of the DESIGN table plus `mini` (the README's ~10-minute CPU demo). A JSON file overrides a
// preset key by key; unknown keys and impossible values are one-line electra::Error messages
// naming the key and the value.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "data/batch.hpp"

namespace electra {

// The sizes of one transformer encoder (the discriminator's, or the generator's narrower one).
struct EncoderDims {
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_heads = 0;
  std::int64_t intermediate_size = 0;
  bool operator==(const EncoderDims&) const = default;
};

struct ModelConfig {
  std::string preset = "small";  // which preset the other fields started from (informational)

  // ---- architecture
  std::int64_t vocab_size = 30522;  // replaced by the vocabulary's size when one is loaded
  std::int64_t hidden_size = 256;
  std::int64_t num_layers = 12;
  std::int64_t num_heads = 4;
  std::int64_t intermediate_size = 1024;
  std::int64_t embedding_size = 128;
  double generator_size = 0.25;  // generator hidden, heads and FFN = discriminator's × this
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double hidden_dropout = 0.1;     // embeddings and residual branches
  double attention_dropout = 0.1;  // attention probabilities
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;  // σ of the truncated normal (cut at ±2σ)

  // ---- objective
  std::string objective = "electra";  // a row of models/objectives/registry.cpp
  double mlm_weight = 1.0;            // total = mlm_weight·MLM + disc_weight·disc
  double disc_weight = 50.0;
  double temperature = 1.0;       // generator sampling temperature: softmax(logits / T)
  bool disallow_correct = false;  // subtract 1000 from the original id's logit before sampling
  // Hao et al. 2021 (docs/objectives.md, electra_hp). The focal γ applies to every objective's
  // generator; the hardness fields to electra_hp only.
  double generator_focal_gamma = 0.0;  // MLM loss w·−(1−p)^γ·log p; 0 = plain cross-entropy
  double hardness_weight = 1.0;        // total += hardness_weight · hardness head's BCE
  double hardness_epsilon = 0.05;      // sample from q ∝ p_G·(h + ε): p_G/q ≤ (1 + ε)/ε
  bool hardness_importance_correction = true;  // weight the disc loss at masked slots by p_G/q

  // GDES and the curriculum schedules (docs/objectives.md); the defaults are the paper, bit for
  // bit.
  std::string embedding_sharing = "tied";  // "tied" (ELECTRA) | "gdes": disc reads sg(E_G) + E_Δ
  double disc_weight_start = 0.0;          // λ goes linearly from this to disc_weight over
  std::int64_t disc_weight_ramp_updates = 0;  // the first N updates (0: disc_weight throughout)
  double temperature_start = 1.0;             // T goes linearly from this to temperature over
  std::int64_t temperature_ramp_updates = 0;  // the first N updates (0: temperature throughout)

  // ---- data and masking
  std::int64_t seq_len = 128;
  std::int64_t batch_size = 128;
  double mask_probability = 0.15;
  double mask_token_share = 0.85;    // of the chosen positions; the rest keep their token
  std::int64_t max_predictions = 0;  // 0 = derived: int((mask_probability + 0.005)·seq_len)

  // ---- optimisation (DESIGN §2 step 10)
  double learning_rate = 5e-4;
  std::int64_t num_train_steps = 1000000;
  std::int64_t warmup_steps = 10000;
  double weight_decay = 0.01;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-6;
  bool adam_bias_correction = false;
  double max_grad_norm = 1.0;

  // The discriminator's encoder sizes.
  EncoderDims discriminator_dims() const;
  // The generator's: hidden, heads and FFN × generator_size (rounded; heads at least 1), all
  // layers. With objective "mlm" the masked-LM network is the full-size encoder (see
  // ElectraModel: the BERT baseline gets the discriminator's budget).
  EncoderDims generator_dims() const;
  // Masked positions per sequence: max_predictions, or int((mask_probability + 0.005)·seq_len).
  std::int64_t predictions_per_sequence() const;
  // How data/masking.hpp masks batches for this config (training, inspection and the audit alike).
  MaskingSettings masking_settings(std::uint64_t seed) const;
  // Whether the objective builds the replaced-token discriminator (its table row says).
  bool has_discriminator() const;

  // Throws electra::Error naming the first impossible field ("num_heads = 3: hidden_size 64 is
  // not divisible by it"). Called by from_json and by the model's constructor.
  void validate() const;

  bool operator==(const ModelConfig&) const = default;
};

// The preset names, in size order: tiny, mini, small, base.
const std::vector<std::string>& model_preset_names();
// A preset by name; an unknown name is an error listing the known ones.
ModelConfig model_preset(const std::string& name);

nlohmann::json to_json(const ModelConfig& config);
// Starts from `base` (or, when the JSON has a "preset" key, from that preset) and overrides each
// key present. Unknown keys, wrong JSON types and impossible values throw naming the key.
ModelConfig model_config_from_json(const nlohmann::json& json,
                                   const ModelConfig& base = ModelConfig{});
// Reads a JSON file (see model_config_from_json); errors name the file.
ModelConfig load_model_config(const std::string& path, const ModelConfig& base = ModelConfig{});

}  // namespace electra
