// Fine-tuning metrics against values computed by hand (and checked with scikit-learn / scipy
// formulas written out in the comments).
#include "models/finetuning/classification_metrics.hpp"

#include <doctest/doctest.h>

#include <cmath>

#include "engine/error.hpp"

using namespace electra;
using Ids = std::vector<std::int64_t>;

TEST_CASE("classification metrics: binary accuracy, F1 and MCC by hand") {
  // gold 1 1 1 0 0 0 0 1, predicted 1 0 1 0 1 0 0 1: TP 3, FN 1, FP 1, TN 3.
  const Ids gold = {1, 1, 1, 0, 0, 0, 0, 1}, predicted = {1, 0, 1, 0, 1, 0, 0, 1};
  CHECK(classification_accuracy(predicted, gold) == doctest::Approx(6.0 / 8));
  CHECK(f1_score(predicted, gold, 1) == doctest::Approx(6.0 / 8));  // 2·3 / (2·3 + 1 + 1)
  // MCC = (TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (9 − 1) / 16 = 0.5
  CHECK(matthews_correlation(predicted, gold, 2) == doctest::Approx(0.5));
  const ClassificationMetrics metrics = classification_metrics(predicted, gold, 2);
  CHECK(metrics.confusion == std::vector<std::vector<std::int64_t>>{{3, 1}, {1, 3}});
  CHECK(metrics.mcc == doctest::Approx(0.5));
}

TEST_CASE("classification metrics: asymmetric binary case and degenerate predictions") {
  // gold 1 1 0 0 0, predicted 1 1 1 0 0: TP 2, FP 1, FN 0, TN 2.
  const Ids gold = {1, 1, 0, 0, 0}, predicted = {1, 1, 1, 0, 0};
  CHECK(f1_score(predicted, gold, 1) == doctest::Approx(0.8));  // 4 / 5
  // (2·2 − 1·0) / √(3·2·3·2) = 4/6
  CHECK(matthews_correlation(predicted, gold, 2) == doctest::Approx(2.0 / 3));
  const Ids all_zero = {0, 0, 0, 0, 0};
  CHECK(f1_score(all_zero, gold, 1) == 0.0);
  CHECK(matthews_correlation(all_zero, gold, 2) == 0.0);  // constant prediction: defined as 0
}

TEST_CASE("classification metrics: three classes (macro F1, Gorodkin MCC)") {
  const Ids gold = {0, 0, 1, 1, 2, 2}, predicted = {0, 1, 1, 1, 2, 0};
  // class 0: TP1 FP1 FN1 → F1 0.5; class 1: TP2 FP1 FN0 → 0.8; class 2: TP1 FP0 FN1 → 2/3.
  CHECK(macro_f1(predicted, gold, 3) == doctest::Approx((0.5 + 0.8 + 2.0 / 3) / 3));
  // c = 4, s = 6, p = (2, 3, 1), t = (2, 2, 2): (24 − 12) / √((36 − 14)(36 − 12)) = 12/√528
  CHECK(matthews_correlation(predicted, gold, 3) == doctest::Approx(12.0 / std::sqrt(528.0)));
  CHECK_THROWS_WITH_AS(classification_metrics({0, 3}, {0, 1}, 3),
                       doctest::Contains("outside [0, 3)"), Error);
  CHECK_THROWS_AS(classification_accuracy({0}, {0, 1}), Error);
}

TEST_CASE("regression metrics: Pearson, Spearman with ties, MSE") {
  const std::vector<double> x = {1, 2, 3, 4}, y = {2, 4, 5, 9};
  // means 2.5, 5; cov Σ = (−1.5)(−3) + (−.5)(−1) + (.5)(0) + (1.5)(4) = 11; Σx² = 5; Σy² = 26
  CHECK(pearson_correlation(x, y) == doctest::Approx(11.0 / std::sqrt(5.0 * 26.0)));
  CHECK(spearman_correlation(x, y) == doctest::Approx(1.0));
  CHECK(average_ranks({10, 20, 20, 5}) == std::vector<double>{2, 3.5, 3.5, 1});
  // ranks x (1, 2, 3, 4) vs y ranks (1, 2.5, 2.5, 4): Pearson of those
  const double spearman = spearman_correlation(x, {1, 3, 3, 7});
  CHECK(spearman == doctest::Approx(pearson_correlation({1, 2, 3, 4}, {1, 2.5, 2.5, 4})));
  CHECK(std::isnan(pearson_correlation({1, 1, 1}, {1, 2, 3})));
  const RegressionMetrics metrics = regression_metrics({1, 2, 3}, {1, 2, 5});
  CHECK(metrics.mse == doctest::Approx(4.0 / 3));
  CHECK(to_json(metrics).contains("spearman"));
}
