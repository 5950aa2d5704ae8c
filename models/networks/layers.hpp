#pragma once
// The two parameterised building blocks every network here is made of: a dense layer and a
// LayerNorm. Parameter names follow HF (`<prefix>.weight`, `<prefix>.bias`); Linear weights are
// stored [out, in] as in PyTorch.
#include <optional>
#include <string>

#include "autograd/ops.hpp"
#include "models/networks/parameter_init.hpp"

namespace electra {

struct Linear {
  Var weight;  // [out, in], truncated normal (or Glorot when asked)
  Var bias;    // [out], zeros

  enum class Init { normal, glorot_uniform };
  static Linear create(ParameterFactory& factory, const std::string& prefix, std::int64_t in,
                       std::int64_t out, Init init = Init::normal);
  // x [..., in] → [..., out]
  Var forward(Tape& tape, const Var& x) const { return ops::linear(tape, x, weight, bias); }
};

struct LayerNorm {
  Var weight;  // [C], ones (HF name `weight`, TF's gamma)
  Var bias;    // [C], zeros
  double eps = 1e-12;

  static LayerNorm create(ParameterFactory& factory, const std::string& prefix, std::int64_t size,
                          double eps);
  // x [..., C] → [..., C]
  Var forward(Tape& tape, const Var& x) const {
    return ops::layer_norm(tape, x, weight, bias, eps);
  }
};

// `<network>.electra.embeddings_project` (E → H) when the embedding and hidden sizes differ
// (ELECTRA-Small: 128 → 256), nothing when they match (Base).
std::optional<Linear> make_embeddings_project(ParameterFactory& factory, const std::string& network,
                                              std::int64_t embedding_size,
                                              std::int64_t hidden_size);

}  // namespace electra
