#pragma once
// Hugging Face model directories (DESIGN §3–4): `model.safetensors` + `config.json`
// (ElectraConfig fields) + `vocab.txt`, as transformers' from_pretrained reads them.
//
// Export: a pre-training checkpoint becomes two directories,
//   <out>/discriminator  ElectraForPreTraining: electra.* + discriminator_predictions.*
//   <out>/generator      ElectraForMaskedLM:    electra.* + generator_predictions.* +
//                        generator_lm_head.{weight,bias}; the weight is the shared word embedding,
//                        written out (HF ties it on load; a file without it is accepted too)
// Both hold their own copy of the shared embeddings, as HF's files do. An `mlm` checkpoint
// exports only the generator (the full-size masked-LM network). Objectives whose main network is
// a masked-LM network (replace_mlm, all_tokens_mlm: models/objectives/main_network.hpp) write it
// as <out>/main ElectraForMaskedLM instead of <out>/discriminator; all_tokens_mlm's copy head
// (discriminator.copy_prediction.*) has no HF counterpart and is left out (HfExport::note says
// so). Any other parameter that maps to nothing is an error. Internal names map by dropping
// the network prefix (`discriminator.`, `generator.`); the shared `electra.embeddings.*` keep
// theirs. Weights keep the [out, in] layout, so tensors are copied byte for byte.
//
// Import: any such directory (ours or a downloaded google/electra-*), or an
// ElectraForSequenceClassification directory written by `electra finetune`. Loading checks every
// tensor the architecture needs against the shapes config.json implies, before anything is used;
// a missing or mis-shaped tensor is refused naming it and the directory. Tensors the architecture
// does not use are ignored (as from_pretrained does).
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/parameter_store.hpp"
#include "engine/tensor.hpp"
#include "models/networks/config.hpp"

namespace electra {

inline constexpr const char* hf_pretraining_architecture = "ElectraForPreTraining";
inline constexpr const char* hf_masked_lm_architecture = "ElectraForMaskedLM";
inline constexpr const char* hf_classification_architecture = "ElectraForSequenceClassification";
inline constexpr const char* hf_base_architecture = "ElectraModel";

struct HfModel {
  std::filesystem::path directory;
  std::string architecture;
  // The network's sizes as a ModelConfig: hidden_size, num_layers, num_heads, intermediate_size
  // are this network's own (a generator's narrower ones for ElectraForMaskedLM).
  ModelConfig config;
  nlohmann::json config_json;   // config.json as read (id2label, electra_finetune, …)
  std::int64_t num_labels = 0;  // classifier outputs (ElectraForSequenceClassification only)
  // Validated tensors by HF name (the architecture's set; generator_lm_head.weight is filled in
  // from the word embeddings when the file leaves it out).
  std::map<std::string, Tensor> tensors;
  std::filesystem::path vocab_path;  // <directory>/vocab.txt, empty when absent

  const Tensor& at(const std::string& name) const;  // throws naming the tensor and directory
};

// config.json for a network with `config`'s sizes (see HfModel::config).
nlohmann::ordered_json hf_config_json(const ModelConfig& config, const std::string& architecture);
// The reverse, with ElectraConfig's defaults for absent keys; hidden_act must be "gelu".
ModelConfig model_config_from_hf(const nlohmann::json& json, const std::string& source);

// The tensors `architecture` needs, with their shapes, in HF state-dict order. num_labels is
// used by ElectraForSequenceClassification only.
std::vector<std::pair<std::string, Shape>> hf_expected_tensors(const ModelConfig& config,
                                                               const std::string& architecture,
                                                               std::int64_t num_labels = 0);

HfModel load_hf_model(const std::filesystem::path& directory);
// Writes model.safetensors (tensors in the given order), config.json and a copy of vocab_path
// (skipped when empty) into `directory`, creating it.
void save_hf_model(const std::filesystem::path& directory,
                   const std::vector<std::pair<std::string, Tensor>>& tensors,
                   const nlohmann::ordered_json& config_json, const std::string& vocab_path);

struct HfExport {
  std::filesystem::path discriminator;  // empty unless the objective exports one (electra, …)
  std::filesystem::path main;           // the masked-LM main network (replace_mlm, …), else empty
  std::filesystem::path generator;
  std::string note;  // parameters deliberately left out, for the export's printed lines
};
// The pre-training parameters (ElectraModel's store, internal names) as HF directories under out.
HfExport export_pretraining_to_hf(const ParameterStore& parameters, const ModelConfig& config,
                                  const std::filesystem::path& out, const std::string& vocab_path);

// The pre-training config two exported directories describe (discriminator's sizes, generator
// size as the hidden-size ratio); with only a generator, objective "mlm". Sizes that no
// generator_size reproduces are an error. `discriminator` may also be a main/ ElectraForMaskedLM
// directory of ours (its electra_cpp_config names the objective).
ModelConfig pretraining_config_from_hf(const HfModel* discriminator, const HfModel* generator);
// Copies the directories' tensors into an ElectraModel's store (internal names) with `config`'s
// shapes; the shared embeddings come from the discriminator when it is given. All tensors are
// checked before any parameter is written.
void import_hf_pretraining(const HfModel* discriminator, const HfModel* generator,
                           ParameterStore& parameters);

}  // namespace electra
