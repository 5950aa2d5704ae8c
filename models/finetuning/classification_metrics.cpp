// Fine-tuning metrics: see classification_metrics.hpp.
#include "models/finetuning/classification_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/error.hpp"

namespace electra {
namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

void check_sizes(const char* metric, std::size_t predicted, std::size_t gold) {
  check(predicted == gold, metric, ": ", predicted, " predictions for ", gold, " gold values");
}

std::vector<std::vector<std::int64_t>> confusion_matrix(const std::vector<std::int64_t>& predicted,
                                                        const std::vector<std::int64_t>& gold,
                                                        std::int64_t num_classes) {
  check_sizes("confusion matrix", predicted.size(), gold.size());
  check(num_classes >= 1, "confusion matrix: num_classes ", num_classes, " < 1");
  std::vector<std::vector<std::int64_t>> counts(
      static_cast<std::size_t>(num_classes),
      std::vector<std::int64_t>(static_cast<std::size_t>(num_classes), 0));
  for (std::size_t i = 0; i < gold.size(); ++i) {
    check(gold[i] >= 0 && gold[i] < num_classes && predicted[i] >= 0 && predicted[i] < num_classes,
          "confusion matrix: example ", i, " has class ", gold[i], " / prediction ", predicted[i],
          " outside [0, ", num_classes, ")");
    ++counts[static_cast<std::size_t>(gold[i])][static_cast<std::size_t>(predicted[i])];
  }
  return counts;
}

}  // namespace

double classification_accuracy(const std::vector<std::int64_t>& predicted,
                               const std::vector<std::int64_t>& gold) {
  check_sizes("accuracy", predicted.size(), gold.size());
  if (gold.empty()) return not_a_number;
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) correct += predicted[i] == gold[i];
  return static_cast<double>(correct) / static_cast<double>(gold.size());
}

double f1_score(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold,
                std::int64_t positive_class) {
  check_sizes("f1", predicted.size(), gold.size());
  std::int64_t true_positive = 0, false_positive = 0, false_negative = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    const bool predicted_positive = predicted[i] == positive_class;
    const bool gold_positive = gold[i] == positive_class;
    true_positive += predicted_positive && gold_positive;
    false_positive += predicted_positive && !gold_positive;
    false_negative += !predicted_positive && gold_positive;
  }
  // F1 = 2TP / (2TP + FP + FN); 0 when there is nothing to count (scikit-learn's zero_division).
  const std::int64_t denominator = 2 * true_positive + false_positive + false_negative;
  return denominator == 0
             ? 0.0
             : 2.0 * static_cast<double>(true_positive) / static_cast<double>(denominator);
}

double macro_f1(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold,
                std::int64_t num_classes) {
  const auto counts = confusion_matrix(predicted, gold, num_classes);
  double total = 0;
  std::int64_t classes_seen = 0;
  for (std::int64_t c = 0; c < num_classes; ++c) {
    std::int64_t in_gold = 0, in_predicted = 0;
    for (std::int64_t other = 0; other < num_classes; ++other) {
      in_gold += counts[c][other];
      in_predicted += counts[other][c];
    }
    if (in_gold == 0 && in_predicted == 0) continue;
    ++classes_seen;
    total += 2.0 * static_cast<double>(counts[c][c]) / static_cast<double>(in_gold + in_predicted);
  }
  return classes_seen == 0 ? not_a_number : total / static_cast<double>(classes_seen);
}

double matthews_correlation(const std::vector<std::int64_t>& predicted,
                            const std::vector<std::int64_t>& gold, std::int64_t num_classes) {
  const auto counts = confusion_matrix(predicted, gold, num_classes);
  // Gorodkin: (c·s − Σ_k p_k·t_k) / √((s² − Σ p_k²)(s² − Σ t_k²)), c = correct, s = samples,
  // p_k / t_k = how often class k was predicted / is true.
  double correct = 0, samples = 0, p_dot_t = 0, p_squared = 0, t_squared = 0;
  for (std::int64_t k = 0; k < num_classes; ++k) {
    double predicted_k = 0, true_k = 0;
    for (std::int64_t other = 0; other < num_classes; ++other) {
      predicted_k += static_cast<double>(counts[other][k]);
      true_k += static_cast<double>(counts[k][other]);
    }
    correct += static_cast<double>(counts[k][k]);
    samples += true_k;
    p_dot_t += predicted_k * true_k;
    p_squared += predicted_k * predicted_k;
    t_squared += true_k * true_k;
  }
  const double denominator =
      std::sqrt((samples * samples - p_squared) * (samples * samples - t_squared));
  return denominator == 0 ? 0.0 : (correct * samples - p_dot_t) / denominator;
}

double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes("pearson", x.size(), y.size());
  if (x.size() < 2) return not_a_number;
  const double n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double covariance = 0, variance_x = 0, variance_y = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    covariance += (x[i] - mean_x) * (y[i] - mean_y);
    variance_x += (x[i] - mean_x) * (x[i] - mean_x);
    variance_y += (y[i] - mean_y) * (y[i] - mean_y);
  }
  if (variance_x == 0 || variance_y == 0) return not_a_number;
  return covariance / std::sqrt(variance_x * variance_y);
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    const double rank = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2.0;
    for (std::size_t i = start; i < end; ++i) ranks[order[i]] = rank;
    start = end;
  }
  return ranks;
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes("spearman", x.size(), y.size());
  return pearson_correlation(average_ranks(x), average_ranks(y));
}

ClassificationMetrics classification_metrics(const std::vector<std::int64_t>& predicted,
                                             const std::vector<std::int64_t>& gold,
                                             std::int64_t num_classes) {
  ClassificationMetrics metrics;
  metrics.confusion = confusion_matrix(predicted, gold, num_classes);
  metrics.examples = static_cast<std::int64_t>(gold.size());
  metrics.accuracy = classification_accuracy(predicted, gold);
  metrics.f1 =
      num_classes == 2 ? f1_score(predicted, gold, 1) : macro_f1(predicted, gold, num_classes);
  metrics.mcc = matthews_correlation(predicted, gold, num_classes);
  return metrics;
}

RegressionMetrics regression_metrics(const std::vector<double>& predicted,
                                     const std::vector<double>& gold) {
  check_sizes("regression metrics", predicted.size(), gold.size());
  RegressionMetrics metrics;
  metrics.examples = static_cast<std::int64_t>(gold.size());
  double squared_error = 0;
  for (std::size_t i = 0; i < gold.size(); ++i)
    squared_error += (predicted[i] - gold[i]) * (predicted[i] - gold[i]);
  metrics.mse = gold.empty() ? not_a_number : squared_error / static_cast<double>(gold.size());
  metrics.pearson = pearson_correlation(predicted, gold);
  metrics.spearman = spearman_correlation(predicted, gold);
  return metrics;
}

namespace {
nlohmann::ordered_json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}
}  // namespace

nlohmann::ordered_json to_json(const ClassificationMetrics& metrics) {
  nlohmann::ordered_json json;
  json["examples"] = metrics.examples;
  json["accuracy"] = number_or_null(metrics.accuracy);
  json["f1"] = number_or_null(metrics.f1);
  json["mcc"] = number_or_null(metrics.mcc);
  return json;
}

nlohmann::ordered_json to_json(const RegressionMetrics& metrics) {
  nlohmann::ordered_json json;
  json["examples"] = metrics.examples;
  json["mse"] = number_or_null(metrics.mse);
  json["pearson"] = number_or_null(metrics.pearson);
  json["spearman"] = number_or_null(metrics.spearman);
  return json;
}

}  // namespace electra
