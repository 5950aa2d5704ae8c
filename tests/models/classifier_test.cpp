// The fine-tuning classifier: head wiring against a hand-composed forward, padding invariance,
// the losses, and layer-wise learning-rate decay (scales and their effect on an AdamW update).
#include "models/finetuning/classifier.hpp"

#include <doctest/doctest.h>

#include <cmath>

#include "engine/error.hpp"
#include "models/finetuning/finetune.hpp"

using namespace electra;

namespace {

ModelConfig tiny() {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = 50;
  return config;
}

Tensor ids(const std::vector<std::int32_t>& values, std::int64_t B, std::int64_t L) {
  return Tensor::from_vector(values, {B, L});
}

}  // namespace

TEST_CASE("classifier: HF parameter names and shapes") {
  ParameterStore store;
  SequenceClassifier classifier(tiny(), 3, store, 1);
  CHECK(store.contains("electra.embeddings.word_embeddings.weight"));
  CHECK(store.contains("electra.embeddings_project.weight"));  // E 32 ≠ H 64
  CHECK(store.contains("electra.encoder.layer.1.output.LayerNorm.bias"));
  CHECK(store.get("classifier.dense.weight").shape() == Shape{64, 64});
  CHECK(store.get("classifier.out_proj.weight").shape() == Shape{3, 64});
  CHECK(store.get("classifier.out_proj.bias").shape() == Shape{3});
}

TEST_CASE("classifier: logits are out_proj(GELU(dense([CLS] of the encoder))) without dropout") {
  const ModelConfig config = tiny();
  ParameterStore store;
  SequenceClassifier classifier(config, 2, store, 7);
  // The same body registered in the same order from the same seed has the same initial values.
  ParameterStore reference_store;
  ParameterFactory factory(reference_store, 7, DType::f32, config.initializer_range);
  SharedEmbeddings embeddings(factory, config);
  Linear project = Linear::create(factory, "electra.embeddings_project", config.embedding_size,
                                  config.hidden_size);
  Encoder encoder(factory, "electra.encoder", config.discriminator_dims(), config);

  const Tensor input = ids({2, 7, 9, 3, 0, 2, 11, 3, 5, 3}, 2, 5);
  const Tensor types = Tensor::zeros({2, 5}, DType::i32);
  const Tensor mask = ids({1, 1, 1, 1, 0, 1, 1, 1, 1, 1}, 2, 5);
  Tape tape;
  const Tensor logits = classifier.forward(tape, input, types, mask, 0, false).value();
  const streams::DropoutContext no_dropout{7, 0, false, streams::discriminator_sites};
  Var hidden = embeddings.forward(tape, input, types, 0.1, no_dropout);
  hidden = encoder.forward(tape, project.forward(tape, hidden), mask, no_dropout);
  const Var cls = ops::gather_rows(tape, ops::reshape(tape, hidden, {10, 64}),
                                   Tensor::from_vector<std::int32_t>({0, 5}, {2}));
  const Var dense = ops::gelu(tape, ops::linear(tape, cls, store.get("classifier.dense.weight"),
                                                store.get("classifier.dense.bias")));
  const Tensor expected = ops::linear(tape, dense, store.get("classifier.out_proj.weight"),
                                      store.get("classifier.out_proj.bias"))
                              .value();
  REQUIRE(logits.shape() == Shape{2, 2});
  for (std::int64_t i = 0; i < 4; ++i)
    CHECK(logits.item(i) == doctest::Approx(expected.item(i)).epsilon(1e-6));
}

TEST_CASE("classifier: trailing padding does not change the logits; dropout does in training") {
  ParameterStore store;
  SequenceClassifier classifier(tiny(), 2, store, 3);
  Tape tape;
  const Tensor short_logits =
      classifier
          .forward(tape, ids({2, 7, 9, 3}, 1, 4), Tensor::zeros({1, 4}, DType::i32),
                   ids({1, 1, 1, 1}, 1, 4), 0, false)
          .value();
  const Tensor padded_logits =
      classifier
          .forward(tape, ids({2, 7, 9, 3, 0, 0}, 1, 6), Tensor::zeros({1, 6}, DType::i32),
                   ids({1, 1, 1, 1, 0, 0}, 1, 6), 0, false)
          .value();
  CHECK(short_logits.item(0) == doctest::Approx(padded_logits.item(0)).epsilon(1e-5));
  CHECK(short_logits.item(1) == doctest::Approx(padded_logits.item(1)).epsilon(1e-5));
  const Tensor dropped =
      classifier
          .forward(tape, ids({2, 7, 9, 3}, 1, 4), Tensor::zeros({1, 4}, DType::i32),
                   ids({1, 1, 1, 1}, 1, 4), 0, true)
          .value();
  CHECK(dropped.item(0) != short_logits.item(0));
}

