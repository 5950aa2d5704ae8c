// Fine-tuning end to end on tests/data/labelled_sample.tsv (200 synthetic sentiment lines with
// clear cue words): a tiny model reaches clearly-above-chance dev accuracy, the best epoch is
// kept as an HF directory that evaluation reloads to the same figures; plus encoding rules.
#include "models/finetuning/finetune.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "engine/error.hpp"
#include "helpers/scratch.hpp"
#include "helpers/tiny_checkpoint.hpp"
#include "models/formats/hf_format.hpp"

using namespace electra;
namespace fs = std::filesystem;

TEST_CASE(
    "finetune: encoding maps labels, pads to the longest example and refuses unknown labels") {
  const Tokenizer tokenizer = Tokenizer::from_file(test::sample_vocab);
  FinetuneTask task;
  task.labels = {"no", "yes"};
  task.max_seq_length = 16;
  const std::vector<LabelledExample> examples = {{"the whale", std::nullopt, "yes"},
                                                 {"the sea was calm", std::nullopt, "no"}};
  const EncodedExamples data = encode_examples(examples, tokenizer, task, "mem");
  CHECK(data.count == 2);
  CHECK(data.label_ids == std::vector<std::int32_t>{1, 0});
  CHECK(data.input_ids.size() == static_cast<std::size_t>(2 * data.seq_len));
  CHECK(data.input_ids[0] == tokenizer.special_tokens().cls);
  CHECK(data.attention_mask[static_cast<std::size_t>(data.seq_len - 1)] ==
        0);  // the shorter one is padded
  CHECK_THROWS_WITH_AS(encode_examples({{"x", std::nullopt, "maybe"}}, tokenizer, task, "mem"),
                       doctest::Contains("label 'maybe'"), Error);
  task.regression = true;
  CHECK_THROWS_WITH_AS(encode_examples({{"x", std::nullopt, "high"}}, tokenizer, task, "mem"),
                       doctest::Contains("not a number"), Error);
  const EncodedExamples scores =
      encode_examples({{"x", std::nullopt, "3.5"}}, tokenizer, task, "mem");
  CHECK(scores.targets == std::vector<double>{3.5});
}

TEST_CASE("finetune: a tiny model learns the labelled sample; evaluation reloads the best epoch") {
  const fs::path root = test::scratch_dir("learns");
  test::split_labelled_sample(root / "train.tsv", root / "dev.tsv");
  FinetuneOptions options;
  const std::int64_t vocab_size = test::write_labelled_sample_vocab(root / "vocab.txt");
  options.init = test::write_tiny_checkpoint(root / "run", test::tiny_config("electra", vocab_size),
                                             1, (root / "vocab.txt").string())
                     .string();
  options.train_path = (root / "train.tsv").string();
  options.dev_path = (root / "dev.tsv").string();
  options.out_dir = (root / "out").string();
  options.task.max_seq_length = 32;
  options.epochs = 8;
  options.batch_size = 16;
  options.learning_rate = 2e-3;
  options.seed = 3;
  std::vector<double> losses;
  // A random tiny encoder (seed 1; everything is a pure function of the seeds). Some initial
  // encoders never separate the classes from this little data (seed 21 stays at loss ln 2).
  const FinetuneResult result =
      run_finetune(options, [&](const FinetuneProgress& p) { losses.push_back(p.loss); });
  REQUIRE(result.epochs.size() == 8);
  CHECK(losses.size() == 80);
  const double best_accuracy = result.best_dev["accuracy"].get<double>();
  MESSAGE("dev accuracy ", best_accuracy, " at epoch ", result.best_epoch);
  CHECK(best_accuracy >= 0.8);  // chance is 0.5 (balanced labels)
  CHECK(result.epochs.back().train_loss < result.epochs.front().train_loss);
  CHECK(fs::is_regular_file(root / "out" / "metrics.jsonl"));
  CHECK(fs::is_regular_file(root / "out" / "dev_predictions.tsv"));

  const FinetunedModel model = load_finetuned_model(root / "out");
  CHECK(model.task.labels == std::vector<std::string>{"negative", "positive"});
  const HfModel hf = load_hf_model(root / "out");
  CHECK(hf.architecture == "ElectraForSequenceClassification");
  CHECK(hf.num_labels == 2);
  const EncodedExamples dev =
      encode_examples(read_labelled_tsv(options.dev_path, model.task.columns), *model.tokenizer,
                      model.task, options.dev_path);
  const Evaluation evaluation = evaluate_classifier(*model.classifier, model.task, dev, 7);
  CHECK(evaluation.metrics["accuracy"].get<double>() == doctest::Approx(best_accuracy));
  CHECK(evaluation.metrics["f1"].get<double>() ==
        doctest::Approx(result.best_dev["f1"].get<double>()));
  fs::remove_all(root);
}

