#include "models/electra_model.hpp"

#include <cmath>

#include "autograd/ops.hpp"
#include "engine/device.hpp"

namespace electra {
namespace {

struct BatchSizes {
  std::int64_t batch = 0, length = 0, predictions = 0;
};

// Checks every tensor of the masked batch against [B, L] / [B, P] and returns the sizes.
BatchSizes check_batch(const MaskedBatch& batch) {
  const Tensor& ids = batch.original.input_ids;
  check(ids.defined() && ids.rank() == 2, "ElectraModel: input_ids must be [batch, seq_len], got ",
        ids.defined() ? ids.shape().str() : std::string("undefined"));
  BatchSizes sizes{ids.dim(0), ids.dim(1), 0};
  check(batch.masked_positions.defined() && batch.masked_positions.rank() == 2 &&
            batch.masked_positions.dim(0) == sizes.batch,
        "ElectraModel: masked_positions must be [", sizes.batch, ", predictions], got ",
        batch.masked_positions.defined() ? batch.masked_positions.shape().str()
                                         : std::string("undefined"));
  sizes.predictions = batch.masked_positions.dim(1);
  const Shape sequence{sizes.batch, sizes.length}, predictions{sizes.batch, sizes.predictions};
  check_shape("ElectraModel", "token_type_ids", batch.original.token_type_ids, sequence);
  check_shape("ElectraModel", "attention_mask", batch.original.attention_mask, sequence);
  check_shape("ElectraModel", "masked_input_ids", batch.masked_input_ids, sequence);
  check_shape("ElectraModel", "masked_original_ids", batch.masked_original_ids, predictions);
  check_shape("ElectraModel", "masked_weights", batch.masked_weights, predictions);
  for (const Tensor* ids_tensor : {&ids, &batch.original.token_type_ids, &batch.original.attention_mask,
                                   &batch.masked_input_ids, &batch.masked_positions,
                                   &batch.masked_original_ids})
    check_dtype("ElectraModel", *ids_tensor, DType::i32);
  return sizes;
}

// The batch's tensors on `device`: no copy for tensors already there, undefined ones stay
// undefined (the shape checks report them).
Tensor moved(const Tensor& tensor, Device device) {
  return tensor.defined() ? tensor.to(device) : tensor;
}
PackedBatch packed_on(const PackedBatch& batch, Device device) {
  return {moved(batch.input_ids, device), moved(batch.token_type_ids, device),
          moved(batch.attention_mask, device)};
}
MaskedBatch masked_on(const MaskedBatch& batch, Device device) {
  return {packed_on(batch.original, device), moved(batch.masked_input_ids, device),
          moved(batch.masked_positions, device), moved(batch.masked_original_ids, device),
          moved(batch.masked_weights, device)};
}

// masked_rows i32 [B·P] = b·L + masked_positions[b, p]: rows of the flattened [B·L, H] sequence.
Tensor flat_masked_rows(const Tensor& masked_positions, std::int64_t length) {
  const Tensor positions = masked_positions.to(Device::cpu);
  const std::int64_t batch = positions.dim(0), predictions = positions.dim(1);
  Tensor rows = Tensor::empty({batch * predictions}, DType::i32);
  const std::int32_t* position = positions.data<std::int32_t>();
  std::int32_t* row = rows.data<std::int32_t>();
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t p = 0; p < predictions; ++p) {
      const std::int32_t at = position[b * predictions + p];
      check(at >= 0 && at < length, "ElectraModel: masked position ", at, " outside [0, ",
            length, ")");
      row[b * predictions + p] = static_cast<std::int32_t>(b * length + at);
    }
  return rows;
}

struct Corruption {
  Tensor corrupted_ids;  // i32 [B, L]
  Tensor labels;         // [B, L] in the model dtype
};

// Puts sampled ids at the masked positions of the ORIGINAL ids (DESIGN §2 step 6). Padding slots
// (weight 0) are skipped: their position 0 is [CLS], which the official scatter_update also
// never overwrites. Label 1 where the token now differs from the original.
Corruption corrupt(const MaskedBatch& batch, const Tensor& sampled_ids, DType dtype) {
  const Tensor original = batch.original.input_ids.to(Device::cpu);
  const Tensor positions = batch.masked_positions.to(Device::cpu);
  const Tensor weights = batch.masked_weights.to(Device::cpu).to(DType::f64);
  const Tensor samples = sampled_ids.to(Device::cpu);
  const std::int64_t batch_size = original.dim(0), length = original.dim(1);
  const std::int64_t predictions = positions.dim(1);

  Corruption result{original.clone(), Tensor::zeros(original.shape(), DType::f64)};
  std::int32_t* corrupted = result.corrupted_ids.data<std::int32_t>();
  for (std::int64_t b = 0; b < batch_size; ++b)
    for (std::int64_t p = 0; p < predictions; ++p) {
      const std::int64_t slot = b * predictions + p;
      if (weights.data<double>()[slot] == 0.0) continue;
      corrupted[b * length + positions.data<std::int32_t>()[slot]] = samples.data<std::int32_t>()[slot];
    }
  const std::int32_t* before = original.data<std::int32_t>();
  double* label = result.labels.data<double>();
  for (std::int64_t i = 0; i < original.numel(); ++i) label[i] = corrupted[i] != before[i] ? 1.0 : 0.0;
  result.labels = result.labels.to(dtype);
  return result;
}

Tensor sigmoid_on_host(const Tensor& logits, const Tensor& attention_mask) {
  const Tensor z = logits.to(Device::cpu).to(DType::f64);
  const Tensor mask = attention_mask.to(Device::cpu);
  Tensor probability = Tensor::empty(z.shape(), DType::f32);
  for (std::int64_t i = 0; i < z.numel(); ++i)
    probability.data<float>()[i] =
        mask.data<std::int32_t>()[i] == 0 ? 0.0f
                                          : static_cast<float>(1.0 / (1.0 + std::exp(-z.data<double>()[i])));
  return probability;
}

// loss·weight, without a node when the weight is 1.
Var weighted(Tape& tape, const Var& loss, double weight) {
  return weight == 1.0 ? loss : ops::scale(tape, loss, weight);
}

}  // namespace

