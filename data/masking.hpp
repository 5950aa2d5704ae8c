#pragma once
// ELECTRA's masking (DESIGN §2 step 2), a pure function of (batch, seed, step):
//   candidates = positions with attention 1 whose id is not [CLS], [SEP] or [MASK];
//   n = their count; k = clip(round(0.15 · n), 1, max_predictions) (0 when n = 0), with TF's
//   round-half-to-even on a float32 product as in pretrain_helpers.mask;
//   k positions chosen uniformly without replacement; each becomes [MASK] with probability 0.85
//   and otherwise keeps its token (no random-token replacement).
// Draws: one Philox block per (step, row, position), key = seed:
//   counter = { row · L + position, low32(step), high32(step), "MASK" }
//   word 0 orders the candidates (the k smallest are chosen, ties by position),
//   word 1 decides [MASK] vs keep (uniform_from_word(word 1) < mask_token_share → [MASK]).
// So the CPU and a CUDA kernel can draw the same masks, and a resumed run masks as before.
#include <cstdint>

#include "data/batch.hpp"

namespace electra {

// k for n candidates: clip(round_half_even(float(n) · p), 1, max_predictions); 0 when n = 0.
std::int64_t masked_count(std::int64_t candidates, double mask_probability,
                          std::int64_t max_predictions);

// Masked positions are sorted ascending within a row; the rest of the row's max_predictions
// slots are position 0, id 0, weight 0.
MaskedBatch mask_batch(const PackedBatch& batch, const SpecialTokens& special,
                       const MaskingSettings& settings, std::uint64_t step);

}  // namespace electra
