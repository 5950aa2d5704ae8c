#pragma once
// Per-step training metrics (DESIGN §2, "Metrics each logged step") and their JSON Lines log.
//
// Definitions (weights as in the losses: masked_weights for the generator, the non-pad mask for
// the discriminator; a weight counts as "how much this position counts"):
//   gen_acc          Σ w·[argmax logits = original] / Σ w over masked positions
//   gen_sampled_acc  Σ w·[sampled id = original] / Σ w
//   disc_acc         Σ w·[(logit > 0) = label] / Σ w over non-pad tokens (label 1 = replaced)
//   disc_precision   TP / (TP + FP), weighted; NaN when nothing is predicted replaced
//   disc_recall      TP / (TP + FN), weighted; NaN when nothing was replaced
//   disc_auc         ROC AUC of the logits for "replaced" over the tokens with weight > 0: the
//                    Mann–Whitney statistic, ties counted one half (average ranks). Defined only
//                    when both classes are present and no logit is NaN; otherwise NaN.
//   replaced_frac    Σ w·label / Σ w: the share of non-pad tokens the generator changed
//   disc_auc_context, disc_auc_no_special, disc_best_threshold, disc_precision_best,
//   disc_recall_best: the context-only metrics of models/training/context_metrics.hpp (the AUC
//   within each
//                    token id of the discriminator's input, 0.5 for any identity-only rule; the
//                    AUC without [CLS]/[SEP]; the best-F1 logit threshold and P/R there)
// NaN means "undefined this step" and is written as JSON null, so a plot shows a gap rather than
// a made-up 0 or 1. A ratio with Σ w = 0 is NaN as well.
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "data/batch.hpp"
#include "engine/tensor.hpp"
#include "models/networks/electra_model.hpp"

namespace electra {

struct StepMetrics {
  std::int64_t step = 0;
  double total_loss = 0, mlm_loss = 0, disc_loss = 0;
  double gen_acc = 0, gen_sampled_acc = 0;
  double disc_acc = 0, disc_precision = 0, disc_recall = 0, disc_auc = 0;
  double disc_auc_context = 0, disc_auc_no_special = 0;
  double disc_best_threshold = 0, disc_precision_best = 0, disc_recall_best = 0;
  double replaced_frac = 0;
  double grad_norm = 0, lr = 0;
  double tokens_per_s = 0, elapsed_s = 0;
  // The objective's other named losses (StepOutput.losses beyond mlm and disc, e.g. "main_mlm"),
  // in the row's order; logged after the fixed keys as "<name>_loss".
  std::vector<std::pair<std::string, double>> objective_losses;
};

struct BinaryMetrics {
  double accuracy, precision, recall, auc, positive_fraction;
};

// Σ w·[predicted = target] / Σ w; predicted and target i32 of equal numel, weights float.
double weighted_accuracy(const Tensor& predicted_ids, const Tensor& target_ids,
                         const Tensor& weights);
// ROC AUC by the Mann–Whitney statistic with average ranks for ties; NaN unless both classes
// (label > 0.5 and ≤ 0.5) occur, and NaN when any score is NaN (±inf rank like any number).
double roc_auc(const std::vector<double>& scores, const std::vector<double>& labels);
// Accuracy/precision/recall at logit > 0, AUC and the positive share; all tensors [N] or any
// shape of equal numel (labels 0/1 float, weights float).
BinaryMetrics binary_metrics(const Tensor& logits, const Tensor& labels, const Tensor& weights);

// Fills the losses and the accuracy metrics from one step; the caller sets step, grad_norm, lr,
// tokens_per_s and elapsed_s. With objective "mlm" the discriminator metrics are NaN. `special`
// names the [CLS]/[SEP] ids that disc_auc_no_special leaves out.
StepMetrics compute_step_metrics(const StepOutput& output, const MaskedBatch& batch,
                                 const SpecialTokens& special);

// The fixed key order of every line: step, total_loss, mlm_loss, disc_loss, gen_acc,
// gen_sampled_acc, disc_acc, disc_precision, disc_recall, disc_auc, disc_auc_context,
// disc_auc_no_special, disc_best_threshold, disc_precision_best, disc_recall_best, replaced_frac,
// grad_norm, lr, tokens_per_s, elapsed_s; then "<name>_loss" for each objective loss.
const std::vector<std::string>& metrics_keys();
nlohmann::ordered_json metrics_to_json(const StepMetrics& metrics);  // NaN/Inf → null

// Appends one JSON object per line and flushes it, so a killed run keeps every logged step.
class MetricsWriter {
 public:
  // append = true continues an existing log (a resumed run); false truncates it.
  MetricsWriter(const std::string& path, bool append);
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;
  void write(const StepMetrics& metrics);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace electra