TEST_CASE("classifier: losses by hand") {
  Tape tape;
  const Var logits(Tensor::from_vector<float>({2, 0, 0, 1}, {2, 2}), true);
  const Var loss =
      classification_loss(tape, logits, Tensor::from_vector<std::int32_t>({0, 0}, {2}));
  const double expected = (std::log(1 + std::exp(-2.0)) + std::log(1 + std::exp(1.0))) / 2;
  CHECK(loss.value().item(0) == doctest::Approx(expected).epsilon(1e-5));

  const Var predictions(Tensor::from_vector<float>({1, 2, 4}, {3, 1}), true);
  const Var mse = regression_loss(tape, predictions, Tensor::from_vector<float>({1, 0, 1}, {3}));
  CHECK(mse.value().item(0) == doctest::Approx((0 + 4 + 9) / 3.0));
  tape.backward(mse);
  // d/dp mean((p − t)²) = 2(p − t)/N
  CHECK(predictions.grad().item(1) == doctest::Approx(4.0 / 3));
  CHECK(predictions.grad().item(2) == doctest::Approx(2.0));
}

TEST_CASE("layer-wise decay: depths and scales follow ELECTRA's rule") {
  CHECK(parameter_depth("electra.embeddings.word_embeddings.weight", 2) == 0);
  CHECK(parameter_depth("electra.embeddings_project.bias", 2) == 0);
  CHECK(parameter_depth("electra.encoder.layer.0.attention.self.query.weight", 2) == 1);
  CHECK(parameter_depth("electra.encoder.layer.1.output.dense.bias", 2) == 2);
  CHECK(parameter_depth("classifier.out_proj.weight", 2) == 4);
  CHECK_THROWS_WITH_AS(parameter_depth("electra.encoder.layer.7.output.dense.bias", 2),
                       doctest::Contains("electra.encoder.layer.7"), Error);
  CHECK_THROWS_AS(parameter_depth("pooler.dense.weight", 2), Error);

  ParameterStore store;
  SequenceClassifier classifier(tiny(), 2, store, 1);
  const std::vector<double> scales = layerwise_learning_rate_scales(store, 2, 0.8);
  for (std::size_t i = 0; i < store.size(); ++i) {
    const std::string& name = store.parameters()[i].name;
    double expected = 1.0;
    if (name.rfind("electra.embeddings", 0) == 0)
      expected = std::pow(0.8, 4);
    else if (name.rfind("electra.encoder.layer.0.", 0) == 0)
      expected = std::pow(0.8, 3);
    else if (name.rfind("electra.encoder.layer.1.", 0) == 0)
      expected = 0.64;
    CHECK_MESSAGE(scales[i] == doctest::Approx(expected), name);
  }
  CHECK_THROWS_AS(layerwise_learning_rate_scales(store, 2, 0.0), Error);
}

TEST_CASE("layer-wise decay: each parameter moves by its own scaled rate") {
  ParameterStore store;
  Var deep = store.add("electra.embeddings.LayerNorm.bias", Tensor::zeros({2}), false);
  Var head = store.add("classifier.out_proj.bias", Tensor::zeros({2}), false);
  AdamW optimizer(store, AdamWConfig{}, {0.25, 1.0});
  deep.grad_buffer().fill_(0.5);
  head.grad_buffer().fill_(0.5);
  optimizer.step(1e-2);
  // First update, no bias correction: m = 0.1·g, v = 0.001·g², step = m / (√v + ε) ≈ √10.
  const double unit = 0.1 * 0.5 / (std::sqrt(0.001 * 0.25) + 1e-6);
  CHECK(head.value().item(0) == doctest::Approx(-1e-2 * unit).epsilon(1e-5));
  CHECK(deep.value().item(0) == doctest::Approx(-0.25e-2 * unit).epsilon(1e-5));
  CHECK_THROWS_AS(AdamW(store, AdamWConfig{}, {1.0}), Error);
}
