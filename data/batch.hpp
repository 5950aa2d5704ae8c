#pragma once
// What a training step eats: packed sequences from the shards, then the same with ELECTRA's
// masking applied (DESIGN §2 steps 1–2). Produced by data/, consumed by models/.
#include <cstdint>

#include "engine/tensor.hpp"

namespace electra {

// Ids of the special tokens, looked up by name in the vocabulary.
struct SpecialTokens {
  std::int32_t pad = 0, unk = 100, cls = 101, sep = 102, mask = 103;
};

// A batch of packed sequences `[CLS] A [SEP] B [SEP] [PAD]...`, all i32 [batch, seq_len].
struct PackedBatch {
  Tensor input_ids;
  Tensor token_type_ids;  // 0 for segment A (and [CLS]), 1 for segment B
  Tensor attention_mask;  // 1 for tokens, 0 for padding
};

struct MaskingSettings {
  double mask_probability = 0.15;
  std::int64_t max_predictions = 19;  // int((0.15 + 0.005) · L): 19 at L = 128
  double mask_token_share = 0.85;     // of the chosen positions; the rest keep their token
  std::uint64_t seed = 0;
};

// The masked batch. Positions index within a sequence; rows with fewer than max_predictions
// chosen positions are padded with position 0, id 0 and weight 0.
struct MaskedBatch {
  PackedBatch original;        // the unmasked batch
  Tensor masked_input_ids;     // i32 [batch, seq_len]: chosen positions → [MASK] (85%) or kept
  Tensor masked_positions;     // i32 [batch, max_predictions]
  Tensor masked_original_ids;  // i32 [batch, max_predictions]: the ids that were there
  Tensor masked_weights;  // f32 [batch, max_predictions]: 1 for a real prediction, 0 for padding
};

}  // namespace electra
