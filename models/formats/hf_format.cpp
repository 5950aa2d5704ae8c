// Hugging Face directories: see hf_format.hpp.
#include "models/formats/hf_format.hpp"

#include <cmath>
#include <fstream>

#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/formats/safetensors.hpp"
#include "models/networks/embeddings.hpp"
#include "models/objectives/objective.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

constexpr const char* config_file = "config.json";
constexpr const char* weights_file = "model.safetensors";
// Our whole ModelConfig rides along in config.json, so an export → import round trip restores
// the training hyperparameters too (transformers keeps unknown keys as attributes).
constexpr const char* electra_cpp_key = "electra_cpp_config";

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

ModelConfig with_dims(ModelConfig config, const EncoderDims& dims) {
  config.hidden_size = dims.hidden_size;
  config.num_layers = dims.num_layers;
  config.num_heads = dims.num_heads;
  config.intermediate_size = dims.intermediate_size;
  return config;
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  check(file.good(), "hf: cannot write ", path.string());
}

// GDES (embedding_sharing "gdes"): the discriminator reads sg(E_G) + E_Δ, so its exported
// embeddings are E_G + E_Δ (the very values its forward read) and the deltas themselves are not
// written: the directory is a plain ElectraForPreTraining. A tied model passes unchanged.
std::vector<std::pair<std::string, Tensor>> folded_gdes_embeddings(
    const ParameterStore& parameters, std::vector<std::pair<std::string, Tensor>> tensors) {
  std::vector<std::pair<std::string, Tensor>> folded;
  for (auto& [name, tensor] : tensors) {
    if (!starts_with(name, "electra.embeddings.")) {
      folded.push_back({name, tensor});
    } else if (parameters.contains(
                   name)) {  // a shared tensor, not a delta (stripped of its prefix)
      folded.push_back({name, discriminator_embedding_value(parameters, name)});
    }
  }
  return folded;
}

}  // namespace

const Tensor& HfModel::at(const std::string& name) const {
  const auto found = tensors.find(name);
  check(found != tensors.end(), "hf: ", directory.string(), ": no tensor '", name, "'");
  return found->second;
}

nlohmann::ordered_json hf_config_json(const ModelConfig& config, const std::string& architecture) {
  nlohmann::ordered_json json;
  json["architectures"] = {architecture};
  json["model_type"] = "electra";
  json["vocab_size"] = config.vocab_size;
  json["embedding_size"] = config.embedding_size;
  json["hidden_size"] = config.hidden_size;
  json["num_hidden_layers"] = config.num_layers;
  json["num_attention_heads"] = config.num_heads;
  json["intermediate_size"] = config.intermediate_size;
  json["hidden_act"] = "gelu";
  json["hidden_dropout_prob"] = config.hidden_dropout;
  json["attention_probs_dropout_prob"] = config.attention_dropout;
  json["max_position_embeddings"] = config.max_position_embeddings;
  json["type_vocab_size"] = config.type_vocab_size;
  json["initializer_range"] = config.initializer_range;
  json["layer_norm_eps"] = config.layer_norm_eps;
  json["pad_token_id"] = 0;
  json["position_embedding_type"] = "absolute";
  json["summary_type"] = "first";
  json["summary_use_proj"] = true;
  json["summary_activation"] = "gelu";
  json["summary_last_dropout"] = 0.1;
  json["torch_dtype"] = "float32";
  return json;
}

