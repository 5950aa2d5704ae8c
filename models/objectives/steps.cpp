#include "models/objectives/steps.hpp"

#include "autograd/ops.hpp"
#include "models/networks/discriminator.hpp"
#include "models/networks/embeddings.hpp"
#include "models/networks/generator.hpp"
#include "models/objectives/curriculum.hpp"

namespace electra {

Tensor flat_masked_rows(const Tensor& masked_positions, std::int64_t length) {
  const Tensor positions = masked_positions.to(Device::cpu);
  const std::int64_t batch = positions.dim(0), predictions = positions.dim(1);
  Tensor rows = Tensor::empty({batch * predictions}, DType::i32);
  const std::int32_t* position = positions.data<std::int32_t>();
  std::int32_t* row = rows.data<std::int32_t>();
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t p = 0; p < predictions; ++p) {
      const std::int32_t at = position[b * predictions + p];
      check(at >= 0 && at < length, "ElectraModel: masked position ", at, " outside [0, ", length,
            ")");
      row[b * predictions + p] = static_cast<std::int32_t>(b * length + at);
    }
  return rows;
}

Var masked_cross_entropy(const ObjectiveNetworks& networks, Tape& tape, const Var& logits,
                         const MaskedBatch& batch) {
  const std::int64_t rows = logits.value().dim(0);
  const Tensor targets = batch.masked_original_ids.reshape({rows});
  const Tensor weights = batch.masked_weights.to(networks.dtype).reshape({rows});
  const double gamma = networks.config.generator_focal_gamma;
  // γ = 0 keeps the cross_entropy op itself: bit-identical to every run before the focal loss.
  if (gamma == 0.0) return ops::cross_entropy(tape, logits, targets, weights);
  return ops::focal_cross_entropy(tape, logits, targets, weights, gamma);
}

GeneratorPass run_generator(const ObjectiveNetworks& networks, Tape& tape, const MaskedBatch& batch,
                            const MaskedBatch& host_batch, const ObjectiveDraw& draw) {
  const std::int64_t length = host_batch.original.input_ids.dim(1);
  const streams::DropoutContext dropout{networks.seed, draw.step, draw.training,
                                        streams::generator_sites};
  GeneratorPass pass;
  // Generator::forward in its two halves (the same nodes), keeping the transformed state.
  pass.transformed = networks.generator.transformed(
      tape, networks.embeddings, batch.masked_input_ids, batch.original.token_type_ids,
      batch.original.attention_mask,
      flat_masked_rows(host_batch.masked_positions, length).to(networks.device), dropout);
  pass.logits = networks.generator.logits(tape, pass.transformed);
  pass.loss = masked_cross_entropy(networks, tape, pass.logits, batch);
  return pass;
}

Tensor samples_for(const ObjectiveNetworks& networks, const Tensor& mlm_logits,
                   const MaskedBatch& host_batch, const ObjectiveDraw& draw) {
  const std::int64_t batch_size = host_batch.masked_positions.dim(0);
  const std::int64_t predictions = host_batch.masked_positions.dim(1);
  if (draw.given_samples.defined()) {
    check_shape("ElectraModel", "sampled_ids", draw.given_samples, {batch_size, predictions});
    check_dtype("ElectraModel", draw.given_samples, DType::i32);
    return draw.given_samples.to(Device::cpu);
  }
  const ModelConfig& config = networks.config;
  const double temperature = sampling_temperature(config, draw.update);
  const std::int64_t vocab = mlm_logits.dim(1);
  Tensor logits = mlm_logits;
  if (config.disallow_correct) {
    // The official code subtracts 1000 from logits/temperature; the kernel divides by the
    // temperature itself, so subtract 1000·temperature here.
    logits = mlm_logits.to(Device::cpu).to(DType::f64);
    const Tensor original = host_batch.masked_original_ids.to(Device::cpu);
    for (std::int64_t r = 0; r < batch_size * predictions; ++r)
      logits.data<double>()[r * vocab + original.data<std::int32_t>()[r]] -= 1000.0 * temperature;
    logits = logits.to(mlm_logits.dtype()).to(mlm_logits.device());
  }
  return draw_samples(networks, logits, host_batch, draw, temperature);
}

