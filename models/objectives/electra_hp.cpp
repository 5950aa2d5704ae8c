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
#include "models/objectives/electra_hp.hpp"

#include <cmath>

#include "autograd/ops.hpp"
#include "engine/threads.hpp"
#include "models/networks/embeddings.hpp"
#include "models/networks/layers.hpp"
#include "models/objectives/curriculum.hpp"
#include "models/objectives/registry.hpp"
#include "models/objectives/steps.hpp"

namespace electra {

HardnessHead::HardnessHead(ParameterFactory& factory, const ModelConfig& config)
    : dense_(Linear::create(factory, "objective.electra_hp.dense", config.embedding_size,
                            config.embedding_size)),
      bias_(factory.zeros("objective.electra_hp.bias", {config.vocab_size})) {}

Var HardnessHead::hidden(Tape& tape, const Var& transformed) const {
  return ops::gelu(tape, dense_.forward(tape, Var(transformed.value())));
}

Tensor HardnessHead::all_logits(const Var& hidden, const Var& word_embeddings) const {
  Tape values;
  values.set_recording(false);
  return ops::linear(values, Var(hidden.value()), Var(word_embeddings.value()), bias_).value();
}

Var HardnessHead::picked_logits(Tape& tape, const Var& hidden, const Var& word_embeddings,
                                const Tensor& ids) const {
  // Row k: hidden_k · W_word[id_k] + b[id_k], as a [K, 1, E]·[K, E, 1] batched product, so
  // neither the forward nor the backward touches a [K, V] tensor.
  const std::int64_t slots = ids.numel(), width = hidden.value().dim(1);
  const Var candidates = ops::embedding(tape, Var(word_embeddings.value()), ids);  // [K, E]
  const Var dots = ops::batched_matmul(tape, ops::reshape(tape, hidden, {slots, 1, width}), false,
                                       ops::reshape(tape, candidates, {slots, width, 1}), false);
  const Var biases =
      ops::embedding(tape, ops::reshape(tape, bias_, {bias_.value().numel(), 1}), ids);
  return ops::add(tape, ops::reshape(tape, dots, {slots}), ops::reshape(tape, biases, {slots}));
}

namespace {

std::unique_ptr<ObjectiveHeads> build_hardness_head(ParameterFactory& factory,
                                                    const ModelConfig& config,
                                                    const SharedEmbeddings&) {
  return std::make_unique<HardnessHead>(factory, config);
}

double sigmoid(double z) {
  return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
}

template <typename T>
void proposal_rows(const Tensor& logits, const Tensor& hardness, const Tensor& disallowed,
                   double temperature, double epsilon, HardnessProposal& proposal) {
  const std::int64_t rows = logits.dim(0), vocab = logits.dim(1);
  const std::int32_t* banned = disallowed.defined() ? disallowed.data<std::int32_t>() : nullptr;
  // Rows are independent: the same bits whatever the thread count.
  parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      const T* logit = logits.data<T>() + r * vocab;
      const T* hard = hardness.data<T>() + r * vocab;
      T* shifted = proposal.scores.data<T>() + r * vocab;
      const std::int64_t dropped = banned ? banned[r] : -1;
      const auto score = [&](std::int64_t v) {
        return static_cast<double>(logit[v]) - (v == dropped ? 1000.0 * temperature : 0.0);
      };
      double maximum = score(0);
      for (std::int64_t v = 1; v < vocab; ++v) maximum = std::max(maximum, score(v));
      double total = 0, weighted = 0;
      for (std::int64_t v = 0; v < vocab; ++v) {
        const double floored = sigmoid(hard[v]) + epsilon;
        // The kernel samples softmax(scores / T): adding T·log(h + ε) multiplies p_G by h + ε.
        shifted[v] = static_cast<T>(score(v) + temperature * std::log(floored));
        const double p = std::exp((score(v) - maximum) / temperature);
        total += p;
        weighted += p * floored;
      }
      proposal.normaliser.data<double>()[r] = weighted / total;
    }
  });
}

}  // namespace

HardnessProposal hardness_proposal(const Tensor& mlm_logits, const Tensor& hardness_logits,
                                   const Tensor& disallowed, double temperature, double epsilon) {
  const Tensor logits = mlm_logits.to(Device::cpu), hardness = hardness_logits.to(Device::cpu);
  check(logits.shape() == hardness.shape() && logits.dtype() == hardness.dtype(),
        "electra_hp: hardness logits ", hardness.describe(), " do not match the MLM logits ",
        logits.describe());
  const std::int64_t rows = logits.dim(0);
  HardnessProposal proposal{Tensor::empty(logits.shape(), logits.dtype()),
                            Tensor::empty({rows}, DType::f64)};
  const Tensor banned =
      disallowed.defined() ? disallowed.to(Device::cpu).reshape({rows}) : Tensor();
  if (logits.dtype() == DType::f64)
    proposal_rows<double>(logits, hardness, banned, temperature, epsilon, proposal);
  else
    proposal_rows<float>(logits, hardness, banned, temperature, epsilon, proposal);
  return proposal;
}

