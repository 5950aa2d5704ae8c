// objective "electra_hp": ELECTRA with hardness-predicted replacement sampling (Hao, Dong, Bao,
// Xu, Wei 2021, "Learning to Sample Replacements for ELECTRA Pre-Training", §hardness
// prediction). The choices the paper leaves open are in docs/objectives.md; in short:
//   generator(masked ids) → transformed state t [K, E] → logits [K, V] → MLM (focal when
//     generator_focal_gamma > 0, steps.cpp)
//   hardness head on sg(t): h = σ(GELU(t·Aᵀ + a) · sg(W_word)ᵀ + b) [K, V], for every candidate
//     the predicted probability that the discriminator misjudges it there
//   sample x̂ ~ q ∝ p_G · (h + ε), p_G = softmax(scores / T) (the distribution electra samples)
//   corrupt → discriminator → BCE over every token; at a masked slot the token's weight is
//     p_G(x̂)/q(x̂) (importance correction, hardness_importance_correction) so the expected
//     discriminator loss stays ELECTRA's while its variance drops (the paper's argument)
//   hardness loss: BCE(h(x̂), y) at each masked slot, y = the discriminator's detached
//     probability of misjudging x̂ there: 1 − σ(z) where x̂ replaced the token, σ(z) where it
//     happens to be the original
//   total = mlm_weight·MLM + λ(update)·disc + hardness_weight·hardness.
#include <cmath>

#include "autograd/ops.hpp"
#include "models/embeddings.hpp"
#include "models/layers.hpp"
#include "models/objectives/curriculum.hpp"
#include "models/objectives/electra_hp.hpp"
#include "models/objectives/registry.hpp"
#include "models/objectives/steps.hpp"

