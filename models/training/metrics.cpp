// Training metrics and the JSON Lines log: see metrics.hpp.
#include "models/training/metrics.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/training/context_metrics.hpp"

namespace electra {
namespace {

constexpr double not_defined = std::numeric_limits<double>::quiet_NaN();

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : not_defined;
}

double loss_value(const Var& loss) { return loss.defined() ? loss.value().item() : not_defined; }

}  // namespace

double weighted_accuracy(const Tensor& predicted_ids, const Tensor& target_ids,
                         const Tensor& weights) {
  check(predicted_ids.numel() == target_ids.numel() && target_ids.numel() == weights.numel(),
        "weighted_accuracy: predicted ", predicted_ids.shape().str(), ", targets ",
        target_ids.shape().str(), " and weights ", weights.shape().str(), " differ in size");
  const std::vector<double> predicted = predicted_ids.to_vector();
  const std::vector<double> targets = target_ids.to_vector();
  const std::vector<double> weight = weights.to_vector();
  double correct = 0, total = 0;
  for (std::size_t i = 0; i < weight.size(); ++i) {
    total += weight[i];
    if (predicted[i] == targets[i]) correct += weight[i];
  }
  return ratio(correct, total);
}

double roc_auc(const std::vector<double>& scores, const std::vector<double>& labels) {
  check(scores.size() == labels.size(), "roc_auc: ", scores.size(), " scores but ", labels.size(),
        " labels");
  // A NaN score has no rank: the statistic is undefined (and NaN would break the sort's strict
  // weak order and the tie-run loop below, which compares scores with ==).
  if (std::any_of(scores.begin(), scores.end(), [](double score) { return std::isnan(score); }))
    return not_defined;
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Ranks are 1-based; a run of equal scores shares the average of its ranks, which makes a
  // tied positive/negative pair count one half.
  double positive_rank_sum = 0;
  double positives = 0;
  for (std::size_t begin = 0; begin < order.size();) {
    std::size_t end = begin;
    while (end < order.size() && scores[order[end]] == scores[order[begin]]) ++end;
    const double average_rank = 0.5 * static_cast<double>(begin + 1 + end);
    for (std::size_t i = begin; i < end; ++i) {
      if (labels[order[i]] > 0.5) {
        positive_rank_sum += average_rank;
        positives += 1;
      }
    }
    begin = end;
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return not_defined;
  return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

BinaryMetrics binary_metrics(const Tensor& logits, const Tensor& labels, const Tensor& weights) {
  check(logits.numel() == labels.numel() && labels.numel() == weights.numel(),
        "binary_metrics: logits ", logits.shape().str(), ", labels ", labels.shape().str(),
        " and weights ", weights.shape().str(), " differ in size");
  const std::vector<double> score = logits.to_vector();
  const std::vector<double> label = labels.to_vector();
  const std::vector<double> weight = weights.to_vector();
  double total = 0, correct = 0, true_positive = 0, predicted_positive = 0, actual_positive = 0;
  std::vector<double> kept_scores, kept_labels;
  for (std::size_t i = 0; i < score.size(); ++i) {
    const bool predicted = score[i] > 0;  // σ(logit) > 0.5
    const bool replaced = label[i] > 0.5;
    total += weight[i];
    if (predicted == replaced) correct += weight[i];
    if (predicted && replaced) true_positive += weight[i];
    if (predicted) predicted_positive += weight[i];
    if (replaced) actual_positive += weight[i];
    if (weight[i] > 0) {
      kept_scores.push_back(score[i]);
      kept_labels.push_back(label[i]);
    }
  }
  return {ratio(correct, total), ratio(true_positive, predicted_positive),
          ratio(true_positive, actual_positive), roc_auc(kept_scores, kept_labels),
          ratio(actual_positive, total)};
}

StepMetrics compute_step_metrics(const StepOutput& output, const MaskedBatch& batch,
                                 const SpecialTokens& special) {
  StepMetrics metrics;
  metrics.total_loss = loss_value(output.total_loss);
  metrics.mlm_loss = loss_value(output.mlm_loss);
  metrics.disc_loss = loss_value(output.disc_loss);
  for (const NamedLoss& term : output.losses)
    if (term.name != "mlm" && term.name != "disc")
      metrics.objective_losses.emplace_back(term.name, loss_value(term.loss));

  // Argmax on the logits' device: [B·P, V] is too big to copy to the host as doubles.
  Tensor argmax = Tensor::empty({output.mlm_logits.dim(0)}, DType::i32, output.mlm_logits.device());
  kernels::argmax_rows(output.mlm_logits, argmax);
  metrics.gen_acc = weighted_accuracy(argmax, batch.masked_original_ids, batch.masked_weights);
  metrics.gen_sampled_acc =
      output.sampled_ids.defined()
          ? weighted_accuracy(output.sampled_ids, batch.masked_original_ids, batch.masked_weights)
          : not_defined;

  if (output.disc_logits.defined()) {
    const BinaryMetrics disc =
        binary_metrics(output.disc_logits, output.disc_labels, output.disc_weights);
    metrics.disc_acc = disc.accuracy;
    metrics.disc_precision = disc.precision;
    metrics.disc_recall = disc.recall;
    metrics.disc_auc = disc.auc;
    metrics.replaced_frac = disc.positive_fraction;
    const ContextMetrics context =
        context_metrics(output.disc_logits, output.disc_labels, output.disc_weights,
                        output.corrupted_ids, special.cls, special.sep);
    metrics.disc_auc_context = context.auc_context;
    metrics.disc_auc_no_special = context.auc_no_special;
    metrics.disc_best_threshold = context.best_threshold;
    metrics.disc_precision_best = context.precision_best;
    metrics.disc_recall_best = context.recall_best;
  } else {
    metrics.disc_acc = metrics.disc_precision = metrics.disc_recall = metrics.disc_auc =
        metrics.replaced_frac = metrics.disc_auc_context = metrics.disc_auc_no_special =
            metrics.disc_best_threshold = metrics.disc_precision_best = metrics.disc_recall_best =
                not_defined;
  }
  return metrics;
}

const std::vector<std::string>& metrics_keys() {
  static const std::vector<std::string> keys{"step",
                                             "total_loss",
                                             "mlm_loss",
                                             "disc_loss",
                                             "gen_acc",
                                             "gen_sampled_acc",
                                             "disc_acc",
                                             "disc_precision",
                                             "disc_recall",
                                             "disc_auc",
                                             "disc_auc_context",
                                             "disc_auc_no_special",
                                             "disc_best_threshold",
                                             "disc_precision_best",
                                             "disc_recall_best",
                                             "replaced_frac",
                                             "grad_norm",
                                             "lr",
                                             "tokens_per_s",
                                             "elapsed_s"};
  return keys;
}

nlohmann::ordered_json metrics_to_json(const StepMetrics& metrics) {
  const double values[] = {metrics.total_loss,
                           metrics.mlm_loss,
                           metrics.disc_loss,
                           metrics.gen_acc,
                           metrics.gen_sampled_acc,
                           metrics.disc_acc,
                           metrics.disc_precision,
                           metrics.disc_recall,
                           metrics.disc_auc,
                           metrics.disc_auc_context,
                           metrics.disc_auc_no_special,
                           metrics.disc_best_threshold,
                           metrics.disc_precision_best,
                           metrics.disc_recall_best,
                           metrics.replaced_frac,
                           metrics.grad_norm,
                           metrics.lr,
                           metrics.tokens_per_s,
                           metrics.elapsed_s};
  nlohmann::ordered_json line;
  line["step"] = metrics.step;
  const std::vector<std::string>& keys = metrics_keys();
  for (std::size_t i = 0; i < std::size(values); ++i) {
    // JSON has no NaN; nlohmann would write null anyway, but say so explicitly.
    line[keys[i + 1]] = std::isfinite(values[i]) ? nlohmann::ordered_json(values[i])
                                                 : nlohmann::ordered_json(nullptr);
  }
  for (const auto& [name, value] : metrics.objective_losses)
    line[name + "_loss"] =
        std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
  return line;
}

MetricsWriter::MetricsWriter(const std::string& path, bool append) : path_(path) {
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  check(file_ != nullptr, "metrics: cannot open ", path, ": ", std::strerror(errno));
}

MetricsWriter::~MetricsWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsWriter::write(const StepMetrics& metrics) {
  const std::string line = metrics_to_json(metrics).dump() + "\n";
  const bool written =
      std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0;
  check(written, "metrics: write error in ", path_, ": ", std::strerror(errno));
}

}  // namespace electra
