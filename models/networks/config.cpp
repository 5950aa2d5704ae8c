#include "models/networks/config.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <variant>

#include "engine/error.hpp"
#include "models/objectives/objective.hpp"

namespace electra {
namespace {

// One row per JSON key: to_json and from_json walk the same table, so they round-trip by
// construction and a new field is one line here.
using Member = std::variant<std::int64_t ModelConfig::*, double ModelConfig::*, bool ModelConfig::*,
                            std::string ModelConfig::*>;
struct Field {
  const char* key;
  Member member;
};

const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      {"preset", &ModelConfig::preset},
      {"vocab_size", &ModelConfig::vocab_size},
      {"hidden_size", &ModelConfig::hidden_size},
      {"num_layers", &ModelConfig::num_layers},
      {"num_heads", &ModelConfig::num_heads},
      {"intermediate_size", &ModelConfig::intermediate_size},
      {"embedding_size", &ModelConfig::embedding_size},
      {"generator_size", &ModelConfig::generator_size},
      {"max_position_embeddings", &ModelConfig::max_position_embeddings},
      {"type_vocab_size", &ModelConfig::type_vocab_size},
      {"hidden_dropout", &ModelConfig::hidden_dropout},
      {"attention_dropout", &ModelConfig::attention_dropout},
      {"layer_norm_eps", &ModelConfig::layer_norm_eps},
      {"initializer_range", &ModelConfig::initializer_range},
      {"objective", &ModelConfig::objective},
      {"mlm_weight", &ModelConfig::mlm_weight},
      {"disc_weight", &ModelConfig::disc_weight},
      {"temperature", &ModelConfig::temperature},
      {"disallow_correct", &ModelConfig::disallow_correct},
      {"generator_focal_gamma", &ModelConfig::generator_focal_gamma},  // Hao et al. 2021: from here
      {"hardness_weight", &ModelConfig::hardness_weight},
      {"hardness_epsilon", &ModelConfig::hardness_epsilon},
      {"hardness_importance_correction", &ModelConfig::hardness_importance_correction},  // to here
      {"embedding_sharing", &ModelConfig::embedding_sharing},  // GDES, curriculum: from here
      {"disc_weight_start", &ModelConfig::disc_weight_start},
      {"disc_weight_ramp_updates", &ModelConfig::disc_weight_ramp_updates},
      {"temperature_start", &ModelConfig::temperature_start},
      {"temperature_ramp_updates", &ModelConfig::temperature_ramp_updates},  // to here
      {"seq_len", &ModelConfig::seq_len},
      {"batch_size", &ModelConfig::batch_size},
      {"mask_probability", &ModelConfig::mask_probability},
      {"mask_token_share", &ModelConfig::mask_token_share},
      {"max_predictions", &ModelConfig::max_predictions},
      {"learning_rate", &ModelConfig::learning_rate},
      {"num_train_steps", &ModelConfig::num_train_steps},
      {"warmup_steps", &ModelConfig::warmup_steps},
      {"weight_decay", &ModelConfig::weight_decay},
      {"adam_beta1", &ModelConfig::adam_beta1},
      {"adam_beta2", &ModelConfig::adam_beta2},
      {"adam_epsilon", &ModelConfig::adam_epsilon},
      {"adam_bias_correction", &ModelConfig::adam_bias_correction},
      {"max_grad_norm", &ModelConfig::max_grad_norm},
  };
  return table;
}

// Generator sizes are rounded, not truncated: 768 × (1/3) must give 256 even when the product
// lands a hair below it in floating point.
std::int64_t scaled(std::int64_t size, double factor) {
  return static_cast<std::int64_t>(std::llround(static_cast<double>(size) * factor));
}

template <typename... Parts>
void require(bool condition, const Parts&... parts) {
  check(condition, "config: ", parts...);
}

void require_positive(const char* key, std::int64_t value) {
  require(value > 0, key, " = ", value, ": must be positive");
}

void require_probability(const char* key, double value) {
  require(value >= 0.0 && value < 1.0, key, " = ", value, ": must be in [0, 1)");
}

}  // namespace

EncoderDims ModelConfig::discriminator_dims() const {
  return {hidden_size, num_layers, num_heads, intermediate_size};
}

bool ModelConfig::has_discriminator() const {
  return find_objective(objective).networks.discriminator;
}

EncoderDims ModelConfig::generator_dims() const {
  if (find_objective(objective).networks.full_size_generator) return discriminator_dims();
  return {scaled(hidden_size, generator_size), num_layers,
          std::max<std::int64_t>(1, scaled(num_heads, generator_size)),
          scaled(intermediate_size, generator_size)};
}

MaskingSettings ModelConfig::masking_settings(std::uint64_t seed) const {
  MaskingSettings masking;
  masking.mask_probability = mask_probability;
  masking.max_predictions = predictions_per_sequence();
  masking.mask_token_share = mask_token_share;
  masking.seed = seed;
  return masking;
}

