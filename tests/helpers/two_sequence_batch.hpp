#pragma once
// The hand-made masked batches of the model and objective tests: two sequences of 16 tokens over
// ids [PAD] 0, [CLS] 1, [SEP] 2, [MASK] 3 and random ordinary ids in [4, max_token]; the second
// sequence has 4 padding tokens and a second segment after position 6. Slots (3, 5, 7) and
// (2, 9, padding): position 7 keeps its token (BERT's 10% keep), the last slot has weight 0.
#include <cstdint>
#include <random>
#include <vector>

#include "data/batch.hpp"

namespace electra::test {

inline MaskedBatch two_sequence_batch(std::uint32_t seed, std::int32_t max_token,
                                      DType weight_dtype = DType::f32) {
  constexpr std::int32_t pad = 0, cls = 1, sep = 2, mask_id = 3;
  const std::int64_t batch = 2, length = 16, predictions = 3;
  std::mt19937 random(seed);
  std::uniform_int_distribution<std::int32_t> token(4, max_token);
  std::vector<std::int32_t> ids(batch * length), types(batch * length, 0), mask(batch * length, 1);
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t used = b == 0 ? length : 12;
    for (std::int64_t t = 0; t < length; ++t) {
      const std::int64_t i = b * length + t;
      if (t >= used) {
        ids[i] = pad;
        mask[i] = 0;
        continue;
      }
      ids[i] = t == 0 ? cls : (t == 6 || t == used - 1) ? sep : token(random);
      types[i] = t > 6 ? 1 : 0;
    }
  }
  const std::vector<std::int32_t> positions = {3, 5, 7, 2, 9, 0};
  const std::vector<float> weights = {1, 1, 1, 1, 1, 0};
  std::vector<std::int32_t> originals(batch * predictions), masked_ids = ids;
  for (std::int64_t slot = 0; slot < batch * predictions; ++slot) {
    const std::int64_t b = slot / predictions;
    originals[slot] = weights[slot] == 0 ? 0 : ids[b * length + positions[slot]];
    if (weights[slot] != 0 && positions[slot] != 7)
      masked_ids[b * length + positions[slot]] = mask_id;
  }
  MaskedBatch out;
  out.original.input_ids = Tensor::from_vector(ids, {batch, length});
  out.original.token_type_ids = Tensor::from_vector(types, {batch, length});
  out.original.attention_mask = Tensor::from_vector(mask, {batch, length});
  out.masked_input_ids = Tensor::from_vector(masked_ids, {batch, length});
  out.masked_positions = Tensor::from_vector(positions, {batch, predictions});
  out.masked_original_ids = Tensor::from_vector(originals, {batch, predictions});
  out.masked_weights = Tensor::from_vector(weights, {batch, predictions}).to(weight_dtype);
  return out;
}

// A smaller one without special tokens or padding: two rows of 12 random ids in [4, 60) (seed
// 11), 3 masked positions each, all weight 1; with `second_segment`, token type 1 from position 6.
inline MaskedBatch twelve_token_batch(bool second_segment) {
  const std::int64_t batch = 2, length = 12, predictions = 3;
  std::mt19937 random(11);
  std::uniform_int_distribution<std::int32_t> token(4, 59);
  std::vector<std::int32_t> ids(batch * length), types(batch * length, 0), mask(batch * length, 1);
  for (std::int64_t i = 0; i < batch * length; ++i) {
    ids[i] = token(random);
    types[i] = second_segment && i % length >= 6 ? 1 : 0;
  }
  const std::vector<std::int32_t> positions = {2, 5, 8, 1, 4, 10};
  std::vector<std::int32_t> originals(batch * predictions), masked = ids;
  for (std::int64_t slot = 0; slot < batch * predictions; ++slot) {
    const std::int64_t at = (slot / predictions) * length + positions[slot];
    originals[slot] = ids[at];
    masked[at] = 3;
  }
  MaskedBatch out;
  out.original.input_ids = Tensor::from_vector(ids, {batch, length});
  out.original.token_type_ids = Tensor::from_vector(types, {batch, length});
  out.original.attention_mask = Tensor::from_vector(mask, {batch, length});
  out.masked_input_ids = Tensor::from_vector(masked, {batch, length});
  out.masked_positions = Tensor::from_vector(positions, {batch, predictions});
  out.masked_original_ids = Tensor::from_vector(originals, {batch, predictions});
  out.masked_weights =
      Tensor::from_vector(std::vector<float>(batch * predictions, 1.0f), {batch, predictions});
  return out;
}

}  // namespace electra::test
