#pragma once
// Discriminator metrics that tell judging a token *in context* apart from recognising its
// identity (issue: "the discriminator must learn in context").
//
// Once the generator samples like the unigram distribution, a rule that only looks at a token's
// id ("rare ids are replacements") still scores a plain AUC above 0.5. These metrics do not
// reward such a rule:
//   disc_auc_context      the Mann–Whitney AUC between replaced and original tokens that carry
//                         the SAME id in the discriminator's input, pooled over ids by pair
//                         count: Σ_v U_v / Σ_v n⁺_v·n⁻_v. Any score that is a function of the id
//                         alone ties every within-id pair, so it scores exactly 0.5.
//   disc_auc_no_special   the plain AUC over the tokens other than [CLS]/[SEP] (which are never
//                         replaced, so a network that only learned "[CLS] is original" gains
//                         there).
//   disc_best_threshold   the logit threshold with the best F1 (predict "replaced" when
//   disc_precision_best   logit ≥ threshold), and the precision and recall there, next to the
//   disc_recall_best      ones at logit > 0 that the plain metrics report.
// Every value is NaN when undefined (no within-id pair, one class only, a non-finite score).
#include <cstdint>
#include <vector>

#include "engine/tensor.hpp"

namespace electra {

// Pooled within-id AUC; scores, labels (1 = replaced) and ids of the counted tokens.
double context_auc(const std::vector<double>& scores, const std::vector<double>& labels,
                   const std::vector<std::int32_t>& token_ids);

struct BestThreshold {
  double threshold, precision, recall, f1;
};
// Sweeps every distinct score as a threshold (score ≥ t → positive); the highest F1 wins, the
// larger threshold on a tie. NaN fields when there is no positive or a score is not finite.
BestThreshold best_f1_threshold(const std::vector<double>& scores,
                                const std::vector<double>& labels);

struct ContextMetrics {
  double auc_context, auc_no_special, best_threshold, precision_best, recall_best;
};
// logits, labels, weights [B, L] (any float dtype, any device) and input_ids i32 [B, L]: the ids
// the discriminator read. Tokens with weight 0 (padding) are left out; cls and sep name the
// tokens left out of auc_no_special.
ContextMetrics context_metrics(const Tensor& logits, const Tensor& labels, const Tensor& weights,
                               const Tensor& input_ids, std::int32_t cls, std::int32_t sep);

}  // namespace electra