namespace electra {

HardnessHead::HardnessHead(ParameterFactory& factory, const ModelConfig& config)
    : dense_(Linear::create(factory, "objective.electra_hp.dense", config.embedding_size,
                            config.embedding_size)),
      bias_(factory.zeros("objective.electra_hp.bias", {config.vocab_size})) {}

Var HardnessHead::forward(Tape& tape, const Var& transformed, const Var& word_embeddings) const {
  // Both inputs enter as constants: the hardness loss trains the head only (a boundary of the
  // row), never the generator's encoder or the shared embeddings.
  const Var state(transformed.value());
  const Var candidates(word_embeddings.value());
  return ops::linear(tape, ops::gelu(tape, dense_.forward(tape, state)), candidates, bias_);
}

namespace {

std::unique_ptr<ObjectiveHeads> build_hardness_head(ParameterFactory& factory,
                                                    const ModelConfig& config,
                                                    const SharedEmbeddings&) {
  return std::make_unique<HardnessHead>(factory, config);
}

double sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

}  // namespace

HardnessProposal hardness_proposal(const Tensor& scores, const Tensor& hardness_logits,
                                   double temperature, double epsilon) {
  const Tensor hardness = hardness_logits.to(Device::cpu).to(DType::f64);
  const std::int64_t rows = scores.dim(0), vocab = scores.dim(1);
  HardnessProposal proposal{scores.clone(), Tensor::empty({rows}, DType::f64),
                            Tensor::empty({rows, vocab}, DType::f64)};
  for (std::int64_t r = 0; r < rows; ++r) {
    const double* score = scores.data<double>() + r * vocab;
    const double* logit = hardness.data<double>() + r * vocab;
    double* shifted = proposal.scores.data<double>() + r * vocab;
    double* floored = proposal.floored_hardness.data<double>() + r * vocab;
    double maximum = score[0];
    for (std::int64_t v = 1; v < vocab; ++v) maximum = std::max(maximum, score[v]);
    double total = 0, weighted = 0;
    for (std::int64_t v = 0; v < vocab; ++v) {
      floored[v] = sigmoid(logit[v]) + epsilon;
      // The kernel samples softmax(scores / T): adding T·log(h + ε) multiplies p_G by h + ε.
      shifted[v] = score[v] + temperature * std::log(floored[v]);
      const double p = std::exp((score[v] - maximum) / temperature);
      total += p;
      weighted += p * floored[v];
    }
    proposal.normaliser.data<double>()[r] = weighted / total;  // Z = Σ_v p_G(v)·(h_v + ε)
  }
  return proposal;
}

StepOutput electra_hp_forward(const ObjectiveNetworks& networks, Tape& tape,
                              const MaskedBatch& batch, const MaskedBatch& host_batch,
                              const ObjectiveDraw& draw) {
  const ModelConfig& config = networks.config;
  check(networks.heads != nullptr, "electra_hp: the model has no hardness head");
  const auto& head = static_cast<const HardnessHead&>(*networks.heads);
  StepOutput out;
  const GeneratorPass generated = run_generator(networks, tape, batch, host_batch, draw);
  out.mlm_loss = generated.loss;
  out.mlm_logits = generated.logits.value();
  const Var hardness_logits =  // [K, V]
      head.forward(tape, generated.transformed, networks.embeddings.word_embeddings());

  // Sample from q ∝ p_G·(h + ε) (given samples, from golden files and audits, are used as they
  // are: their importance weights below still come from this step's q).
  const double temperature = sampling_temperature(config, draw.update);
  const HardnessProposal proposal =
      hardness_proposal(sampling_scores(networks, out.mlm_logits, host_batch, temperature),
                        hardness_logits.value(), temperature, config.hardness_epsilon);
  out.sampled_ids =
      draw.given_samples.defined()
          ? samples_for(networks, out.mlm_logits, host_batch, draw)
          : draw_samples(networks,
                         proposal.scores.to(out.mlm_logits.dtype()).to(networks.device),
                         host_batch, draw, temperature);
  const Corruption corruption = corrupt(host_batch, out.sampled_ids, networks.dtype);
  out.corrupted_ids = corruption.corrupted_ids.to(networks.device);
  out.disc_labels = corruption.labels.to(networks.device);

  // Token weights: 1 on every non-pad token, p_G(x̂)/q(x̂) = Z / (h(x̂) + ε) at masked slots.
  const Tensor positions = host_batch.masked_positions.to(Device::cpu);
  const Tensor slot_weights = host_batch.masked_weights.to(Device::cpu).to(DType::f64);
  const std::int64_t slots = positions.numel(), predictions = positions.dim(1);
  const std::int64_t length = host_batch.original.input_ids.dim(1);
  const std::int64_t vocab = out.mlm_logits.dim(1);
  const std::int32_t* sampled = out.sampled_ids.data<std::int32_t>();
  Tensor token_weights = host_batch.original.attention_mask.to(Device::cpu).to(DType::f64);
  if (config.hardness_importance_correction)
    for (std::int64_t k = 0; k < slots; ++k) {
      if (slot_weights.data<double>()[k] == 0.0) continue;
      const std::int64_t token = (k / predictions) * length + positions.data<std::int32_t>()[k];
      token_weights.data<double>()[token] *=
          proposal.normaliser.data<double>()[k] /
          proposal.floored_hardness.data<double>()[k * vocab + sampled[k]];
    }
  out.disc_weights = token_weights.to(networks.dtype).to(networks.device);

  const Var disc_logits = discriminate(networks, tape, out.corrupted_ids, batch, draw);  // [B, L]
  out.disc_logits = disc_logits.value();
  out.disc_loss = ops::bce_with_logits(tape, disc_logits, out.disc_labels, out.disc_weights);

  // The head's target at each slot: the discriminator's (detached) probability of misjudging
  // the token it saw there.
  const Tensor host_logits = out.disc_logits.to(Device::cpu).to(DType::f64);
  const Tensor host_labels = corruption.labels.to(DType::f64);
  Tensor targets = Tensor::zeros({slots}, DType::f64);
  Tensor pick = Tensor::empty({slots}, DType::i32);
  for (std::int64_t k = 0; k < slots; ++k) {
    pick.data<std::int32_t>()[k] = static_cast<std::int32_t>(k * vocab + sampled[k]);
    if (slot_weights.data<double>()[k] == 0.0) continue;
    const std::int64_t token = (k / predictions) * length + positions.data<std::int32_t>()[k];
    const double replaced = sigmoid(host_logits.data<double>()[token]);  // P(D says replaced)
    targets.data<double>()[k] =
        host_labels.data<double>()[token] == 1.0 ? 1.0 - replaced : replaced;
  }
  const Var picked = ops::reshape(
      tape,
      ops::gather_rows(tape, ops::reshape(tape, hardness_logits, {slots * vocab, 1}),
                       pick.to(networks.device)),
      {slots});
  const Var hardness_loss =
      ops::bce_with_logits(tape, picked, targets.to(networks.dtype).to(networks.device),
                           slot_weights.reshape({slots}).to(networks.dtype).to(networks.device));

  out.losses = {{"mlm", out.mlm_loss, config.mlm_weight},
                {"disc", out.disc_loss, discriminator_weight(config, draw.update)},
                {"hardness", hardness_loss, config.hardness_weight}};
  out.total_loss = total_of(tape, out.losses);
  return out;
}

ObjectiveSpec electra_hp_objective() {
  ObjectiveSpec spec;
  spec.name = "electra_hp";
  spec.summary = "electra sampling from p_G re-weighted by a predicted hardness (Hao et al. 2021)";
  spec.build_heads = build_hardness_head;
  spec.forward = electra_hp_forward;
  // As electra, plus: the hardness loss trains its head only (its input state, the candidate
  // embeddings and its target are detached), and neither the MLM nor the disc loss reaches the
  // head (the proposal and the importance weights read its values, not its Var).
  spec.gradient_boundaries = {{"disc", "generator.", true},
                              {"disc", "objective.electra_hp.", true},
                              {"disc", "electra.embeddings.", false},
                              {"disc", "discriminator.", false},
                              {"mlm", "discriminator.", true},
                              {"mlm", "objective.electra_hp.", true},
                              {"hardness", "generator.", true},
                              {"hardness", "electra.embeddings.", true},
                              {"hardness", "discriminator.", true},
                              {"hardness", "objective.electra_hp.", false}};
  return spec;
}

}  // namespace electra