ModelConfig model_config_from_hf(const nlohmann::json& json, const std::string& source) {
  check(json.is_object(), "hf: ", source, ": expected a JSON object");
  if (json.contains("model_type"))
    check(json["model_type"] == "electra", "hf: ", source, ": model_type ",
          json["model_type"].dump(), " is not \"electra\"");
  if (json.contains("hidden_act"))
    check(json["hidden_act"] == "gelu", "hf: ", source, ": hidden_act ", json["hidden_act"].dump(),
          " (only \"gelu\" is supported)");
  if (json.contains("position_embedding_type"))
    check(json["position_embedding_type"] == "absolute", "hf: ", source,
          ": position_embedding_type ", json["position_embedding_type"].dump(),
          " (only \"absolute\" is supported)");
  ModelConfig config = model_preset("small");  // ElectraConfig's defaults are ELECTRA-Small's
  config.preset = "hf";
  config.generator_size = 1.0;  // one network; pretraining_config_from_hf sets the real ratio
  auto integer = [&](const char* key, std::int64_t& field) {
    if (!json.contains(key)) return;
    check(json[key].is_number_integer(), "hf: ", source, ": ", key, " = ", json[key].dump(),
          " is not an integer");
    field = json[key].get<std::int64_t>();
  };
  auto real = [&](const char* key, double& field) {
    if (!json.contains(key) || json[key].is_null()) return;
    check(json[key].is_number(), "hf: ", source, ": ", key, " = ", json[key].dump(),
          " is not a number");
    field = json[key].get<double>();
  };
  integer("vocab_size", config.vocab_size);
  integer("embedding_size", config.embedding_size);
  integer("hidden_size", config.hidden_size);
  integer("num_hidden_layers", config.num_layers);
  integer("num_attention_heads", config.num_heads);
  integer("intermediate_size", config.intermediate_size);
  integer("max_position_embeddings", config.max_position_embeddings);
  integer("type_vocab_size", config.type_vocab_size);
  real("hidden_dropout_prob", config.hidden_dropout);
  real("attention_probs_dropout_prob", config.attention_dropout);
  real("initializer_range", config.initializer_range);
  real("layer_norm_eps", config.layer_norm_eps);
  config.seq_len = std::min<std::int64_t>(config.seq_len, config.max_position_embeddings);
  try {
    config.validate();
  } catch (const Error& error) {
    throw_error("hf: ", source, ": ", error.what());
  }
  return config;
}

std::vector<std::pair<std::string, Shape>> hf_expected_tensors(const ModelConfig& config,
                                                               const std::string& architecture,
                                                               std::int64_t num_labels) {
  const std::int64_t V = config.vocab_size, E = config.embedding_size, H = config.hidden_size;
  const std::int64_t FFN = config.intermediate_size;
  std::vector<std::pair<std::string, Shape>> names;
  auto linear = [&](const std::string& prefix, std::int64_t in, std::int64_t out) {
    names.push_back({prefix + ".weight", {out, in}});
    names.push_back({prefix + ".bias", {out}});
  };
  auto norm = [&](const std::string& prefix, std::int64_t size) {
    names.push_back({prefix + ".weight", {size}});
    names.push_back({prefix + ".bias", {size}});
  };
  names.push_back({"electra.embeddings.word_embeddings.weight", {V, E}});
  names.push_back(
      {"electra.embeddings.position_embeddings.weight", {config.max_position_embeddings, E}});
  names.push_back({"electra.embeddings.token_type_embeddings.weight", {config.type_vocab_size, E}});
  norm("electra.embeddings.LayerNorm", E);
  if (E != H) linear("electra.embeddings_project", E, H);
  for (std::int64_t i = 0; i < config.num_layers; ++i) {
    const std::string layer = "electra.encoder.layer." + std::to_string(i);
    linear(layer + ".attention.self.query", H, H);
    linear(layer + ".attention.self.key", H, H);
    linear(layer + ".attention.self.value", H, H);
    linear(layer + ".attention.output.dense", H, H);
    norm(layer + ".attention.output.LayerNorm", H);
    linear(layer + ".intermediate.dense", H, FFN);
    linear(layer + ".output.dense", FFN, H);
    norm(layer + ".output.LayerNorm", H);
  }
  if (architecture == hf_pretraining_architecture) {
    linear("discriminator_predictions.dense", H, H);
    linear("discriminator_predictions.dense_prediction", H, 1);
  } else if (architecture == hf_masked_lm_architecture) {
    linear("generator_predictions.dense", H, E);
    norm("generator_predictions.LayerNorm", E);
    linear("generator_lm_head", E, V);
  } else if (architecture == hf_classification_architecture) {
    check(num_labels >= 1, "hf: ", architecture, " needs num_labels ≥ 1, got ", num_labels);
    linear("classifier.dense", H, H);
    linear("classifier.out_proj", H, num_labels);
  } else {
    check(architecture == hf_base_architecture, "hf: unsupported architecture '", architecture,
          "' (supported: ", hf_pretraining_architecture, ", ", hf_masked_lm_architecture, ", ",
          hf_classification_architecture, ", ", hf_base_architecture, ")");
  }
  return names;
}

