// Training metrics against values worked out by hand, and the JSON Lines log format.
#include "models/training/metrics.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

using namespace electra;

TEST_CASE("metrics: weighted accuracy") {
  const Tensor predicted = Tensor::from_vector<std::int32_t>({1, 2, 3, 4}, {4});
  const Tensor targets = Tensor::from_vector<std::int32_t>({1, 0, 3, 0}, {2, 2});
  const Tensor weights = Tensor::from_vector<float>({1, 1, 0.5f, 0}, {4});
  // correct weight 1 + 0.5 of total 2.5
  CHECK(weighted_accuracy(predicted, targets, weights) == doctest::Approx(0.6).epsilon(1e-12));
  CHECK(std::isnan(weighted_accuracy(predicted, targets, Tensor::zeros({4}))));
  CHECK_THROWS_WITH(weighted_accuracy(predicted, Tensor::zeros({3}, DType::i32), weights),
                    doctest::Contains("weighted_accuracy"));
}

TEST_CASE("metrics: ROC AUC is the Mann-Whitney statistic with ties counted one half") {
  // Positives 0.35, 0.8, 0.4 vs negatives 0.1, 0.4: pairs won 1+0, 1+1, 1+½ = 4.5 of 6.
  CHECK(roc_auc({0.1, 0.4, 0.35, 0.8, 0.4}, {0, 0, 1, 1, 1}) ==
        doctest::Approx(0.75).epsilon(1e-12));
  CHECK(roc_auc({1.0, 1.0, 1.0}, {0, 1, 1}) == 0.5);  // all tied
  CHECK(roc_auc({-2, 5, 3}, {0, 1, 1}) == 1.0);       // perfect ranking
  CHECK(roc_auc({2, -5, -3}, {0, 1, 1}) == 0.0);      // perfectly wrong
  CHECK(std::isnan(roc_auc({0.3, 0.7}, {1, 1})));     // one class: undefined
  CHECK(std::isnan(roc_auc({}, {})));
}

TEST_CASE("metrics: ROC AUC with NaN scores returns NaN, with infinities ranks them") {
  // Before: the tie-run loop never advanced past a NaN (NaN == NaN is false) and spun forever
  // (this test then hangs until CTest's timeout).
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(std::isnan(roc_auc({0.1, nan, 0.8}, {0, 1, 1})));
  CHECK(std::isnan(roc_auc({nan, nan, nan, nan}, {0, 1, 0, 1})));
  CHECK(roc_auc({-inf, inf, 0.5}, {0, 1, 1}) == 1.0);
  CHECK(roc_auc({inf, inf}, {0, 1}) == 0.5);
  const BinaryMetrics metrics = binary_metrics(Tensor::from_vector<float>({nan, 1, -1}, {3}),
                                               Tensor::from_vector<float>({1, 1, 0}, {3}),
                                               Tensor::from_vector<float>({1, 1, 1}, {3}));
  CHECK(std::isnan(metrics.auc));
}

