// Context-only discriminator metrics against values worked out by hand.
#include "models/training/context_metrics.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace electra;

TEST_CASE("context metrics: within-id AUC pools the Mann-Whitney counts of every id") {
  // id 7: positives 0.9, 0.3 vs negatives 0.5, 0.1 → pairs won 2 + 1 of 4.
  // id 8: positive 0.2 vs negatives 0.2, 0.0 → ½ + 1 of 2. ids 9 and 10 have one class: no pairs.
  const std::vector<double> scores{0.9, 0.3, 0.5, 0.1, 0.2, 0.2, 0.0, 5.0, -1.0};
  const std::vector<double> labels{1, 1, 0, 0, 1, 0, 0, 1, 0};
  const std::vector<std::int32_t> ids{7, 7, 7, 7, 8, 8, 8, 9, 10};
  CHECK(context_auc(scores, labels, ids) == doctest::Approx(4.5 / 6).epsilon(1e-12));
  // One group is the plain AUC: 5 + 4 + 3.5 + 5 of 20 pairs.
  CHECK(context_auc(scores, labels, std::vector<std::int32_t>(9, 0)) ==
        doctest::Approx(17.5 / 20).epsilon(1e-12));
}

TEST_CASE("context metrics: any rule that looks only at the token id scores exactly 0.5") {
  // Replacements are the rare ids here, so a plain AUC rewards the rule "higher id → replaced".
  const std::vector<std::int32_t> ids{3, 3, 3, 40, 40, 40, 40, 900, 900, 900};
  const std::vector<double> labels{0, 0, 1, 0, 0, 1, 1, 1, 1, 0};
  std::vector<double> by_identity;
  for (const std::int32_t id : ids) by_identity.push_back(0.37 * id);
  CHECK(context_auc(by_identity, labels, ids) == 0.5);
  CHECK(context_auc(by_identity, labels, std::vector<std::int32_t>(ids.size(), 0)) > 0.6);
}

TEST_CASE("context metrics: undefined cases are NaN and a NaN score cannot hang the sweep") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(context_auc({0.1, 0.9}, {1, 0}, {1, 2})));  // no id has both classes
  CHECK(std::isnan(context_auc({}, {}, {})));
  CHECK(std::isnan(context_auc({nan, 0.2, nan, 0.4}, {1, 0, 0, 1}, {5, 5, 5, 5})));
  CHECK(std::isnan(best_f1_threshold({0.3, nan}, {1, 0}).f1));
  CHECK(std::isnan(best_f1_threshold({0.3, 0.1}, {0, 0}).threshold));  // nothing replaced
  CHECK_THROWS_WITH(context_auc({0.1}, {1, 0}, {1}), doctest::Contains("context_auc"));
}

TEST_CASE("context metrics: the best-F1 threshold and its precision and recall") {
  // t = 3: P 1, R ½, F1 ⅔; t = 2: P ½, R ½; t = 1: P ⅔, R 1, F1 0.8 (best); t = 0: P ½, R 1.
  const BestThreshold best = best_f1_threshold({3, 2, 1, 0}, {1, 0, 1, 0});
  CHECK(best.threshold == 1.0);
  CHECK(best.precision == doctest::Approx(2.0 / 3).epsilon(1e-12));
  CHECK(best.recall == 1.0);
  CHECK(best.f1 == doctest::Approx(0.8).epsilon(1e-12));
}

TEST_CASE("context metrics: padding is left out, [CLS]/[SEP] only of the no-special AUC") {
  // [CLS] scores above both replacements; padding (weight 0) would win every pair if counted.
  const Tensor logits = Tensor::from_vector<float>({3, 1, -1, -5, 2, 9}, {2, 3});
  const Tensor labels = Tensor::from_vector<float>({0, 1, 0, 0, 1, 0}, {2, 3});
  const Tensor weights = Tensor::from_vector<float>({1, 1, 1, 1, 1, 0}, {2, 3});
  const Tensor ids = Tensor::from_vector<std::int32_t>({101, 7, 7, 102, 8, 0}, {2, 3});
  const ContextMetrics metrics = context_metrics(logits, labels, weights, ids, 101, 102);
  CHECK(metrics.auc_context == 1.0);     // id 7: 1 > −1; no other id has both classes
  CHECK(metrics.auc_no_special == 1.0);  // positives 1, 2 vs the negative −1
  // Sweep over 3 (n), 2 (p), 1 (p), −1 (n), −5 (n): F1 0, ½, 0.8, ⅔, 4/7 → threshold 1.
  CHECK(metrics.best_threshold == 1.0);
  CHECK(metrics.precision_best == doctest::Approx(2.0 / 3).epsilon(1e-12));
  CHECK(metrics.recall_best == 1.0);
}
