// HF directories: export → import is bit-exact, configs round-trip, the tied LM head may be
// absent, and directories with missing or mis-shaped tensors are refused naming the tensor.
#include "models/formats/hf_format.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>

#include "engine/error.hpp"
#include "helpers/scratch.hpp"
#include "helpers/tiny_checkpoint.hpp"
#include "models/finetuning/finetune.hpp"
#include "models/formats/safetensors.hpp"
#include "models/training/pretrained_model.hpp"

using namespace electra;
namespace fs = std::filesystem;

namespace {

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Rewrites a directory's model.safetensors through `edit`.
template <typename Edit>
void edit_weights(const fs::path& directory, Edit edit) {
  SafetensorsContents contents = load_safetensors((directory / "model.safetensors").string());
  edit(contents.tensors);
  save_safetensors((directory / "model.safetensors").string(), contents.tensors);
}

}  // namespace

TEST_CASE("hf format: export then import restores every parameter bit for bit") {
  const fs::path root = test::scratch_dir("hf_roundtrip");
  const ModelConfig config = test::tiny_config();
  const fs::path checkpoint = test::write_tiny_checkpoint(root / "run", config, 11);
  const PretrainedModel original = load_pretrained_model(checkpoint);
  const HfExport exported = export_pretraining_to_hf(*original.parameters, original.config,
                                                     root / "hf", test::sample_vocab);
  CHECK(fs::is_regular_file(exported.discriminator / "vocab.txt"));
  CHECK(fs::is_regular_file(exported.generator / "config.json"));

  const HfModel discriminator = load_hf_model(exported.discriminator);
  const HfModel generator = load_hf_model(exported.generator);
  CHECK(discriminator.architecture == "ElectraForPreTraining");
  CHECK(generator.architecture == "ElectraForMaskedLM");
  CHECK(generator.config.hidden_size == config.generator_dims().hidden_size);
  // HF names and the tied head.
  CHECK(discriminator.tensors.count("discriminator_predictions.dense_prediction.weight") == 1);
  CHECK(discriminator.tensors.count("electra.embeddings_project.weight") == 1);
  CHECK(bit_equal(generator.at("generator_lm_head.weight"),
                  generator.at("electra.embeddings.word_embeddings.weight")));

  const ModelConfig imported_config = pretraining_config_from_hf(&discriminator, &generator);
  CHECK(imported_config == config);
  ParameterStore store;
  ElectraModel fresh(imported_config, store, 999);  // different initial values
  import_hf_pretraining(&discriminator, &generator, store);
  REQUIRE(store.size() == original.parameters->size());
  for (const Parameter& parameter : original.parameters->parameters())
    CHECK_MESSAGE(bit_equal(parameter.var.value(), store.get(parameter.name).value()),
                  parameter.name);
  fs::remove_all(root);
}

TEST_CASE("hf format: an mlm checkpoint exports only the generator and imports as mlm") {
  const fs::path root = test::scratch_dir("hf_mlm");
  const fs::path checkpoint =
      test::write_tiny_checkpoint(root / "run", test::tiny_config("mlm"), 5);
  const PretrainedModel original = load_pretrained_model(checkpoint);
  const HfExport exported =
      export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  CHECK(exported.discriminator.empty());
  CHECK_FALSE(fs::exists(root / "hf" / "discriminator"));
  const HfModel generator = load_hf_model(exported.generator);
  CHECK(generator.config.hidden_size == 64);  // the full-size masked-LM network
  const ModelConfig config = pretraining_config_from_hf(nullptr, &generator);
  CHECK(config.objective == "mlm");
  ParameterStore store;
  ElectraModel fresh(config, store, 1);
  import_hf_pretraining(nullptr, &generator, store);
  for (const Parameter& parameter : original.parameters->parameters())
    CHECK_MESSAGE(bit_equal(parameter.var.value(), store.get(parameter.name).value()),
                  parameter.name);
  fs::remove_all(root);
}

TEST_CASE("hf format: a generator file without the tied lm_head weight is accepted") {
  const fs::path root = test::scratch_dir("hf_tied");
  const PretrainedModel original =
      load_pretrained_model(test::write_tiny_checkpoint(root / "run", test::tiny_config(), 3));
  const HfExport exported =
      export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  edit_weights(exported.generator, [](std::vector<NamedTensor>& tensors) {
    std::erase_if(tensors,
                  [](const NamedTensor& t) { return t.name == "generator_lm_head.weight"; });
  });
  const HfModel generator = load_hf_model(exported.generator);
  CHECK(bit_equal(generator.at("generator_lm_head.weight"),
                  original.model->embeddings().word_embeddings().value()));
  fs::remove_all(root);
}