TEST_CASE("metrics: discriminator accuracy, precision, recall, AUC and replaced share") {
  // Position 4 is padding (weight 0) and must not count anywhere.
  const Tensor logits = Tensor::from_vector<float>({2, -1, 0.5f, -3, 1, -0.2f}, {6});
  const Tensor labels = Tensor::from_vector<float>({1, 1, 0, 0, 1, 0}, {6});
  const Tensor weights = Tensor::from_vector<float>({1, 1, 1, 1, 0, 1}, {6});
  const BinaryMetrics metrics = binary_metrics(logits, labels, weights);
  // Counted: TP (0), FN (1), FP (2), TN (3), TN (5).
  CHECK(metrics.accuracy == doctest::Approx(3.0 / 5).epsilon(1e-12));
  CHECK(metrics.precision == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(metrics.recall == doctest::Approx(0.5).epsilon(1e-12));
  // Positives 2 and −1 against negatives 0.5, −3, −0.2: 3 + 1 of 6 pairs.
  CHECK(metrics.auc == doctest::Approx(4.0 / 6).epsilon(1e-12));
  CHECK(metrics.positive_fraction == doctest::Approx(2.0 / 5).epsilon(1e-12));

  // A logit of exactly 0 (σ = ½) is predicted "original"; nothing predicted replaced leaves
  // precision undefined, nothing replaced leaves recall and AUC undefined.
  const BinaryMetrics none = binary_metrics(Tensor::from_vector<float>({0, -1}, {2}),
                                            Tensor::from_vector<float>({0, 0}, {2}),
                                            Tensor::from_vector<float>({1, 1}, {2}));
  CHECK(none.accuracy == 1.0);
  CHECK(std::isnan(none.precision));
  CHECK(std::isnan(none.recall));
  CHECK(std::isnan(none.auc));
  CHECK(none.positive_fraction == 0.0);
}

TEST_CASE("metrics: an objective's other named losses are logged after the fixed keys") {
  MaskedBatch batch;
  batch.masked_original_ids = Tensor::from_vector<std::int32_t>({2}, {1, 1});
  batch.masked_weights = Tensor::from_vector<float>({1}, {1, 1});
  StepOutput output;
  output.mlm_loss = Var(Tensor::from_vector<float>({2.5f}, {1}));
  output.mlm_logits = Tensor::from_vector<float>({0, 1, 5}, {1, 3});
  const Var main_mlm(Tensor::from_vector<float>({4.25f}, {1}));
  const Var hardness(Tensor::from_vector<float>({std::nanf("")}, {1}));
  output.losses = {
      {"mlm", output.mlm_loss, 1}, {"main_mlm", main_mlm, 1}, {"hardness", hardness, 2}};
  output.total_loss = Var(Tensor::from_vector<float>({6.75f}, {1}));
  const StepMetrics metrics = compute_step_metrics(output, batch, SpecialTokens{});
  REQUIRE(metrics.objective_losses.size() == 2);  // mlm is a fixed key, not repeated
  CHECK(metrics.objective_losses[0].first == "main_mlm");
  CHECK(metrics.objective_losses[0].second == 4.25);
  const nlohmann::ordered_json line = metrics_to_json(metrics);
  CHECK(line["main_mlm_loss"] == 4.25);
  CHECK(line["hardness_loss"].is_null());  // NaN → null, as every key
  std::vector<std::string> keys;
  for (const auto& item : line.items()) keys.push_back(item.key());
  CHECK(keys.size() == metrics_keys().size() + 2);
  CHECK(keys[keys.size() - 2] == "main_mlm_loss");
  CHECK(keys.back() == "hardness_loss");
}

TEST_CASE("metrics: a whole step from StepOutput, and the mlm objective") {
  MaskedBatch batch;
  batch.masked_original_ids = Tensor::from_vector<std::int32_t>({2, 1, 3}, {1, 3});
  batch.masked_weights = Tensor::from_vector<float>({1, 1, 0}, {1, 3});
  StepOutput output;
  output.total_loss = Var(Tensor::from_vector<float>({52.5f}, {1}));
  output.mlm_loss = Var(Tensor::from_vector<float>({2.5f}, {1}));
  output.disc_loss = Var(Tensor::from_vector<float>({1.0f}, {1}));
  // Row argmaxes 2, 0, 3: right, wrong, (padding).
  output.mlm_logits =
      Tensor::from_vector<float>({0, 1, 5, 2, /**/ 9, 1, 1, 1, /**/ 0, 0, 0, 7}, {3, 4});
  output.sampled_ids = Tensor::from_vector<std::int32_t>({2, 1, 0}, {1, 3});
  output.disc_logits = Tensor::from_vector<float>({2, -1, 0.5f, -3, 1, -0.2f}, {1, 6});
  output.disc_labels = Tensor::from_vector<float>({1, 1, 0, 0, 1, 0}, {1, 6});
  output.disc_weights = Tensor::from_vector<float>({1, 1, 1, 1, 0, 1}, {1, 6});
  // Input ids 7 9 7 9 (pad) [SEP]: within id 7 the positive 2 beats 0.5, within id 9 −1 beats
  // −3; [SEP] (−0.2) is out of the no-special AUC.
  output.corrupted_ids = Tensor::from_vector<std::int32_t>({7, 9, 7, 9, 0, 102}, {1, 6});
  const SpecialTokens special;  // cls 101, sep 102
  StepMetrics metrics = compute_step_metrics(output, batch, special);
  CHECK(metrics.total_loss == 52.5);
  CHECK(metrics.mlm_loss == 2.5);
  CHECK(metrics.disc_loss == 1.0);
  CHECK(metrics.gen_acc == 0.5);
  CHECK(metrics.gen_sampled_acc == 1.0);
  CHECK(metrics.disc_acc == doctest::Approx(0.6).epsilon(1e-12));
  CHECK(metrics.disc_auc == doctest::Approx(4.0 / 6).epsilon(1e-12));
  CHECK(metrics.replaced_frac == doctest::Approx(0.4).epsilon(1e-12));
  CHECK(metrics.disc_auc_context == 1.0);
  // Positives 2, −1 vs negatives 0.5, −3 once [SEP] is out: 2 + 1 of 4 pairs.
  CHECK(metrics.disc_auc_no_special == doctest::Approx(0.75).epsilon(1e-12));
  // Sweep 2 (p) → F1 ⅔; 0.5 (n) → ½; −0.2 (n) → 0.4; −1 (p) → 4/6; −3 (n): the first ⅔ stays.
  CHECK(metrics.disc_best_threshold == 2.0);
  CHECK(metrics.disc_precision_best == 1.0);
  CHECK(metrics.disc_recall_best == 0.5);

  output.disc_loss = Var();
  output.disc_logits = output.disc_labels = output.disc_weights = Tensor();
  output.corrupted_ids = Tensor();
  metrics = compute_step_metrics(output, batch, special);
  CHECK(std::isnan(metrics.disc_loss));
  CHECK(std::isnan(metrics.disc_auc));
  CHECK(std::isnan(metrics.replaced_frac));
  CHECK(std::isnan(metrics.disc_auc_context));
  CHECK(metrics.gen_acc == 0.5);
}

TEST_CASE("metrics: JSON Lines with stable keys, null for undefined values, append on resume") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("electra_metrics_test_" + std::to_string(::getpid()) + ".jsonl"))
                               .string();
  StepMetrics first;
  first.step = 10;
  first.total_loss = 3.5;
  first.disc_auc = std::nan("");
  first.lr = 1e-4;
  StepMetrics second = first;
  second.step = 20;
  second.disc_auc = 0.75;
  {
    MetricsWriter writer(path, false);
    writer.write(first);
  }
  {
    MetricsWriter writer(path, true);
    writer.write(second);
  }
  std::ifstream file(path);
  std::string line;
  std::vector<nlohmann::ordered_json> lines;
  while (std::getline(file, line)) lines.push_back(nlohmann::ordered_json::parse(line));
  REQUIRE(lines.size() == 2);
  std::vector<std::string> keys;
  for (const auto& item : lines[0].items()) keys.push_back(item.key());
  CHECK(keys == metrics_keys());
  CHECK(keys.front() == "step");
  CHECK(keys.back() == "elapsed_s");
  CHECK(keys.size() == 20);
  CHECK(lines[0]["step"] == 10);
  CHECK(lines[0]["disc_auc"].is_null());
  CHECK(lines[1]["disc_auc"] == 0.75);
  CHECK(lines[1]["lr"] == 1e-4);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(MetricsWriter("/nonexistent/dir/m.jsonl", false),
                    doctest::Contains("/nonexistent/dir/m.jsonl"));
}