HfModel load_hf_model(const fs::path& directory) {
  HfModel model;
  model.directory = directory;
  const std::string where = directory.string();
  check(fs::is_directory(directory), "hf: ", where, ": no such directory");
  const fs::path config_path = directory / config_file, weights_path = directory / weights_file;
  check(fs::is_regular_file(config_path), "hf: ", where, ": no ", config_file);
  check(fs::is_regular_file(weights_path), "hf: ", where, ": no ", weights_file,
        fs::exists(directory / "pytorch_model.bin")
            ? " (only pytorch_model.bin: save it with safe_serialization=True)"
            : "");
  try {
    model.config_json = nlohmann::json::parse(read_file_bytes(config_path.string()));
  } catch (const nlohmann::json::exception& error) {
    throw_error("hf: ", config_path.string(), ": invalid JSON (", error.what(), ")");
  }
  model.config = model_config_from_hf(model.config_json, config_path.string());
  SafetensorsContents contents = load_safetensors(weights_path.string());

  // ElectraModel files name the body without the `electra.` prefix.
  std::map<std::string, Tensor> stored;
  bool has_prefix = false;
  for (const NamedTensor& entry : contents.tensors)
    has_prefix = has_prefix || starts_with(entry.name, "electra.");
  for (NamedTensor& entry : contents.tensors)
    stored[has_prefix ||
                   (!starts_with(entry.name, "embeddings") && !starts_with(entry.name, "encoder."))
               ? entry.name
               : "electra." + entry.name] = entry.tensor;

  const nlohmann::json& architectures =
      model.config_json.value("architectures", nlohmann::json::array());
  if (architectures.is_array() && !architectures.empty() && architectures[0].is_string()) {
    model.architecture = architectures[0].get<std::string>();
  } else if (stored.count("discriminator_predictions.dense.weight")) {
    model.architecture = hf_pretraining_architecture;
  } else if (stored.count("generator_predictions.dense.weight")) {
    model.architecture = hf_masked_lm_architecture;
  } else if (stored.count("classifier.out_proj.weight")) {
    model.architecture = hf_classification_architecture;
  } else {
    model.architecture = hf_base_architecture;
  }
  if (model.architecture == hf_classification_architecture) {
    if (model.config_json.contains("id2label") && model.config_json["id2label"].is_object())
      model.num_labels = static_cast<std::int64_t>(model.config_json["id2label"].size());
    else if (model.config_json.contains("num_labels") &&
             model.config_json["num_labels"].is_number_integer())
      model.num_labels = model.config_json["num_labels"].get<std::int64_t>();
    else
      model.num_labels = 2;  // ElectraConfig's default
  }

  for (const auto& [name, shape] :
       hf_expected_tensors(model.config, model.architecture, model.num_labels)) {
    auto found = stored.find(name);
    if (found == stored.end() && name == "generator_lm_head.weight") {
      // Tied to the word embeddings; transformers may leave it out of the file.
      model.tensors[name] = model.tensors.at("electra.embeddings.word_embeddings.weight");
      continue;
    }
    check(found != stored.end(), "hf: ", weights_path.string(), ": missing tensor '", name, "' (",
          model.architecture, " needs it)");
    const Tensor& tensor = found->second;
    check(tensor.dtype() == DType::f32, "hf: ", weights_path.string(), ": tensor '", name, "' is ",
          dtype_name(tensor.dtype()), ", expected f32");
    check(tensor.shape() == shape, "hf: ", weights_path.string(), ": tensor '", name,
          "' has shape ", tensor.shape().str(), " but ", config_file, " implies ", shape.str());
    model.tensors[name] = tensor;
  }
  if (fs::is_regular_file(directory / "vocab.txt")) model.vocab_path = directory / "vocab.txt";
  return model;
}

void save_hf_model(const fs::path& directory,
                   const std::vector<std::pair<std::string, Tensor>>& tensors,
                   const nlohmann::ordered_json& config_json, const std::string& vocab_path) {
  fs::create_directories(directory);
  std::vector<NamedTensor> named;
  for (const auto& [name, tensor] : tensors) named.push_back({name, tensor});
  save_safetensors((directory / weights_file).string(), named, {{"format", "pt"}});
  write_text_file(directory / config_file, config_json.dump(2) + "\n");
  if (!vocab_path.empty()) {
    check(fs::is_regular_file(vocab_path), "hf: vocabulary ", vocab_path, ": no such file");
    const fs::path target = directory / "vocab.txt";
    std::error_code error;
    if (!fs::exists(target) || !fs::equivalent(vocab_path, target, error))
      fs::copy_file(vocab_path, target, fs::copy_options::overwrite_existing);
  }
}

