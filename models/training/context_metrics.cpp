// Context-only discriminator metrics: see context_metrics.hpp.
#include "models/training/context_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/error.hpp"

namespace electra {
namespace {

constexpr double not_defined = std::numeric_limits<double>::quiet_NaN();

bool all_finite(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

// Σ_g U_g / Σ_g n⁺_g·n⁻_g over groups g, U_g the Mann–Whitney count of (positive, negative)
// pairs of group g won by the positive, ties counted one half. One group gives the ROC AUC.
double pooled_auc(const std::vector<double>& scores, const std::vector<double>& labels,
                  const std::vector<std::int32_t>& groups) {
  if (!all_finite(scores)) return not_defined;  // a NaN has no rank
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return groups[a] != groups[b] ? groups[a] < groups[b] : scores[a] < scores[b];
  });
  double won = 0, pairs = 0;
  for (std::size_t group_begin = 0; group_begin < order.size();) {
    std::size_t group_end = group_begin;
    while (group_end < order.size() && groups[order[group_end]] == groups[order[group_begin]])
      ++group_end;
    double negatives_below = 0, positives = 0;
    for (std::size_t run_begin = group_begin; run_begin < group_end;) {
      std::size_t run_end = run_begin;
      double run_positives = 0, run_negatives = 0;
      while (run_end < group_end && scores[order[run_end]] == scores[order[run_begin]]) {
        (labels[order[run_end]] > 0.5 ? run_positives : run_negatives) += 1;
        ++run_end;
      }
      won += run_positives * (negatives_below + 0.5 * run_negatives);
      negatives_below += run_negatives;
      positives += run_positives;
      run_begin = run_end;
    }
    pairs += positives * negatives_below;  // negatives_below is now the group's negatives
    group_begin = group_end;
  }
  return pairs > 0 ? won / pairs : not_defined;
}

}  // namespace

double context_auc(const std::vector<double>& scores, const std::vector<double>& labels,
                   const std::vector<std::int32_t>& token_ids) {
  check(scores.size() == labels.size() && labels.size() == token_ids.size(),
        "context_auc: ", scores.size(), " scores, ", labels.size(), " labels and ",
        token_ids.size(), " ids");
  return pooled_auc(scores, labels, token_ids);
}

BestThreshold best_f1_threshold(const std::vector<double>& scores,
                                const std::vector<double>& labels) {
  check(scores.size() == labels.size(), "best_f1_threshold: ", scores.size(), " scores but ",
        labels.size(), " labels");
  BestThreshold best{not_defined, not_defined, not_defined, not_defined};
  const double positives = static_cast<double>(
      std::count_if(labels.begin(), labels.end(), [](double l) { return l > 0.5; }));
  if (positives == 0 || !all_finite(scores)) return best;
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  // Lowering the threshold one run of equal scores at a time adds that run to the predictions.
  double true_positives = 0, predicted = 0;
  for (std::size_t begin = 0; begin < order.size();) {
    std::size_t end = begin;
    while (end < order.size() && scores[order[end]] == scores[order[begin]]) {
      true_positives += labels[order[end]] > 0.5;
      predicted += 1;
      ++end;
    }
    const double precision = true_positives / predicted, recall = true_positives / positives;
    const double f1 = true_positives > 0 ? 2 * precision * recall / (precision + recall) : 0;
    if (!(f1 <= best.f1)) best = {scores[order[begin]], precision, recall, f1};  // first: NaN
    begin = end;
  }
  return best;
}

ContextMetrics context_metrics(const Tensor& logits, const Tensor& labels, const Tensor& weights,
                               const Tensor& input_ids, std::int32_t cls, std::int32_t sep) {
  check(logits.numel() == labels.numel() && labels.numel() == weights.numel() &&
            weights.numel() == input_ids.numel(),
        "context_metrics: logits ", logits.shape().str(), ", labels ", labels.shape().str(),
        ", weights ", weights.shape().str(), " and input ids ", input_ids.shape().str(),
        " differ in size");
  const std::vector<double> score = logits.to_vector();
  const std::vector<double> label = labels.to_vector();
  const std::vector<double> weight = weights.to_vector();
  const Tensor ids = input_ids.to(Device::cpu);
  const std::int32_t* id = ids.data<std::int32_t>();

  std::vector<double> kept_scores, kept_labels, ordinary_scores, ordinary_labels;
  std::vector<std::int32_t> kept_ids;
  for (std::size_t i = 0; i < score.size(); ++i) {
    if (!(weight[i] > 0)) continue;
    kept_scores.push_back(score[i]);
    kept_labels.push_back(label[i]);
    kept_ids.push_back(id[i]);
    if (id[i] != cls && id[i] != sep) {
      ordinary_scores.push_back(score[i]);
      ordinary_labels.push_back(label[i]);
    }
  }
  const BestThreshold best = best_f1_threshold(kept_scores, kept_labels);
  return {context_auc(kept_scores, kept_labels, kept_ids),
          pooled_auc(ordinary_scores, ordinary_labels,
                     std::vector<std::int32_t>(ordinary_scores.size(), 0)),
          best.threshold, best.precision, best.recall};
}

}  // namespace electra