ElectraModel::ElectraModel(const ModelConfig& config, ParameterStore& store, std::uint64_t seed,
                           DType dtype, Device device)
    : config_(config), seed_(seed), dtype_(dtype), device_(device) {
  config_.validate();
  check(device == Device::cpu || dtype == DType::f32, "ElectraModel: the CUDA backend computes "
        "in f32 only, got dtype ", dtype_name(dtype), " (f64 is for CPU gradient checks)");
  require_device(device, "ElectraModel: device");
  ParameterFactory factory(store, seed, dtype, config_.initializer_range, device);
  embeddings_ = std::make_unique<SharedEmbeddings>(factory, config_);
  generator_ = std::make_unique<Generator>(factory, config_, config_.generator_dims(), *embeddings_);
  if (config_.has_discriminator())
    discriminator_ = std::make_unique<Discriminator>(factory, config_, *embeddings_);
}

ElectraModel::~ElectraModel() = default;

StepOutput ElectraModel::forward(Tape& tape, const MaskedBatch& batch, std::uint64_t step,
                                 bool training) const {
  return forward_with_samples(tape, batch, Tensor(), step, training);
}

StepOutput ElectraModel::forward_with_samples(Tape& tape, const MaskedBatch& host_batch,
                                              const Tensor& given_samples, std::uint64_t step,
                                              bool training) const {
  const BatchSizes sizes = check_batch(host_batch);
  // Kernels read the device copy; the host-side steps (masked rows, corruption) read host_batch,
  // which saves copying the ids back when the caller's batch is on the CPU (data/ makes them so).
  const MaskedBatch batch = masked_on(host_batch, device_);
  const std::int64_t rows = sizes.batch * sizes.predictions;
  StepOutput out;

  // Generator → MLM loss at the masked positions (steps 3–4).
  const streams::DropoutContext generator_dropout{seed_, step, training, streams::generator_sites};
  const Var mlm_logits = generator_->forward(
      tape, *embeddings_, batch.masked_input_ids, batch.original.token_type_ids,
      batch.original.attention_mask, flat_masked_rows(host_batch.masked_positions, sizes.length).to(device_),
      generator_dropout);                                                       // [B·P, V]
  const Tensor targets = batch.masked_original_ids.reshape({rows});
  const Tensor mlm_weights = batch.masked_weights.to(dtype_).reshape({rows});
  out.mlm_loss = ops::cross_entropy(tape, mlm_logits, targets, mlm_weights);
  out.mlm_logits = mlm_logits.value();
  if (!discriminator_) {
    out.total_loss = weighted(tape, out.mlm_loss, config_.mlm_weight);
    return out;
  }

  // Sample (no gradient: drawn from the logits' values, never from the Var) and corrupt (5–6).
  if (given_samples.defined()) {
    check_shape("ElectraModel", "sampled_ids", given_samples, {sizes.batch, sizes.predictions});
    check_dtype("ElectraModel", given_samples, DType::i32);
    out.sampled_ids = given_samples;
  } else {
    out.sampled_ids = draw_samples(out.mlm_logits, host_batch, step);
  }
  Corruption corruption = corrupt(host_batch, out.sampled_ids, dtype_);
  out.corrupted_ids = corruption.corrupted_ids.to(device_);
  out.disc_labels = corruption.labels.to(device_);
  out.disc_weights = host_batch.original.attention_mask.to(dtype_).to(device_);

  // Discriminator → BCE over every non-pad token (7–8); total (9).
  const streams::DropoutContext discriminator_dropout{seed_, step, training,
                                                      streams::discriminator_sites};
  const Var disc_logits = discriminator_->forward(tape, *embeddings_, out.corrupted_ids,
                                                  batch.original.token_type_ids,
                                                  batch.original.attention_mask,
                                                  discriminator_dropout);  // [B, L]
  out.disc_logits = disc_logits.value();
  out.disc_loss = ops::bce_with_logits(tape, disc_logits, out.disc_labels, out.disc_weights);
  out.total_loss = ops::add(tape, weighted(tape, out.mlm_loss, config_.mlm_weight),
                            weighted(tape, out.disc_loss, config_.disc_weight));
  return out;
}