std::int64_t ModelConfig::predictions_per_sequence() const {
  if (max_predictions > 0) return max_predictions;
  // int((0.15 + 0.005) · L) as the official code; the epsilon keeps 0.155·200 = 31 from
  // truncating to 30 when the product is a hair below an integer.
  return static_cast<std::int64_t>((mask_probability + 0.005) * static_cast<double>(seq_len) +
                                   1e-9);
}

void ModelConfig::validate() const {
  require_positive("vocab_size", vocab_size);
  require_positive("hidden_size", hidden_size);
  require_positive("num_layers", num_layers);
  require_positive("num_heads", num_heads);
  require_positive("intermediate_size", intermediate_size);
  require_positive("embedding_size", embedding_size);
  require_positive("max_position_embeddings", max_position_embeddings);
  require_positive("type_vocab_size", type_vocab_size);
  require_positive("seq_len", seq_len);
  require_positive("batch_size", batch_size);
  require_positive("num_train_steps", num_train_steps);
  // Each network has 4096 dropout streams: the embeddings' and three per layer.
  require(num_layers <= 1365, "num_layers = ", num_layers, ": at most 1365 (dropout streams)");
  require(hidden_size % num_heads == 0, "num_heads = ", num_heads, ": hidden_size ", hidden_size,
          " is not divisible by it");
  require(generator_size > 0.0 && generator_size <= 1.0, "generator_size = ", generator_size,
          ": must be in (0, 1]");
  const EncoderDims generator = generator_dims();
  require(generator.hidden_size > 0 && generator.intermediate_size > 0,
          "generator_size = ", generator_size, ": gives a generator of hidden ",
          generator.hidden_size, " and FFN ", generator.intermediate_size);
  require(generator.hidden_size % generator.num_heads == 0, "generator_size = ", generator_size,
          ": generator hidden ", generator.hidden_size, " is not divisible by its ",
          generator.num_heads, " heads");
  require(seq_len <= max_position_embeddings, "seq_len = ", seq_len,
          ": exceeds max_position_embeddings ", max_position_embeddings);
  require_probability("hidden_dropout", hidden_dropout);
  require_probability("attention_dropout", attention_dropout);
  require(layer_norm_eps > 0.0, "layer_norm_eps = ", layer_norm_eps, ": must be positive");
  require(initializer_range > 0.0, "initializer_range = ", initializer_range, ": must be positive");
  find_objective(objective);  // an unknown name is an error listing the registered ones
  require(mlm_weight >= 0.0, "mlm_weight = ", mlm_weight, ": must be ≥ 0");
  require(disc_weight >= 0.0, "disc_weight = ", disc_weight, ": must be ≥ 0");
  require(temperature > 0.0, "temperature = ", temperature, ": must be positive");
  require(std::isfinite(generator_focal_gamma) && generator_focal_gamma >= 0.0,  // Hao et al.
          "generator_focal_gamma = ", generator_focal_gamma, ": must be finite and ≥ 0");
  require(std::isfinite(hardness_weight) && hardness_weight >= 0.0,
          "hardness_weight = ", hardness_weight, ": must be finite and ≥ 0");
  require(std::isfinite(hardness_epsilon) && hardness_epsilon > 0.0,
          "hardness_epsilon = ", hardness_epsilon, ": must be finite and positive");
  require(embedding_sharing == "tied" || embedding_sharing == "gdes",  // GDES, curriculum
          "embedding_sharing = '", embedding_sharing, "': must be 'tied' or 'gdes'");
  require(embedding_sharing == "tied" || has_discriminator(),
          "embedding_sharing = 'gdes': ", "objective '", objective,
          "' has no replaced-token discriminator to share with");
  require(std::isfinite(disc_weight_start) && disc_weight_start >= 0.0,
          "disc_weight_start = ", disc_weight_start, ": must be finite and ≥ 0");
  require(disc_weight_ramp_updates >= 0, "disc_weight_ramp_updates = ", disc_weight_ramp_updates,
          ": must be ≥ 0 (0 = no ramp)");
  require(std::isfinite(temperature_start) && temperature_start > 0.0,
          "temperature_start = ", temperature_start, ": must be finite and positive");
  require(temperature_ramp_updates >= 0, "temperature_ramp_updates = ", temperature_ramp_updates,
          ": must be ≥ 0 (0 = no ramp)");
  require(mask_probability > 0.0 && mask_probability <= 1.0,
          "mask_probability = ", mask_probability, ": must be in (0, 1]");
  require(mask_token_share >= 0.0 && mask_token_share <= 1.0,
          "mask_token_share = ", mask_token_share, ": must be in [0, 1]");
  require(max_predictions >= 0 && max_predictions <= seq_len, "max_predictions = ", max_predictions,
          ": must be in [0, seq_len ", seq_len, "] (0 = derived)");
  require(predictions_per_sequence() >= 1, "mask_probability = ", mask_probability,
          ": gives no masked position at seq_len ", seq_len);
  require(learning_rate > 0.0, "learning_rate = ", learning_rate, ": must be positive");
  require(warmup_steps >= 0, "warmup_steps = ", warmup_steps, ": must be ≥ 0");
  require(weight_decay >= 0.0, "weight_decay = ", weight_decay, ": must be ≥ 0");
  require_probability("adam_beta1", adam_beta1);
  require_probability("adam_beta2", adam_beta2);
  require(adam_epsilon > 0.0, "adam_epsilon = ", adam_epsilon, ": must be positive");
  require(max_grad_norm > 0.0, "max_grad_norm = ", max_grad_norm, ": must be positive");
}