TEST_CASE("hf format: missing, mis-shaped or wrongly typed tensors are refused by name") {
  const fs::path root = test::scratch_dir("hf_broken");
  const PretrainedModel original =
      load_pretrained_model(test::write_tiny_checkpoint(root / "run", test::tiny_config(), 4));
  const HfExport exported =
      export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  const fs::path disc = exported.discriminator;

  edit_weights(disc, [](std::vector<NamedTensor>& tensors) {
    std::erase_if(tensors, [](const NamedTensor& t) {
      return t.name == "electra.encoder.layer.1.intermediate.dense.bias";
    });
  });
  CHECK_THROWS_WITH_AS(
      load_hf_model(disc),
      doctest::Contains("missing tensor 'electra.encoder.layer.1.intermediate.dense.bias'"), Error);

  export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  edit_weights(disc, [](std::vector<NamedTensor>& tensors) {
    for (NamedTensor& t : tensors)
      if (t.name == "discriminator_predictions.dense.weight") t.tensor = Tensor::zeros({64, 63});
  });
  CHECK_THROWS_WITH_AS(
      load_hf_model(disc),
      doctest::Contains("'discriminator_predictions.dense.weight' has shape [64, 63]"), Error);

  export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  edit_weights(disc, [](std::vector<NamedTensor>& tensors) {
    for (NamedTensor& t : tensors)
      if (t.name == "electra.embeddings.LayerNorm.weight") t.tensor = t.tensor.to(DType::f64);
  });
  CHECK_THROWS_WITH_AS(load_hf_model(disc),
                       doctest::Contains("'electra.embeddings.LayerNorm.weight' is f64"), Error);

  // A config that disagrees with the weights names the first tensor that does not fit.
  export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  nlohmann::json json = nlohmann::json::parse(read_file_bytes((disc / "config.json").string()));
  json["intermediate_size"] = 128;
  std::ofstream(disc / "config.json") << json.dump();
  CHECK_THROWS_WITH_AS(load_hf_model(disc),
                       doctest::Contains("electra.encoder.layer.0.intermediate.dense.weight"),
                       Error);
  json["hidden_act"] = "relu";
  std::ofstream(disc / "config.json") << json.dump();
  CHECK_THROWS_WITH_AS(load_hf_model(disc), doctest::Contains("hidden_act"), Error);

  fs::remove(disc / "model.safetensors");
  CHECK_THROWS_WITH_AS(load_hf_model(disc), doctest::Contains("no model.safetensors"), Error);
  CHECK_THROWS_AS(load_hf_model(root / "nowhere"), Error);
  fs::remove_all(root);
}

TEST_CASE("hf format: a discriminator directory alone initialises a classifier") {
  const fs::path root = test::scratch_dir("hf_encoder");
  const PretrainedModel original =
      load_pretrained_model(test::write_tiny_checkpoint(root / "run", test::tiny_config(), 8));
  const HfExport exported = export_pretraining_to_hf(*original.parameters, original.config,
                                                     root / "hf", test::sample_vocab);
  fs::remove_all(exported.generator);
  for (const fs::path& source : {exported.discriminator, root / "hf", root / "run"}) {
    const PretrainedEncoder encoder = load_pretrained_encoder(source);
    ParameterStore store;
    SequenceClassifier classifier(encoder.config, 2, store, 1);
    load_encoder_weights(encoder, store);
    CHECK(bit_equal(
        store.get("electra.encoder.layer.1.output.dense.weight").value(),
        original.parameters->get("discriminator.electra.encoder.layer.1.output.dense.weight")
            .value()));
    CHECK(bit_equal(store.get("electra.embeddings.word_embeddings.weight").value(),
                    original.parameters->get("electra.embeddings.word_embeddings.weight").value()));
    CHECK(fs::path(encoder.vocab_path).filename() ==
          (source == root / "run" ? "sample_vocab.txt" : "vocab.txt"));
  }
  fs::remove_all(root);
}

TEST_CASE("hf format: electra15 exports and imports exactly as electra") {
  const fs::path root = test::scratch_dir("hf_electra15");
  const PretrainedModel original = load_pretrained_model(
      test::write_tiny_checkpoint(root / "run", test::tiny_config("electra15"), 21));
  const HfExport exported =
      export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  CHECK(exported.discriminator == root / "hf" / "discriminator");
  CHECK(exported.main.empty());
  CHECK(exported.note.empty());
  const HfModel discriminator = load_hf_model(exported.discriminator);
  const HfModel generator = load_hf_model(exported.generator);
  CHECK(discriminator.architecture == "ElectraForPreTraining");
  const ModelConfig config = pretraining_config_from_hf(&discriminator, &generator);
  CHECK(config.objective == "electra15");
  ParameterStore store;
  ElectraModel fresh(config, store, 999);
  import_hf_pretraining(&discriminator, &generator, store);
  for (const Parameter& parameter : original.parameters->parameters())
    CHECK_MESSAGE(bit_equal(parameter.var.value(), store.get(parameter.name).value()),
                  parameter.name);
  fs::remove_all(root);
}