TEST_CASE("finetune: regression task (MSE) and early stopping") {
  const fs::path root = test::scratch_dir("regression");
  // Score = 5 for positive lines, 1 for negative ones.
  std::ifstream in(std::string(ELECTRA_TEST_DATA_DIR) + "/labelled_sample.tsv");
  std::string line;
  std::getline(in, line);
  std::ofstream train(root / "train.tsv"), dev(root / "dev.tsv");
  train << "sentence\tscore\n";
  dev << "sentence\tscore\n";
  for (int i = 0; std::getline(in, line); ++i) {
    const std::size_t tab = line.find('\t');
    (i < 120 ? train : dev) << line.substr(0, tab) << '\t'
                            << (line.substr(tab + 1) == "positive" ? "5" : "1") << '\n';
    if (i >= 160) break;
  }
  train.close();
  dev.close();
  FinetuneOptions options;
  const std::int64_t vocab_size = test::write_labelled_sample_vocab(root / "vocab.txt");
  options.init = test::write_tiny_checkpoint(root / "run", test::tiny_config("electra", vocab_size),
                                             2, (root / "vocab.txt").string())
                     .string();
  options.train_path = (root / "train.tsv").string();
  options.dev_path = (root / "dev.tsv").string();
  options.out_dir = (root / "out").string();
  options.task.regression = true;
  options.task.columns.label = "score";
  options.task.max_seq_length = 32;
  options.epochs = 6;
  options.batch_size = 16;
  options.learning_rate = 2e-3;
  options.metric = "mse";
  // patience 2: the dev MSE may rise once while the head finds the scores' scale (measured: 6.06,
  // 6.59, then 0.59 ... 0.056 by epoch 6), and patience 1 would stop there.
  options.patience = 2;
  const FinetuneResult result = run_finetune(options);
  CHECK(result.metric == "mse");
  CHECK(result.best_dev.contains("pearson"));
  CHECK(result.best_dev["mse"].get<double>() < 4.0);  // predicting the mean (3) would give 4
  if (result.stopped_early) CHECK(result.epochs.size() < 6);
  const FinetunedModel model = load_finetuned_model(root / "out");
  CHECK(model.task.regression);
  CHECK(model.classifier->num_outputs() == 1);
  // Early stopping, deterministically: at learning rate 0 the dev metric never improves after
  // epoch 1, so patience 1 stops after epoch 2.
  options.learning_rate = 0;
  options.patience = 1;
  options.out_dir = (root / "out-frozen").string();
  const FinetuneResult frozen = run_finetune(options);
  CHECK(frozen.stopped_early);
  CHECK(frozen.epochs.size() == 2);
  fs::remove_all(root);
}

TEST_CASE(
    "finetune: a non-finite logit stops evaluation with the caller's context, never a metric") {
  // argmax over NaN picked class 0 everywhere: accuracy 0.5 on balanced labels, exit 0.
  const Tokenizer tokenizer = Tokenizer::from_file(test::sample_vocab);
  FinetuneTask task;
  task.labels = {"no", "yes"};
  const EncodedExamples data = encode_examples({{"the whale", std::nullopt, "yes"},
                                                {"the sea", std::nullopt, "no"},
                                                {"a ship", std::nullopt, "no"}},
                                               tokenizer, task, "mem");
  ParameterStore store;
  const SequenceClassifier classifier(test::tiny_config(), 2, store, 5);
  const Evaluation fine = evaluate_classifier(classifier, task, data, 2);
  CHECK(fine.metrics.contains("accuracy"));
  Var(store.get("classifier.out_proj.bias")).value().data<float>()[1] = std::nanf("");
  CHECK_THROWS_WITH_AS(
      evaluate_classifier(classifier, task, data, 2, true, "finetune: epoch 3, --dev dev.tsv"),
      doctest::Contains("finetune: epoch 3, --dev dev.tsv: example 1 gives the logit "), Error);
  CHECK_THROWS_WITH_AS(
      evaluate_classifier(classifier, task, data, 2, false, "evaluate: model on data.tsv"),
      doctest::Contains("(the model's weights or activations are not finite)"), Error);
}

TEST_CASE("finetune: --init weights that are not finite are refused naming the tensor") {
  const fs::path root = test::scratch_dir("nan_init");
  const ModelConfig config = test::tiny_config();
  ParameterStore store;
  ElectraModel model(config, store, 4);
  Var(store.get("discriminator.electra.encoder.layer.1.output.dense.weight"))
      .value()
      .data<float>()[3] = std::numeric_limits<float>::infinity();
  AdamW optimizer(store);
  TrainerState state;
  state.seed = 4;
  state.config = {{"model", to_json(config)}};
  state.data_position = {{"epoch", 0}, {"offset", 0}, {"vocab_path", test::sample_vocab}};
  const fs::path checkpoint = save_checkpoint(root / "run", store, optimizer, state);
  const std::string expected =
      "finetune: --init " + checkpoint.string() +
      " (electra checkpoint, step 0): tensor 'electra.encoder.layer.1.output.dense.weight' "
      "holds NaN or infinite values";
  CHECK_THROWS_WITH_AS(load_pretrained_encoder(root / "run"), expected.c_str(), Error);
  fs::remove_all(root);
}

TEST_CASE("finetune: labels unknown to the task name where the labels came from") {
  const Tokenizer tokenizer = Tokenizer::from_file(test::sample_vocab);
  FinetuneTask task;
  task.labels = {"no", "yes"};
  CHECK_THROWS_WITH_AS(encode_examples({{"x", std::nullopt, "maybe"}}, tokenizer, task, "dev.tsv"),
                       "finetune: dev.tsv: example 1: label 'maybe' is not one of the task's "
                       "labels (no, yes), which "
                       "come from --labels or else the train file",
                       Error);
  CHECK_THROWS_WITH_AS(
      encode_examples({{"x", std::nullopt, "maybe"}}, tokenizer, task, "dev.tsv", true, "evaluate"),
      "evaluate: dev.tsv: example 1: label 'maybe' is not one of the model's labels (no, yes)",
      Error);
}
