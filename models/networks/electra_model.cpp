#include "models/networks/electra_model.hpp"

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
  for (const Tensor* ids_tensor :
       {&ids, &batch.original.token_type_ids, &batch.original.attention_mask,
        &batch.masked_input_ids, &batch.masked_positions, &batch.masked_original_ids})
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

Tensor sigmoid_on_host(const Tensor& logits, const Tensor& attention_mask) {
  const Tensor z = logits.to(Device::cpu).to(DType::f64);
  const Tensor mask = attention_mask.to(Device::cpu);
  Tensor probability = Tensor::empty(z.shape(), DType::f32);
  for (std::int64_t i = 0; i < z.numel(); ++i)
    probability.data<float>()[i] =
        mask.data<std::int32_t>()[i] == 0
            ? 0.0f
            : static_cast<float>(1.0 / (1.0 + std::exp(-z.data<double>()[i])));
  return probability;
}

}  // namespace

ElectraModel::ElectraModel(const ModelConfig& config, ParameterStore& store, std::uint64_t seed,
                           DType dtype, Device device)
    : config_(config),
      objective_(&find_objective(config.objective)),
      seed_(seed),
      dtype_(dtype),
      device_(device) {
  config_.validate();
  check(device == Device::cpu || dtype == DType::f32,
        "ElectraModel: the CUDA backend computes "
        "in f32 only, got dtype ",
        dtype_name(dtype), " (f64 is for CPU gradient checks)");
  require_device(device, "ElectraModel: device");
  ParameterFactory factory(store, seed, dtype, config_.initializer_range, device);
  embeddings_ = std::make_unique<SharedEmbeddings>(factory, config_);
  generator_ =
      std::make_unique<Generator>(factory, config_, config_.generator_dims(), *embeddings_);
  if (objective_->networks.discriminator)
    discriminator_ = std::make_unique<Discriminator>(factory, config_, *embeddings_);
  if (objective_->build_heads) heads_ = objective_->build_heads(factory, config_, *embeddings_);
  // GDES deltas last, so every other parameter keeps its place in the store (the order of
  // checkpoints and optimizer state); initial values are keyed by name and do not depend on it.
  if (config_.embedding_sharing == "gdes") embeddings_->add_discriminator_deltas(factory);
}

ElectraModel::~ElectraModel() = default;

ObjectiveNetworks ElectraModel::networks() const {
  return {config_,     seed_, dtype_, device_, *embeddings_, *generator_, discriminator_.get(),
          heads_.get()};
}

StepOutput ElectraModel::forward(Tape& tape, const MaskedBatch& batch, std::uint64_t step,
                                 bool training) const {
  return forward(tape, batch, {step, static_cast<std::int64_t>(step), training, Tensor()});
}

StepOutput ElectraModel::forward_with_samples(Tape& tape, const MaskedBatch& batch,
                                              const Tensor& sampled_ids, std::uint64_t step,
                                              bool training) const {
  return forward(tape, batch, {step, static_cast<std::int64_t>(step), training, sampled_ids});
}

StepOutput ElectraModel::forward(Tape& tape, const MaskedBatch& host_batch,
                                 const ObjectiveDraw& draw) const {
  check_batch(host_batch);
  // Kernels read the device copy; the host-side steps (masked rows, corruption) read host_batch,
  // which saves copying the ids back when the caller's batch is on the CPU (data/ makes them so).
  const MaskedBatch batch = masked_on(host_batch, device_);
  return objective_->forward(networks(), tape, batch, host_batch, draw);
}

InspectOutput ElectraModel::inspect(const MaskedBatch& batch, std::uint64_t step) const {
  check(discriminator_ != nullptr,
        "inspect: needs an objective with a discriminator (this model "
        "is \"",
        config_.objective, "\")");
  Tape tape;
  tape.set_recording(false);
  const StepOutput step_output = forward(tape, batch, step, /*training=*/false);
  InspectOutput out;
  out.sampled_ids = step_output.sampled_ids;
  out.corrupted_ids = step_output.corrupted_ids.to(Device::cpu);
  out.disc_labels = step_output.disc_labels.to(Device::cpu).to(DType::f32);
  out.replaced_probability =
      sigmoid_on_host(step_output.disc_logits, batch.original.attention_mask);
  return out;
}

Tensor ElectraModel::replaced_probability(const PackedBatch& host_batch) const {
  check(discriminator_ != nullptr,
        "replaced_probability: needs an objective with a "
        "discriminator (this model is \"",
        config_.objective, "\")");
  check(host_batch.input_ids.defined() && host_batch.input_ids.rank() == 2,
        "replaced_probability: input_ids must be [batch, seq_len]");
  check_shape("replaced_probability", "attention_mask", host_batch.attention_mask,
              host_batch.input_ids.shape());
  const PackedBatch batch = packed_on(host_batch, device_);
  Tape tape;
  tape.set_recording(false);
  const streams::DropoutContext no_dropout{seed_, 0, false, streams::discriminator_sites};
  const Var logits = discriminator_->forward(
      tape, *embeddings_, batch.input_ids, batch.token_type_ids, batch.attention_mask, no_dropout);
  return sigmoid_on_host(logits.value(), batch.attention_mask);
}

}  // namespace electra
