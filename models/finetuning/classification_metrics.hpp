#pragma once
// The fine-tuning metrics GLUE reports, from predictions and gold values:
//   accuracy  share of predictions equal to the gold class
//   F1        binary tasks: F1 of the positive class (id 1; MRPC/QQP's F1, spam's "spam");
//             more than two classes: the macro average of the per-class F1 (classes that never
//             occur in gold nor predictions are left out). Undefined cases are 0, as scikit-learn.
//   MCC       Matthews correlation (CoLA's metric); for K classes Gorodkin's R_K, which equals
//             the binary φ coefficient for K = 2; 0 when a marginal is constant.
//   Pearson / Spearman (STS-B): Spearman is Pearson on average ranks (ties share their rank);
//             NaN when either side is constant or there are fewer than 2 pairs.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace electra {

double classification_accuracy(const std::vector<std::int64_t>& predicted,
                               const std::vector<std::int64_t>& gold);
// F1 of `positive_class` taken as the positive label.
double f1_score(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold,
                std::int64_t positive_class);
double macro_f1(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold,
                std::int64_t num_classes);
double matthews_correlation(const std::vector<std::int64_t>& predicted,
                            const std::vector<std::int64_t>& gold, std::int64_t num_classes);
double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y);
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks, ties get the mean of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& values);

struct ClassificationMetrics {
  std::int64_t examples = 0;
  double accuracy = 0;
  double f1 = 0;  // binary: positive class 1; else macro F1
  double mcc = 0;
  std::vector<std::vector<std::int64_t>> confusion;  // [gold][predicted]
};
// Class ids must lie in [0, num_classes); sizes must match (errors say which).
ClassificationMetrics classification_metrics(const std::vector<std::int64_t>& predicted,
                                             const std::vector<std::int64_t>& gold,
                                             std::int64_t num_classes);

struct RegressionMetrics {
  std::int64_t examples = 0;
  double mse = 0;
  double pearson = 0;
  double spearman = 0;
};
RegressionMetrics regression_metrics(const std::vector<double>& predicted,
                                     const std::vector<double>& gold);

// {"examples":…, "accuracy":…, "f1":…, "mcc":…} / {"examples":…, "mse":…, "pearson":…,
// "spearman":…}; NaN becomes null.
nlohmann::ordered_json to_json(const ClassificationMetrics& metrics);
nlohmann::ordered_json to_json(const RegressionMetrics& metrics);

}  // namespace electra