HfExport export_pretraining_to_hf(const ParameterStore& parameters, const ModelConfig& config,
                                  const fs::path& out, const std::string& vocab_path) {
  const ObjectiveSpec& objective = find_objective(config.objective);
  // The `discriminator.` network is ElectraForPreTraining when the row exports one, or the
  // masked-LM main network of replace_mlm / all_tokens_mlm (ElectraForMaskedLM), recognised by
  // its LM head.
  bool has_discriminator_network = false, main_is_masked_lm = false;
  for (const Parameter& parameter : parameters.parameters()) {
    has_discriminator_network =
        has_discriminator_network || starts_with(parameter.name, "discriminator.");
    main_is_masked_lm =
        main_is_masked_lm || parameter.name == "discriminator.generator_lm_head.bias";
  }
  check(!has_discriminator_network || objective.exports_discriminator || main_is_masked_lm,
        "export: objective '", config.objective,
        "' has discriminator.* parameters but exports no network for them");
  std::vector<std::pair<std::string, Tensor>> discriminator, generator;
  std::vector<std::string> left_out;
  const Tensor word_embeddings =
      parameters.get("electra.embeddings.word_embeddings.weight").value();
  for (const Parameter& parameter : parameters.parameters()) {
    const std::string& name = parameter.name;
    const Tensor& value = parameter.var.value();
    if (starts_with(name, "electra.embeddings.")) {
      discriminator.push_back({name, value});
      generator.push_back({name, value});
    } else if (starts_with(name, "discriminator.")) {
      const std::string hf_name = name.substr(std::string("discriminator.").size());
      if (main_is_masked_lm && starts_with(hf_name, "copy_prediction.")) {
        left_out.push_back(name);  // all_tokens_mlm's copy head: ElectraForMaskedLM has none
        continue;
      }
      if (main_is_masked_lm && hf_name == "generator_lm_head.bias")
        discriminator.push_back({"generator_lm_head.weight", word_embeddings});
      discriminator.push_back({hf_name, value});
    } else if (starts_with(name, "generator.")) {
      const std::string hf_name = name.substr(std::string("generator.").size());
      if (hf_name == "generator_lm_head.bias")
        generator.push_back({"generator_lm_head.weight", word_embeddings});
      generator.push_back({hf_name, value});
    } else {
      throw_error("export: parameter '", name,
                  "' belongs to neither network and has no Hugging Face counterpart");
    }
  }
  discriminator = folded_gdes_embeddings(parameters, std::move(discriminator));
  HfExport result;
  nlohmann::ordered_json full_config = nlohmann::ordered_json::parse(to_json(config).dump());
  const auto check_maps = [](const std::vector<std::pair<std::string, Tensor>>& tensors,
                             const ModelConfig& dims, const char* architecture) {
    // Every tensor must be one the architecture reads: none may be written and then ignored.
    std::map<std::string, Shape> expected;
    for (const auto& [name, shape] : hf_expected_tensors(dims, architecture))
      expected[name] = shape;
    for (const auto& [name, tensor] : tensors)
      check(expected.count(name) == 1, "export: tensor '", name, "' has no place in ",
            architecture);
  };
  if (has_discriminator_network) {
    const char* architecture =
        main_is_masked_lm ? hf_masked_lm_architecture : hf_pretraining_architecture;
    check_maps(discriminator, config, architecture);
    fs::path& directory = main_is_masked_lm ? result.main : result.discriminator;
    directory = out / (main_is_masked_lm ? "main" : "discriminator");
    nlohmann::ordered_json json = hf_config_json(config, architecture);
    json[electra_cpp_key] = full_config;
    save_hf_model(directory, discriminator, json, vocab_path);
  }
  for (const std::string& name : left_out)
    result.note += (result.note.empty() ? "left out (no Hugging Face counterpart): " : ", ") + name;
  result.generator = out / "generator";
  nlohmann::ordered_json json =
      hf_config_json(with_dims(config, config.generator_dims()), hf_masked_lm_architecture);
  json[electra_cpp_key] = full_config;
  save_hf_model(result.generator, generator, json, vocab_path);
  return result;
}

