#pragma once
// The pieces of objective electra_hp (electra_hp.cpp) that its tests reach directly: the
// hardness head and the proposal q ∝ p_G·(h + ε) built from it.
#include "models/layers.hpp"
#include "models/objectives/objective.hpp"

namespace electra {

// objective.electra_hp.{dense.weight [E, E], dense.bias [E], bias [V]}: per masked slot and per
// candidate id v, the logit of h_v = P(the discriminator misjudges v placed there).
class HardnessHead : public ObjectiveHeads {
 public:
  HardnessHead(ParameterFactory& factory, const ModelConfig& config);
  // transformed [K, E] (the generator's, Generator::transformed), word_embeddings [V, E] → [K, V]
  //   GELU(sg(transformed)·Aᵀ + a) · sg(word_embeddings)ᵀ + b
  Var forward(Tape& tape, const Var& transformed, const Var& word_embeddings) const;

 private:
  Linear dense_;
  Var bias_;
};

struct HardnessProposal {
  Tensor scores;            // f64 [K, V]: scores + T·log(h + ε); softmax(· / T) = q
  Tensor normaliser;        // f64 [K]: Z = Σ_v p_G(v)·(h_v + ε), so p_G(v)/q(v) = Z / (h_v + ε)
  Tensor floored_hardness;  // f64 [K, V]: h + ε
};
// scores f64 [K, V] on the CPU (sampling_scores: p_G = softmax(scores / T)), hardness_logits
// [K, V] on any device.
HardnessProposal hardness_proposal(const Tensor& scores, const Tensor& hardness_logits,
                                   double temperature, double epsilon);

}  // namespace electra