TEST_CASE(
    "hf format: replace_mlm's main network exports as ElectraForMaskedLM in main/ and "
    "round-trips") {
  const fs::path root = test::scratch_dir("hf_replace_mlm");
  const PretrainedModel original = load_pretrained_model(
      test::write_tiny_checkpoint(root / "run", test::tiny_config("replace_mlm"), 22));
  const HfExport exported = export_pretraining_to_hf(*original.parameters, original.config,
                                                     root / "hf", test::sample_vocab);
  CHECK(exported.discriminator.empty());
  CHECK_FALSE(fs::exists(root / "hf" / "discriminator"));
  CHECK(exported.main == root / "hf" / "main");
  CHECK(fs::is_regular_file(exported.generator / "config.json"));
  const HfModel main = load_hf_model(exported.main);
  const HfModel generator = load_hf_model(exported.generator);
  CHECK(main.architecture == "ElectraForMaskedLM");
  CHECK(main.config.hidden_size == original.config.hidden_size);  // discriminator-sized
  CHECK(bit_equal(main.at("generator_lm_head.weight"),
                  main.at("electra.embeddings.word_embeddings.weight")));
  CHECK(bit_equal(main.at("generator_lm_head.bias"),
                  original.parameters->get("discriminator.generator_lm_head.bias").value()));

  const ModelConfig config = pretraining_config_from_hf(&main, &generator);
  CHECK(config.objective == "replace_mlm");
  ParameterStore store;
  ElectraModel fresh(config, store, 999);
  import_hf_pretraining(&main, &generator, store);
  REQUIRE(store.size() == original.parameters->size());
  for (const Parameter& parameter : original.parameters->parameters())
    CHECK_MESSAGE(bit_equal(parameter.var.value(), store.get(parameter.name).value()),
                  parameter.name);

  // Fine-tuning takes the main network's encoder, from the export and from the checkpoint.
  for (const fs::path& source : {root / "hf", root / "run"}) {
    CAPTURE(source);
    const PretrainedEncoder encoder = load_pretrained_encoder(source);
    ParameterStore classifier_store;
    SequenceClassifier classifier(encoder.config, 2, classifier_store, 1);
    load_encoder_weights(encoder, classifier_store);
    CHECK(encoder.config.hidden_size == original.config.hidden_size);
    CHECK(bit_equal(
        classifier_store.get("electra.encoder.layer.1.output.dense.weight").value(),
        original.parameters->get("discriminator.electra.encoder.layer.1.output.dense.weight")
            .value()));
  }
  // A main/ directory where the objective wants ElectraForPreTraining is refused.
  ModelConfig electra_config = test::tiny_config("electra");
  nlohmann::json json =
      nlohmann::json::parse(read_file_bytes((exported.main / "config.json").string()));
  json["electra_cpp_config"]["objective"] = "electra";
  std::ofstream(exported.main / "config.json") << json.dump();
  const HfModel relabelled = load_hf_model(exported.main);
  CHECK_THROWS_WITH_AS(pretraining_config_from_hf(&relabelled, &generator),
                       doctest::Contains("objective 'electra' needs ElectraForPreTraining"), Error);
  fs::remove_all(root);
}

TEST_CASE(
    "hf format: all_tokens_mlm exports without its copy head, says so, and refuses to import it") {
  const fs::path root = test::scratch_dir("hf_all_tokens");
  const PretrainedModel original = load_pretrained_model(
      test::write_tiny_checkpoint(root / "run", test::tiny_config("all_tokens_mlm"), 23));
  const HfExport exported =
      export_pretraining_to_hf(*original.parameters, original.config, root / "hf", "");
  CHECK(exported.main == root / "hf" / "main");
  CHECK(exported.note.find("discriminator.copy_prediction.weight") != std::string::npos);
  const SafetensorsContents written =
      load_safetensors((exported.main / "model.safetensors").string());
  for (const NamedTensor& tensor : written.tensors)
    CHECK(tensor.name.find("copy_prediction") == std::string::npos);
  const HfModel main = load_hf_model(exported.main);
  const HfModel generator = load_hf_model(exported.generator);
  const ModelConfig config = pretraining_config_from_hf(&main, &generator);
  CHECK(config.objective == "all_tokens_mlm");
  ParameterStore store;
  ElectraModel fresh(config, store, 1);
  CHECK_THROWS_WITH_AS(import_hf_pretraining(&main, &generator, store),
                       doctest::Contains("'discriminator.copy_prediction."), Error);
  const PretrainedEncoder encoder = load_pretrained_encoder(root / "hf");
  CHECK(encoder.description.find("main") != std::string::npos);
  fs::remove_all(root);
}
