// ELECTRA masking: the k formula, 15% of candidates, the 85/15 split, specials never masked,
// and determinism in (seed, step).
#include "data/masking.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace electra;

namespace {
// Rows of [CLS] w… [SEP] w… [SEP] [PAD]…, lengths varying by row; word ids in [1000, 1100).
PackedBatch make_batch(std::int64_t batch_size, std::int64_t seq_len) {
  const SpecialTokens special;
  std::vector<std::int32_t> ids(batch_size * seq_len, special.pad), types(ids.size(), 0),
      mask(ids.size(), 0);
  for (std::int64_t row = 0; row < batch_size; ++row) {
    const std::int64_t length = seq_len - (row % 5) * (seq_len / 8);
    const std::int64_t a_end = length / 2;
    for (std::int64_t t = 0; t < length; ++t) {
      std::int32_t id = 1000 + static_cast<std::int32_t>((row * 31 + t * 7) % 100);
      if (t == 0) id = special.cls;
      if (t == a_end - 1 || t == length - 1) id = special.sep;
      if (t == 3) id = special.mask;  // a literal [MASK] in the text is not a candidate
      ids[row * seq_len + t] = id;
      types[row * seq_len + t] = t >= a_end ? 1 : 0;
      mask[row * seq_len + t] = 1;
    }
  }
  const Shape shape{batch_size, seq_len};
  return {Tensor::from_vector(ids, shape), Tensor::from_vector(types, shape),
          Tensor::from_vector(mask, shape)};
}

std::int64_t candidates_in_row(const PackedBatch& batch, std::int64_t row) {
  const SpecialTokens special;
  const std::int64_t seq_len = batch.input_ids.dim(1);
  std::int64_t count = 0;
  for (std::int64_t t = 0; t < seq_len; ++t) {
    const std::int32_t id = batch.input_ids.data<std::int32_t>()[row * seq_len + t];
    count += batch.attention_mask.data<std::int32_t>()[row * seq_len + t] == 1 &&
             id != special.cls && id != special.sep && id != special.mask && id != special.pad;
  }
  return count;
}
}  // namespace

TEST_CASE("masking: k is round-half-even of 0.15 n clipped to 1..max_predictions") {
  CHECK(masked_count(0, 0.15, 19) == 0);
  CHECK(masked_count(1, 0.15, 19) == 1);  // 0.15 rounds to 0, clipped up to 1
  CHECK(masked_count(3, 0.15, 19) == 1);  // 0.45
  CHECK(masked_count(4, 0.15, 19) == 1);  // 0.6 → 1
  CHECK(masked_count(20, 0.15, 19) == 3);
  CHECK(masked_count(30, 0.15, 19) == 4);    // float32 0.15·30 = 4.5 → 4 (half to even)
  CHECK(masked_count(50, 0.15, 19) == 8);    // 7.5 → 8
  CHECK(masked_count(125, 0.15, 19) == 19);  // 18.75 → 19
  CHECK(masked_count(126, 0.15, 19) == 19);  // 18.9 → 19, the cap
  CHECK(masked_count(500, 0.15, 19) == 19);
}

TEST_CASE("masking: chosen positions are sorted candidates with k per row and weight-0 padding") {
  const SpecialTokens special;
  const PackedBatch batch = make_batch(32, 128);
  MaskingSettings settings;
  settings.seed = 3;
  const MaskedBatch masked = mask_batch(batch, special, settings, 17);
  CHECK(masked.masked_positions.shape() == Shape{32, 19});
  const std::int32_t* ids = batch.input_ids.data<std::int32_t>();
  const std::int32_t* out = masked.masked_input_ids.data<std::int32_t>();
  const std::int32_t* positions = masked.masked_positions.data<std::int32_t>();
  const std::int32_t* originals = masked.masked_original_ids.data<std::int32_t>();
  const float* weights = masked.masked_weights.data<float>();
  for (std::int64_t row = 0; row < 32; ++row) {
    const std::int64_t k = masked_count(candidates_in_row(batch, row), 0.15, 19);
    std::set<std::int32_t> chosen;
    for (std::int64_t slot = 0; slot < 19; ++slot) {
      const std::int64_t at = row * 19 + slot;
      if (slot < k) {
        CHECK(weights[at] == 1.0f);
        const std::int32_t position = positions[at];
        const std::int32_t original = ids[row * 128 + position];
        CHECK(original != special.cls);
        CHECK(original != special.sep);
        CHECK(original != special.mask);
        CHECK(original != special.pad);
        CHECK(originals[at] == original);
        if (slot > 0) CHECK(positions[at - 1] < position);
        chosen.insert(position);
      } else {
        CHECK(weights[at] == 0.0f);
        CHECK(positions[at] == 0);
        CHECK(originals[at] == 0);
      }
    }
    // Outside the chosen positions nothing changes; inside, [MASK] or the original.
    for (std::int32_t t = 0; t < 128; ++t) {
      const std::int32_t before = ids[row * 128 + t], after = out[row * 128 + t];
      if (chosen.count(t))
        CHECK((after == special.mask || after == before));
      else
        CHECK(after == before);
    }
  }
}