ModelConfig pretraining_config_from_hf(const HfModel* discriminator, const HfModel* generator) {
  check(generator != nullptr,
        "import: pre-training needs the generator directory (ElectraForMaskedLM)");
  check(generator->architecture == hf_masked_lm_architecture,
        "import: ", generator->directory.string(), " is ", generator->architecture, ", not ",
        hf_masked_lm_architecture);
  // A main/ ElectraForMaskedLM directory (replace_mlm, all_tokens_mlm) names its objective in
  // electra_cpp_config; without it only ElectraForPreTraining is a discriminator.
  const bool masked_lm_main = discriminator &&
                              discriminator->architecture == hf_masked_lm_architecture &&
                              discriminator->config_json.contains(electra_cpp_key);
  if (discriminator && !masked_lm_main)
    check(discriminator->architecture == hf_pretraining_architecture,
          "import: ", discriminator->directory.string(), " is ", discriminator->architecture,
          ", not ", hf_pretraining_architecture);
  const HfModel& main = discriminator ? *discriminator : *generator;
  ModelConfig config = main.config;
  if (main.config_json.contains(electra_cpp_key)) {
    config = model_config_from_json(main.config_json[electra_cpp_key]);
  } else {
    config.objective = discriminator ? "electra" : "mlm";
    if (discriminator)
      config.generator_size = static_cast<double>(generator->config.hidden_size) /
                              static_cast<double>(discriminator->config.hidden_size);
    config.validate();
  }
  // GDES: the export holds E_G + E_Δ folded (folded_gdes_embeddings); E_Δ cannot be taken back out.
  check(config.embedding_sharing != "gdes", "import: ", main.directory.string(),
        " was exported "
        "from a GDES run (embedding_sharing 'gdes'): its discriminator embeddings are E_G + E_Δ "
        "folded, which cannot be split to resume pre-training; resume from the run's checkpoint "
        "(the directory itself loads as a plain ",
        hf_pretraining_architecture, " for fine-tuning)");
  if (discriminator) {
    const bool wants_masked_lm = !find_objective(config.objective).exports_discriminator;
    check(masked_lm_main == wants_masked_lm, "import: ", discriminator->directory.string(), " is ",
          discriminator->architecture, " but objective '", config.objective, "' needs ",
          wants_masked_lm ? hf_masked_lm_architecture : hf_pretraining_architecture);
  }
  const auto describe = [](const EncoderDims& dims) {
    return "hidden " + std::to_string(dims.hidden_size) + ", layers " +
           std::to_string(dims.num_layers) + ", heads " + std::to_string(dims.num_heads) +
           ", FFN " + std::to_string(dims.intermediate_size);
  };
  const EncoderDims stored = generator->config.discriminator_dims();
  check(config.generator_dims() == stored, "import: generator ", generator->directory.string(),
        " (", describe(stored), ") does not match the pre-training config's generator (",
        describe(config.generator_dims()), ")");
  if (discriminator)
    check(config.discriminator_dims() == discriminator->config.discriminator_dims(),
          "import: discriminator ", discriminator->directory.string(), " (",
          describe(discriminator->config.discriminator_dims()), ") does not match the config (",
          describe(config.discriminator_dims()), ")");
  check(generator->config.vocab_size == config.vocab_size &&
            generator->config.embedding_size == config.embedding_size,
        "import: generator ", generator->directory.string(), " has vocabulary/embedding sizes ",
        generator->config.vocab_size, "/", generator->config.embedding_size, ", the discriminator ",
        config.vocab_size, "/", config.embedding_size);
  return config;
}

void import_hf_pretraining(const HfModel* discriminator, const HfModel* generator,
                           ParameterStore& parameters) {
  std::vector<std::pair<Var, Tensor>> assignments;
  for (const Parameter& parameter : parameters.parameters()) {
    const std::string& name = parameter.name;
    const HfModel* source = nullptr;
    std::string hf_name = name;
    if (starts_with(name, "electra.embeddings.")) {
      source = discriminator ? discriminator : generator;
    } else if (starts_with(name, "discriminator.")) {
      source = discriminator;
      hf_name = name.substr(std::string("discriminator.").size());
    } else if (starts_with(name, "generator.")) {
      source = generator;
      hf_name = name.substr(std::string("generator.").size());
    }
    check(source != nullptr, "import: no directory provides parameter '", name, "'");
    check(!(source == discriminator && starts_with(hf_name, "copy_prediction.") &&
            !source->tensors.count(hf_name)),
          "import: parameter '", name, "' (all_tokens_mlm's copy head) is not in ",
          source->directory.string(),
          ": the HF export leaves it out (no ElectraForMaskedLM counterpart); continue from the "
          "checkpoint instead");
    const Tensor& tensor = source->at(hf_name);
    const Tensor& value = parameter.var.value();
    check(tensor.shape() == value.shape() && tensor.dtype() == value.dtype(),
          "import: ", source->directory.string(), ": tensor '", hf_name, "' is ",
          dtype_name(tensor.dtype()), tensor.shape().str(), ", the model needs ",
          dtype_name(value.dtype()), value.shape().str());
    assignments.push_back({parameter.var, tensor});
  }
  for (auto& [var, tensor] : assignments) {
    Tensor& value = var.value();
    kernels::copy(tensor.device() == value.device() ? tensor : tensor.to(value.device()), value);
  }
}

}  // namespace electra