const std::vector<std::string>& model_preset_names() {
  static const std::vector<std::string> names = {"tiny", "mini", "small", "base"};
  return names;
}

ModelConfig model_preset(const std::string& name) {
  ModelConfig config;  // the defaults are ELECTRA-Small
  config.preset = name;
  if (name == "small") return config;
  if (name == "tiny") {  // unit tests: a full step in milliseconds
    config.num_layers = 2;
    config.hidden_size = 64;
    config.num_heads = 2;
    config.intermediate_size = 256;
    config.embedding_size = 32;
    config.generator_size = 0.5;
    config.seq_len = 64;
    config.batch_size = 8;
    config.learning_rate = 1e-3;
    config.num_train_steps = 1000;
    config.warmup_steps = 100;
    return config;
  }
  if (name == "mini") {  // the README's ~10-minute CPU demo: learns visibly in a few hundred steps
    config.num_layers = 4;
    config.hidden_size = 128;
    config.num_heads = 2;
    config.intermediate_size = 512;
    config.embedding_size = 128;
    config.generator_size = 0.25;  // generator: hidden 32, 1 head, FFN 128
    config.seq_len = 128;
    config.batch_size = 32;
    config.learning_rate = 1e-3;
    // The whole schedule (warm-up, then linear decay to 0) in ~10 minutes on 2 cores at ~5k
    // tokens/s: the README's main job ends where its learning rate does.
    config.num_train_steps = 800;
    config.warmup_steps = 80;
    return config;
  }
  if (name == "base") {
    config.num_layers = 12;
    config.hidden_size = 768;
    config.num_heads = 12;
    config.intermediate_size = 3072;
    config.embedding_size = 768;
    config.generator_size = 1.0 / 3.0;
    config.seq_len = 512;
    config.batch_size = 256;
    config.learning_rate = 2e-4;
    config.num_train_steps = 766000;
    config.warmup_steps = 10000;
    return config;
  }
  std::string known;
  for (const std::string& preset : model_preset_names())
    known += (known.empty() ? "" : ", ") + preset;
  throw_error("config: unknown preset '", name, "' (known: ", known, ")");
}

nlohmann::json to_json(const ModelConfig& config) {
  nlohmann::json json = nlohmann::json::object();
  for (const Field& field : fields())
    std::visit([&](auto member) { json[field.key] = config.*member; }, field.member);
  return json;
}

ModelConfig model_config_from_json(const nlohmann::json& json, const ModelConfig& base) {
  check(json.is_object(), "config: expected a JSON object, got ", json.type_name());
  ModelConfig config = base;
  if (json.contains("preset")) {
    check(json["preset"].is_string(), "config: preset = ", json["preset"].dump(),
          ": must be a string");
    config = model_preset(json["preset"].get<std::string>());
  }
  for (const auto& [key, value] : json.items()) {
    const Field* found = nullptr;
    for (const Field& field : fields())
      if (key == field.key) found = &field;
    check(found != nullptr, "config: unknown key '", key, "'");
    std::visit(
        [&, &key = key, &value = value](auto member) {
          using T = std::remove_reference_t<decltype(config.*member)>;
          bool type_ok = false;
          if constexpr (std::is_same_v<T, std::int64_t>) type_ok = value.is_number_integer();
          if constexpr (std::is_same_v<T, double>) type_ok = value.is_number();
          if constexpr (std::is_same_v<T, bool>) type_ok = value.is_boolean();
          if constexpr (std::is_same_v<T, std::string>) type_ok = value.is_string();
          const char* expected = std::is_same_v<T, std::int64_t> ? "an integer"
                                 : std::is_same_v<T, double>     ? "a number"
                                 : std::is_same_v<T, bool>       ? "true or false"
                                                                 : "a string";
          check(type_ok, "config: ", key, " = ", value.dump(), ": must be ", expected);
          config.*member = value.template get<T>();
        },
        found->member);
  }
  config.validate();
  return config;
}

ModelConfig load_model_config(const std::string& path, const ModelConfig& base) {
  std::ifstream file(path);
  check(file.good(), "config: cannot open '", path, "'");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    throw_error("config: ", path, " is not valid JSON: ", error.what());
  }
  try {
    return model_config_from_json(json, base);
  } catch (const Error& error) {
    throw_error(path, ": ", error.what());
  }
}

}  // namespace electra