TEST_CASE(
    "masking: 15% of candidates are chosen and 85% of those become MASK at uniform positions") {
  const SpecialTokens special;
  const std::int64_t seq_len = 512;
  const PackedBatch batch = make_batch(64, seq_len);
  MaskingSettings settings;
  settings.max_predictions = 80;  // int((0.15 + 0.005) · 512) = 79; no cap binds at 512
  std::int64_t candidates = 0, chosen = 0, replaced = 0;
  std::vector<std::int64_t> chosen_at(seq_len, 0);
  for (std::int64_t row = 0; row < 64; ++row) candidates += candidates_in_row(batch, row);
  for (std::uint64_t step = 0; step < 20; ++step) {
    const MaskedBatch masked = mask_batch(batch, special, settings, step);
    const std::int32_t* positions = masked.masked_positions.data<std::int32_t>();
    const float* weights = masked.masked_weights.data<float>();
    const std::int32_t* out = masked.masked_input_ids.data<std::int32_t>();
    for (std::int64_t row = 0; row < 64; ++row) {
      for (std::int64_t slot = 0; slot < settings.max_predictions; ++slot) {
        if (weights[row * settings.max_predictions + slot] == 0.0f) continue;
        const std::int32_t position = positions[row * settings.max_predictions + slot];
        ++chosen;
        if (row % 5 == 0) ++chosen_at[position];  // full-length rows: 512 tokens
        replaced += out[row * seq_len + position] == special.mask;
      }
    }
  }
  const double share = static_cast<double>(chosen) / (20.0 * candidates);
  CHECK(share == doctest::Approx(0.15).epsilon(0.01 / 0.15));
  // ~40 000 chosen: the [MASK] share's standard deviation is 0.18%.
  CHECK(static_cast<double>(replaced) / chosen == doctest::Approx(0.85).epsilon(0.01 / 0.85));
  // Uniform over positions: in full-length rows, two spans of 246 candidates free of special
  // tokens ([MASK] at 3, [SEP] at 255 and 511) are hit alike (~3 000 hits each).
  std::int64_t early = 0, late = 0;
  for (std::int64_t t = 4; t < 250; ++t) early += chosen_at[t];
  for (std::int64_t t = 260; t < 506; ++t) late += chosen_at[t];
  CHECK(static_cast<double>(early) / late == doctest::Approx(1.0).epsilon(0.06));
}

TEST_CASE("masking: a pure function of seed and step") {
  const SpecialTokens special;
  const PackedBatch batch = make_batch(8, 64);
  MaskingSettings settings;
  settings.max_predictions = 10;
  settings.seed = 42;
  const auto positions = [&](std::uint64_t seed, std::uint64_t step) {
    MaskingSettings s = settings;
    s.seed = seed;
    const MaskedBatch masked = mask_batch(batch, special, s, step);
    return masked.masked_positions.to_vector();
  };
  CHECK(positions(42, 5) == positions(42, 5));
  CHECK(positions(42, 5) != positions(42, 6));
  CHECK(positions(42, 5) != positions(43, 5));
  const MaskedBatch a = mask_batch(batch, special, settings, 9);
  const MaskedBatch b = mask_batch(batch, special, settings, 9);
  CHECK(a.masked_input_ids.to_vector() == b.masked_input_ids.to_vector());
}

TEST_CASE("masking: rows with no candidates mask nothing") {
  const SpecialTokens special;
  const Shape shape{1, 8};
  const std::vector<std::int32_t> ids = {
      special.cls, special.sep, special.mask, special.sep, 0, 0, 0, 0};
  const std::vector<std::int32_t> mask = {1, 1, 1, 1, 0, 0, 0, 0};
  const PackedBatch batch{Tensor::from_vector(ids, shape), Tensor::zeros(shape, DType::i32),
                          Tensor::from_vector(mask, shape)};
  const MaskedBatch masked = mask_batch(batch, special, MaskingSettings{}, 0);
  CHECK(masked.masked_weights.to_vector() == std::vector<double>(19, 0.0));
  CHECK(masked.masked_input_ids.to_vector() == batch.input_ids.to_vector());
}