Tensor draw_samples(const ObjectiveNetworks& networks, const Tensor& scores,
                    const MaskedBatch& host_batch, const ObjectiveDraw& draw, double temperature) {
  const std::int64_t batch_size = host_batch.masked_positions.dim(0);
  const std::int64_t predictions = host_batch.masked_positions.dim(1);
  // Inverse CDF with one uniform per row: the distribution of the official Gumbel-max.
  Tensor samples = Tensor::empty({batch_size * predictions}, DType::i32, scores.device());
  kernels::sample_categorical(scores, temperature, streams::gumbel_key(networks.seed, draw.step),
                              samples);
  samples = samples.to(Device::cpu);
  const Tensor weights = host_batch.masked_weights.to(Device::cpu).to(DType::f64);
  for (std::int64_t r = 0; r < samples.numel(); ++r)
    if (weights.data<double>()[r] == 0.0) samples.data<std::int32_t>()[r] = 0;
  return samples.reshape({batch_size, predictions});
}

Corruption corrupt(const MaskedBatch& host_batch, const Tensor& sampled_ids, DType dtype) {
  const Tensor original = host_batch.original.input_ids.to(Device::cpu);
  const Tensor positions = host_batch.masked_positions.to(Device::cpu);
  const Tensor weights = host_batch.masked_weights.to(Device::cpu).to(DType::f64);
  const Tensor samples = sampled_ids.to(Device::cpu);
  const std::int64_t batch_size = original.dim(0), length = original.dim(1);
  const std::int64_t predictions = positions.dim(1);

  Corruption result{original.clone(), Tensor::zeros(original.shape(), DType::f64)};
  std::int32_t* corrupted = result.corrupted_ids.data<std::int32_t>();
  for (std::int64_t b = 0; b < batch_size; ++b)
    for (std::int64_t p = 0; p < predictions; ++p) {
      const std::int64_t slot = b * predictions + p;
      if (weights.data<double>()[slot] == 0.0) continue;
      corrupted[b * length + positions.data<std::int32_t>()[slot]] =
          samples.data<std::int32_t>()[slot];
    }
  const std::int32_t* before = original.data<std::int32_t>();
  double* label = result.labels.data<double>();
  for (std::int64_t i = 0; i < original.numel(); ++i)
    label[i] = corrupted[i] != before[i] ? 1.0 : 0.0;
  result.labels = result.labels.to(dtype);
  return result;
}

Var discriminate(const ObjectiveNetworks& networks, Tape& tape, const Tensor& input_ids,
                 const MaskedBatch& batch, const ObjectiveDraw& draw) {
  check(networks.discriminator != nullptr, "ElectraModel: this objective has no discriminator");
  const streams::DropoutContext dropout{networks.seed, draw.step, draw.training,
                                        streams::discriminator_sites};
  return networks.discriminator->forward(tape, networks.embeddings, input_ids,
                                         batch.original.token_type_ids,
                                         batch.original.attention_mask, dropout);
}

Var total_of(Tape& tape, const std::vector<NamedLoss>& losses) {
  check(!losses.empty(), "ElectraModel: an objective produced no loss");
  const auto weighted = [&](const NamedLoss& term) {
    return term.weight == 1.0 ? term.loss : ops::scale(tape, term.loss, term.weight);
  };
  Var total = weighted(losses.front());
  for (std::size_t i = 1; i < losses.size(); ++i)
    total = ops::add(tape, total, weighted(losses[i]));
  return total;
}

Var StepOutput::loss(const std::string& name) const {
  for (const NamedLoss& term : losses)
    if (term.name == name) return term.loss;
  return Var();
}

}  // namespace electra
