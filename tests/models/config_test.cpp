#include "models/networks/config.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/error.hpp"
#include "helpers/errors.hpp"
#include "helpers/text.hpp"

using namespace electra;
using namespace electra::test;

TEST_CASE("config: presets follow the DESIGN table and derive the generator") {
  for (const std::string& name : model_preset_names()) CHECK_NOTHROW(model_preset(name).validate());

  const ModelConfig small = model_preset("small");
  CHECK(small.discriminator_dims() == EncoderDims{256, 12, 4, 1024});
  CHECK(small.generator_dims() == EncoderDims{64, 12, 1, 256});  // ELECTRA-Small's generator
  CHECK(small.embedding_size == 128);
  CHECK(small.predictions_per_sequence() == 19);  // int(0.155 · 128)
  CHECK(small.disc_weight == 50.0);
  CHECK(small.learning_rate == 5e-4);

  const ModelConfig base = model_preset("base");
  CHECK(base.generator_dims() == EncoderDims{256, 12, 4, 1024});  // 768/3 rounds to 256
  CHECK(base.predictions_per_sequence() == 79);
  CHECK(base.batch_size == 256);

  const ModelConfig tiny = model_preset("tiny");
  CHECK(tiny.discriminator_dims() == EncoderDims{64, 2, 2, 256});
  CHECK(tiny.generator_dims() == EncoderDims{32, 2, 1, 128});
  CHECK(tiny.embedding_size == 32);
  CHECK(tiny.seq_len == 64);

  const ModelConfig mini = model_preset("mini");
  CHECK(mini.num_layers > tiny.num_layers);
  CHECK(mini.hidden_size < small.hidden_size);
  CHECK(mini.generator_dims().num_heads == 1);

  ModelConfig mlm = tiny;
  mlm.objective = "mlm";
  CHECK(mlm.generator_dims() == mlm.discriminator_dims());
  CHECK_FALSE(mlm.has_discriminator());

  CHECK(contains(error_of([] { model_preset("huge"); }), "unknown preset 'huge'"));
}

TEST_CASE("config: JSON overrides a preset and round-trips") {
  const ModelConfig overridden = model_config_from_json(nlohmann::json{{"preset", "tiny"},
                                                                       {"hidden_size", 128},
                                                                       {"num_heads", 4},
                                                                       {"objective", "mlm"},
                                                                       {"disallow_correct", true},
                                                                       {"temperature", 2}});
  CHECK(overridden.preset == "tiny");
  CHECK(overridden.hidden_size == 128);
  CHECK(overridden.num_heads == 4);
  CHECK(overridden.num_layers == 2);  // from the preset
  CHECK(overridden.objective == "mlm");
  CHECK(overridden.disallow_correct);
  CHECK(overridden.temperature == 2.0);

  // Without a "preset" key the given base is the starting point.
  const ModelConfig from_base =
      model_config_from_json(nlohmann::json{{"batch_size", 3}}, model_preset("base"));
  CHECK(from_base.hidden_size == 768);
  CHECK(from_base.batch_size == 3);

  for (const std::string& name : model_preset_names()) {
    const ModelConfig preset = model_preset(name);
    CHECK(model_config_from_json(to_json(preset)) == preset);
  }
  ModelConfig edited = model_preset("mini");
  edited.vocab_size = 1234;
  edited.hidden_dropout = 0.0;
  edited.adam_bias_correction = true;
  edited.max_predictions = 7;
  const nlohmann::json dumped = to_json(edited);
  CHECK(model_config_from_json(nlohmann::json::parse(dumped.dump())) == edited);
  CHECK(dumped.at("vocab_size") == 1234);
}

TEST_CASE("config: impossible values and unknown keys are one-line errors naming the key") {
  const auto message = [](const nlohmann::json& json) {
    return error_of([&] { model_config_from_json(json, model_preset("tiny")); });
  };
  CHECK(contains(message({{"hiden_size", 64}}), "unknown key 'hiden_size'"));
  CHECK(contains(message({{"num_heads", 3}}), "num_heads = 3"));
  CHECK(contains(message({{"hidden_size", 0}}), "hidden_size = 0"));
  CHECK(contains(message({{"num_layers", -2}}), "num_layers = -2"));
  CHECK(contains(message({{"intermediate_size", 0}}), "intermediate_size = 0"));
  CHECK(contains(message({{"hidden_dropout", 1.0}}), "hidden_dropout = 1"));
  CHECK(contains(message({{"attention_dropout", -0.1}}), "attention_dropout = -0.1"));
  CHECK(contains(message({{"generator_size", 1.5}}), "generator_size = 1.5"));
  CHECK(contains(message({{"generator_size", 0.001}}), "generator_size = 0.001"));
  CHECK(contains(message({{"objective", "bert"}}), "objective = 'bert'"));
  CHECK(contains(message({{"seq_len", 1000}}), "seq_len = 1000"));
  CHECK(contains(message({{"temperature", 0}}), "temperature = 0"));
  CHECK(contains(message({{"learning_rate", -1e-3}}), "learning_rate = -0.001"));
  CHECK(contains(message({{"max_predictions", 65}}), "max_predictions = 65"));
  CHECK(contains(message({{"hidden_size", "64"}}), "hidden_size = \"64\": must be an integer"));
  CHECK(contains(message({{"hidden_size", 64.5}}), "hidden_size = 64.5: must be an integer"));
  CHECK(
      contains(message({{"disallow_correct", 1}}), "disallow_correct = 1: must be true or false"));
  CHECK(contains(message(nlohmann::json::array()), "expected a JSON object"));
  for (const std::string& text : {message({{"num_heads", 3}}), message({{"oops", 1}})})
    CHECK(text.find('\n') == std::string::npos);
}

TEST_CASE("config: load_model_config reads a file and names it in errors") {
  const std::string path = "model_config_test_tmp.json";
  {
    std::ofstream file(path);
    file << R"({"preset": "tiny", "vocab_size": 99, "disc_weight": 20})";
  }
  const ModelConfig loaded = load_model_config(path);
  CHECK(loaded.vocab_size == 99);
  CHECK(loaded.disc_weight == 20.0);
  CHECK(loaded.hidden_size == 64);
  {
    std::ofstream file(path);
    file << R"({"preset": "tiny", "num_heads": 5})";
  }
  CHECK(contains(error_of([&] { load_model_config(path); }), path + ": config: num_heads = 5"));
  {
    std::ofstream file(path);
    file << "{ not json";
  }
  CHECK(contains(error_of([&] { load_model_config(path); }), "is not valid JSON"));
  std::remove(path.c_str());
  CHECK(contains(error_of([&] { load_model_config("/nonexistent/x.json"); }), "cannot open"));
}