StepOutput electra_hp_forward(const ObjectiveNetworks& networks, Tape& tape,
                              const MaskedBatch& batch, const MaskedBatch& host_batch,
                              const ObjectiveDraw& draw) {
  const ModelConfig& config = networks.config;
  check(networks.heads != nullptr, "electra_hp: the model has no hardness head");
  const auto& head = static_cast<const HardnessHead&>(*networks.heads);
  const Var& words = networks.embeddings.word_embeddings();
  StepOutput out;
  const GeneratorPass generated = run_generator(networks, tape, batch, host_batch, draw);
  out.mlm_loss = generated.loss;
  out.mlm_logits = generated.logits.value();
  const Var head_hidden = head.hidden(tape, generated.transformed);                    // [K, E]
  const Tensor hardness_logits = head.all_logits(head_hidden, words).to(Device::cpu);  // [K, V]

  // Sample from q ∝ p_G·(h + ε) (given samples, from golden files and audits, are used as they
  // are: their importance weights below still come from this step's q).
  const double temperature = sampling_temperature(config, draw.update);
  const HardnessProposal proposal =
      hardness_proposal(out.mlm_logits, hardness_logits,
                        config.disallow_correct ? host_batch.masked_original_ids : Tensor(),
                        temperature, config.hardness_epsilon);
  out.sampled_ids = draw.given_samples.defined()
                        ? samples_for(networks, out.mlm_logits, host_batch, draw)
                        : draw_samples(networks, proposal.scores.to(networks.device), host_batch,
                                       draw, temperature);
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
  const auto token_of = [&](std::int64_t k) {
    return (k / predictions) * length + positions.data<std::int32_t>()[k];
  };
  Tensor token_weights = host_batch.original.attention_mask.to(Device::cpu).to(DType::f64);
  if (config.hardness_importance_correction)
    for (std::int64_t k = 0; k < slots; ++k) {
      if (slot_weights.data<double>()[k] == 0.0) continue;
      const double floored =
          sigmoid(hardness_logits.item(k * vocab + sampled[k])) + config.hardness_epsilon;
      token_weights.data<double>()[token_of(k)] *= proposal.normaliser.data<double>()[k] / floored;
    }
  // The weights are data, not a function to differentiate: held for the audit's evaluations.
  out.disc_weights =
      draw.hold("electra_hp.disc_weights", token_weights.to(networks.dtype).to(networks.device));

  const Var disc_logits = discriminate(networks, tape, out.corrupted_ids, batch, draw);  // [B, L]
  out.disc_logits = disc_logits.value();
  out.disc_loss = ops::bce_with_logits(tape, disc_logits, out.disc_labels, out.disc_weights);

  // The head's target at each slot: the discriminator's (detached) probability of misjudging
  // the token it saw there.
  const Tensor host_logits = out.disc_logits.to(Device::cpu).to(DType::f64);
  const Tensor host_labels = corruption.labels.to(DType::f64);
  Tensor targets = Tensor::zeros({slots}, DType::f64);
  for (std::int64_t k = 0; k < slots; ++k) {
    if (slot_weights.data<double>()[k] == 0.0) continue;
    const double replaced = sigmoid(host_logits.data<double>()[token_of(k)]);  // P(D: replaced)
    targets.data<double>()[k] =
        host_labels.data<double>()[token_of(k)] == 1.0 ? 1.0 - replaced : replaced;
  }
  const Var picked = head.picked_logits(tape, head_hidden, words,
                                        out.sampled_ids.reshape({slots}).to(networks.device));
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
  spec.gradient_boundaries = {
      {"disc", "generator.", true},           {"disc", "objective.electra_hp.", true},
      {"disc", "electra.embeddings.", false}, {"disc", "discriminator.", false},
      {"mlm", "discriminator.", true},        {"mlm", "objective.electra_hp.", true},
      {"hardness", "generator.", true},       {"hardness", "electra.embeddings.", true},
      {"hardness", "discriminator.", true},   {"hardness", "objective.electra_hp.", false}};
  return spec;
}

}  // namespace electra