// logits [B·P, V] → i32 [B, P]: a draw from softmax(logits/temperature) per row (0 in padding
// slots). Inverse CDF with one uniform per row: the distribution of the official Gumbel-max.
Tensor ElectraModel::draw_samples(const Tensor& mlm_logits, const MaskedBatch& batch,
                                  std::uint64_t step) const {
  const std::int64_t batch_size = batch.masked_positions.dim(0);
  const std::int64_t predictions = batch.masked_positions.dim(1);
  const std::int64_t vocab = mlm_logits.dim(1);
  Tensor logits = mlm_logits;
  if (config_.disallow_correct) {
    // The official code subtracts 1000 from logits/temperature; the kernel divides by the
    // temperature itself, so subtract 1000·temperature here.
    logits = mlm_logits.to(Device::cpu).to(DType::f64);
    const Tensor original = batch.masked_original_ids.to(Device::cpu);
    for (std::int64_t r = 0; r < batch_size * predictions; ++r)
      logits.data<double>()[r * vocab + original.data<std::int32_t>()[r]] -= 1000.0 * config_.temperature;
    logits = logits.to(mlm_logits.dtype()).to(mlm_logits.device());
  }
  Tensor samples = Tensor::empty({batch_size * predictions}, DType::i32, mlm_logits.device());
  kernels::sample_categorical(logits, config_.temperature, streams::gumbel_key(seed_, step),
                              samples);
  samples = samples.to(Device::cpu);
  const Tensor weights = batch.masked_weights.to(Device::cpu).to(DType::f64);
  for (std::int64_t r = 0; r < samples.numel(); ++r)
    if (weights.data<double>()[r] == 0.0) samples.data<std::int32_t>()[r] = 0;
  return samples.reshape({batch_size, predictions});
}

InspectOutput ElectraModel::inspect(const MaskedBatch& batch, std::uint64_t step) const {
  check(discriminator_ != nullptr, "inspect: needs objective \"electra\" (this model is \"",
        config_.objective, "\", without a discriminator)");
  Tape tape;
  tape.set_recording(false);
  const StepOutput step_output = forward(tape, batch, step, /*training=*/false);
  InspectOutput out;
  out.sampled_ids = step_output.sampled_ids;
  out.corrupted_ids = step_output.corrupted_ids.to(Device::cpu);
  out.disc_labels = step_output.disc_labels.to(Device::cpu).to(DType::f32);
  out.replaced_probability = sigmoid_on_host(step_output.disc_logits, batch.original.attention_mask);
  return out;
}

Tensor ElectraModel::replaced_probability(const PackedBatch& host_batch) const {
  check(discriminator_ != nullptr, "replaced_probability: needs objective \"electra\" (this model "
        "is \"", config_.objective, "\", without a discriminator)");
  check(host_batch.input_ids.defined() && host_batch.input_ids.rank() == 2,
        "replaced_probability: input_ids must be [batch, seq_len]");
  check_shape("replaced_probability", "attention_mask", host_batch.attention_mask,
              host_batch.input_ids.shape());
  const PackedBatch batch = packed_on(host_batch, device_);
  Tape tape;
  tape.set_recording(false);
  const streams::DropoutContext no_dropout{seed_, 0, false, streams::discriminator_sites};
  const Var logits = discriminator_->forward(tape, *embeddings_, batch.input_ids,
                                             batch.token_type_ids, batch.attention_mask, no_dropout);
  return sigmoid_on_host(logits.value(), batch.attention_mask);
}

}  // namespace electra
