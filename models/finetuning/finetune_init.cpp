// The encoder a fine-tuning run starts from (--init): see finetune.hpp.
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/finetuning/finetune.hpp"
#include "models/formats/hf_format.hpp"
#include "models/training/pretrained_model.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// NaN or infinite weights (a diverged run) would train on NaN from the first update; refuse them
// up front, naming the tensor.
void check_finite_tensors(const PretrainedEncoder& encoder) {
  for (const auto& [name, tensor] : encoder.tensors)
    check(kernels::all_finite(tensor), "finetune: --init ", encoder.description, ": tensor '", name,
          "' holds NaN or infinite values");
}

}  // namespace

PretrainedEncoder load_pretrained_encoder(const fs::path& path) {
  PretrainedEncoder encoder;
  check(fs::is_directory(path), "finetune: --init ", path.string(), ": no such directory");
  fs::path hf_dir;
  if (fs::is_regular_file(path / "config.json"))
    hf_dir = path;
  else if (fs::is_regular_file(path / "discriminator" / "config.json"))
    hf_dir = path / "discriminator";
  else if (fs::is_regular_file(path / "main" / "config.json"))
    hf_dir = path / "main";  // replace_mlm / all_tokens_mlm: the main network, not the generator
  else if (fs::is_regular_file(path / "generator" / "config.json"))
    hf_dir = path / "generator";
  if (hf_dir.empty() && !fs::exists(path / "trainer_state.json")) {
    // Weights without their config.json (nor a checkpoint's trainer_state.json) are a Hugging
    // Face directory missing a file, not a bad checkpoint: say that rather than what a checkpoint
    // would have needed.
    for (const fs::path& dir : {path, path / "discriminator", path / "main", path / "generator"})
      check(!fs::exists(dir / "model.safetensors"), "finetune: --init ", dir.string(),
            ": looks like a Hugging Face directory (model.safetensors) but has no config.json");
    check(latest_checkpoint(path).has_value(), "finetune: --init ", path.string(),
          " is neither a Hugging Face directory (config.json, model.safetensors), a pre-training "
          "checkpoint ",
          "(trainer_state.json) nor a run directory (step-* checkpoints)");
  }
  if (!hf_dir.empty()) {
    HfModel model = load_hf_model(hf_dir);
    encoder.config = model.config;
    for (auto& [name, tensor] : model.tensors)
      if (starts_with(name, "electra.")) encoder.tensors[name] = tensor;
    encoder.vocab_path = model.vocab_path.string();
    encoder.description = hf_dir.string() + " (" + model.architecture + ")";
    check_finite_tensors(encoder);
    return encoder;
  }
  const PretrainedModel loaded = load_pretrained_model(path);
  encoder.config = loaded.config;
  // The fine-tuned network is `discriminator.` whenever the run has one (electra, and the main
  // network of replace_mlm / all_tokens_mlm, which has no replaced-token head); an `mlm` run's
  // encoder is its masked-LM network, at the discriminator's sizes.
  bool has_discriminator_network = false;
  for (const Parameter& parameter : loaded.parameters->parameters())
    has_discriminator_network =
        has_discriminator_network || starts_with(parameter.name, "discriminator.electra.");
  const std::string network = has_discriminator_network ? "discriminator." : "generator.";
  for (const Parameter& parameter : loaded.parameters->parameters()) {
    if (starts_with(parameter.name, "electra.embeddings."))  // GDES: E_G + E_Δ, else E_G itself
      encoder.tensors[parameter.name] =
          discriminator_embedding_value(*loaded.parameters, parameter.name);
    else if (starts_with(parameter.name, network + "electra."))
      encoder.tensors[parameter.name.substr(network.size())] = parameter.var.value();
  }
  const nlohmann::json& position = loaded.state.data_position;
  if (position.is_object()) encoder.vocab_path = position.value("vocab_path", std::string());
  encoder.description = loaded.checkpoint_dir.string() + " (" + loaded.config.objective +
                        " checkpoint, step " + std::to_string(loaded.state.step) + ")";
  check_finite_tensors(encoder);
  return encoder;
}

void load_encoder_weights(const PretrainedEncoder& encoder, ParameterStore& store) {
  std::vector<std::pair<Var, const Tensor*>> assignments;
  for (const Parameter& parameter : store.parameters()) {
    if (!starts_with(parameter.name, "electra.")) continue;
    const auto found = encoder.tensors.find(parameter.name);
    check(found != encoder.tensors.end(), "finetune: ", encoder.description, " has no tensor '",
          parameter.name, "'");
    const Tensor& value = parameter.var.value();
    check(found->second.shape() == value.shape() && found->second.dtype() == value.dtype(),
          "finetune: ", encoder.description, ": tensor '", parameter.name, "' is ",
          found->second.describe(), ", the classifier needs ", value.describe());
    assignments.push_back({parameter.var, &found->second});
  }
  for (auto& [var, tensor] : assignments)
    kernels::copy(tensor->to(var.value().device()), var.value());
}

}  // namespace electra
