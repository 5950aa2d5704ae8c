// The CUDA backend end to end: a short training run on cuda must follow the CPU run with the same
// seed (same initial weights, masks, dropout and Gumbel samples) loss for loss. The errors a user
// sees without a GPU are checked in every build by tests/models/device_errors_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "autograd/tape.hpp"
#include "data/masking.hpp"
#include "engine/device.hpp"
#include "models/networks/electra_model.hpp"
#include "models/training/optimizer.hpp"

using namespace electra;

namespace {

constexpr std::int64_t kVocab = 60, kBatch = 2, kLength = 16;
const SpecialTokens kSpecial{/*pad=*/0, /*unk=*/1, /*cls=*/2, /*sep=*/3, /*mask=*/4};

ModelConfig parity_config() {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = kVocab;
  config.seq_len = kLength;
  config.batch_size = kBatch;
  return config;
}

// [CLS] A [SEP] B [SEP] [PAD]… with random ids; the second row has 5 padding tokens.
PackedBatch packed_batch(std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<std::int32_t> token(5, kVocab - 1);
  std::vector<std::int32_t> ids(kBatch * kLength), types(kBatch * kLength, 0),
      mask(kBatch * kLength, 0);
  for (std::int64_t b = 0; b < kBatch; ++b) {
    const std::int64_t used = b == 0 ? kLength : kLength - 5;
    for (std::int64_t t = 0; t < used; ++t) {
      const std::int64_t i = b * kLength + t;
      ids[i] = t == 0 ? kSpecial.cls : (t == 7 || t == used - 1) ? kSpecial.sep : token(random);
      types[i] = t > 7 ? 1 : 0;
      mask[i] = 1;
    }
  }
  return {Tensor::from_vector(ids, {kBatch, kLength}),
          Tensor::from_vector(types, {kBatch, kLength}),
          Tensor::from_vector(mask, {kBatch, kLength})};
}

struct StepLosses {
  double total = 0, mlm = 0, disc = 0;
};

// `steps` updates on `device` with dropout on: fresh masks every step (CPU batches, as data/
// makes them). With `samples` empty the model draws its own Gumbel samples and appends them;
// otherwise it is fed samples[step], so both runs corrupt the same tokens.
std::vector<StepLosses> train(Device device, int steps, std::vector<Tensor>& samples) {
  const ModelConfig config = parity_config();
  ParameterStore store;
  const ElectraModel model(config, store, /*seed=*/1234, DType::f32, device);
  AdamWConfig adam;
  adam.weight_decay = 0.01;
  AdamW optimizer(store, adam);
  MaskingSettings masking;
  masking.max_predictions = 4;
  masking.seed = 99;
  const bool draw_samples = samples.empty();
  std::vector<StepLosses> losses;
  for (int step = 0; step < steps; ++step) {
    const MaskedBatch batch = mask_batch(packed_batch(500 + step), kSpecial, masking, step);
    Tape tape;
    const StepOutput out = draw_samples ? model.forward(tape, batch, step, /*training=*/true)
                                        : model.forward_with_samples(tape, batch, samples[step],
                                                                     step, /*training=*/true);
    if (draw_samples) samples.push_back(out.sampled_ids.to(Device::cpu));
    losses.push_back(
        {out.total_loss.value().item(), out.mlm_loss.value().item(), out.disc_loss.value().item()});
    tape.backward(out.total_loss);
    optimizer.step(1e-3);
    store.zero_grad();
  }
  return losses;
}

bool close(double cuda, double cpu, double relative) {
  return std::abs(cuda - cpu) <= relative * std::max(std::abs(cpu), 1e-6);
}

}  // namespace

TEST_CASE("cuda parity: 20 training steps on cuda follow the CPU run with the same seed") {
  MESSAGE("running on " << device_description(Device::cuda));
  set_allow_tf32(false);  // TF32 products would differ from the CPU far beyond 1e-4
  constexpr int steps = 20;
  std::vector<Tensor> samples;
  const std::vector<StepLosses> cpu = train(Device::cpu, steps, samples);
  REQUIRE(samples.size() == static_cast<std::size_t>(steps));
  const std::vector<StepLosses> cuda = train(Device::cuda, steps, samples);
  REQUIRE(cuda.size() == cpu.size());
  for (int step = 0; step < steps; ++step) {
    CAPTURE(step);
    CAPTURE(cpu[step].total);
    CAPTURE(cuda[step].total);
    CHECK(std::isfinite(cuda[step].total));
    CHECK(close(cuda[step].total, cpu[step].total, 1e-4));
    CHECK(close(cuda[step].mlm, cpu[step].mlm, 1e-4));
    CHECK(close(cuda[step].disc, cpu[step].disc, 1e-4));
  }
  // Training moved the losses (the discriminator learns fastest: total ≈ 38 → 22 on the CPU), so
  // the comparison above is between two runs that both learned, not two that stood still.
  CHECK(cpu.back().total < 0.8 * cpu.front().total);
}
