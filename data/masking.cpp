#include "data/masking.hpp"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <vector>

#include "engine/error.hpp"
#include "engine/philox.hpp"

namespace electra {
namespace {
constexpr std::uint32_t masking_domain = 0x4d41534bu;  // "MASK"
}

std::int64_t masked_count(std::int64_t candidates, double mask_probability,
                          std::int64_t max_predictions) {
  if (candidates <= 0) return 0;
  // TF: tf.round(tf.cast(n, float32) * mask_prob) rounds half to even in float32.
  const float product = static_cast<float>(candidates) * static_cast<float>(mask_probability);
  const auto rounded = static_cast<std::int64_t>(std::nearbyint(product));
  return std::clamp<std::int64_t>(rounded, 1, std::max<std::int64_t>(1, max_predictions));
}

MaskedBatch mask_batch(const PackedBatch& batch, const SpecialTokens& special,
                       const MaskingSettings& settings, std::uint64_t step) {
  check_dtype("mask_batch", batch.input_ids, DType::i32);
  check_dtype("mask_batch", batch.attention_mask, DType::i32);
  check(batch.input_ids.rank() == 2, "mask_batch: input_ids must be [batch, seq_len], got ",
        batch.input_ids.shape().str());
  check_same_shape("mask_batch", batch.input_ids, batch.attention_mask);
  check(settings.max_predictions > 0, "mask_batch: max_predictions ", settings.max_predictions,
        " must be positive");
  check(settings.mask_probability > 0 && settings.mask_probability <= 1,
        "mask_batch: mask probability ", settings.mask_probability, " outside (0, 1]");
  check(std::fegetround() == FE_TONEAREST, "mask_batch: the FPU rounding mode is not to-nearest");
  const std::int64_t batch_size = batch.input_ids.dim(0), seq_len = batch.input_ids.dim(1);
  const std::int64_t slots = settings.max_predictions;

  MaskedBatch masked;
  masked.original = batch;
  masked.masked_input_ids = batch.input_ids.clone();
  masked.masked_positions = Tensor::zeros({batch_size, slots}, DType::i32);
  masked.masked_original_ids = Tensor::zeros({batch_size, slots}, DType::i32);
  masked.masked_weights = Tensor::zeros({batch_size, slots}, DType::f32);
  const std::int32_t* ids = batch.input_ids.data<std::int32_t>();
  const std::int32_t* attention = batch.attention_mask.data<std::int32_t>();
  std::int32_t* out_ids = masked.masked_input_ids.data<std::int32_t>();
  std::int32_t* positions = masked.masked_positions.data<std::int32_t>();
  std::int32_t* original_ids = masked.masked_original_ids.data<std::int32_t>();
  float* weights = masked.masked_weights.data<float>();
  const philox::Key key = philox::key_from_seed(settings.seed);

  struct Candidate {
    std::uint32_t order_word;
    std::uint32_t keep_word;
    std::int32_t position;
  };
  std::vector<Candidate> candidates;
  for (std::int64_t row = 0; row < batch_size; ++row) {
    candidates.clear();
    for (std::int64_t t = 0; t < seq_len; ++t) {
      const std::int32_t id = ids[row * seq_len + t];
      if (attention[row * seq_len + t] == 0 || id == special.pad || id == special.cls ||
          id == special.sep || id == special.mask) {
        continue;
      }
      const std::uint64_t element = static_cast<std::uint64_t>(row * seq_len + t);
      const philox::Counter words = philox::philox4x32_10(
          {static_cast<std::uint32_t>(element), static_cast<std::uint32_t>(step),
           static_cast<std::uint32_t>(step >> 32),
           masking_domain ^ static_cast<std::uint32_t>(element >> 32)},
          key);
      candidates.push_back({words[0], words[1], static_cast<std::int32_t>(t)});
    }
    const std::int64_t k = masked_count(static_cast<std::int64_t>(candidates.size()),
                                        settings.mask_probability, slots);
    // The k smallest order words: a uniform k-subset (ties, at 2^-32, go to the earlier position).
    std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end(),
                      [](const Candidate& a, const Candidate& b) {
                        return a.order_word != b.order_word ? a.order_word < b.order_word
                                                            : a.position < b.position;
                      });
    std::sort(candidates.begin(), candidates.begin() + k,
              [](const Candidate& a, const Candidate& b) { return a.position < b.position; });
    for (std::int64_t slot = 0; slot < k; ++slot) {
      const Candidate& chosen = candidates[slot];
      const std::int64_t flat = row * seq_len + chosen.position;
      positions[row * slots + slot] = chosen.position;
      original_ids[row * slots + slot] = ids[flat];
      weights[row * slots + slot] = 1.0f;
      if (philox::uniform_from_word(chosen.keep_word) < settings.mask_token_share) {
        out_ids[flat] = special.mask;
      }
    }
  }
  return masked;
}

}  // namespace electra
