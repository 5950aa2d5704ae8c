#pragma once
// The pieces of objective electra_hp (electra_hp.cpp) that its tests reach directly: the
// hardness head and the proposal q ∝ p_G·(h + ε) built from it.
#include "models/networks/layers.hpp"
#include "models/objectives/objective.hpp"

namespace electra {

// objective.electra_hp.{dense.weight [E, E], dense.bias [E], bias [V]}: per masked slot and per
// candidate id v, the logit of h_v = P(the discriminator misjudges v placed there):
//   GELU(sg(t)·Aᵀ + a) · sg(W_word[v]) + b[v],  t = the generator's transformed state [K, E]
class HardnessHead : public ObjectiveHeads {
 public:
  HardnessHead(ParameterFactory& factory, const ModelConfig& config);
  // transformed [K, E] (Generator::transformed) → GELU(sg(transformed)·Aᵀ + a) [K, E]. Its input
  // enters as a constant: the hardness loss trains the head only, never the generator.
  Var hidden(Tape& tape, const Var& transformed) const;
  // Every candidate's logit, [K, V], as values (nothing recorded): what the sampling reads.
  Tensor all_logits(const Var& hidden, const Var& word_embeddings) const;
  // The logit of ids i32 [K] (one per slot, on the model's device) → [K], recorded: what the
  // hardness loss trains. The embeddings enter as constants.
  Var picked_logits(Tape& tape, const Var& hidden, const Var& word_embeddings,
                    const Tensor& ids) const;

 private:
  Linear dense_;
  Var bias_;
};

struct HardnessProposal {
  Tensor scores;  // [K, V] in the logits' dtype on the CPU: s + T·log(h + ε); softmax(·/T) = q
  Tensor normaliser;  // f64 [K]: Z = Σ_v p_G(v)·(h_v + ε), so p_G(v)/q(v) = Z / (h_v + ε)
};
// mlm_logits and hardness_logits [K, V] (same dtype, any device); disallowed i32 [K] (the
// original ids, whose score drops by 1000·T as in samples_for) or undefined. p_G =
// softmax(s / T) with s the logits after that drop: exactly what `electra` samples from.
HardnessProposal hardness_proposal(const Tensor& mlm_logits, const Tensor& hardness_logits,
                                   const Tensor& disallowed, double temperature, double epsilon);

}  // namespace electra
