#include "models/networks/layers.hpp"

namespace electra {

Linear Linear::create(ParameterFactory& factory, const std::string& prefix, std::int64_t in,
                      std::int64_t out, Init init) {
  Linear linear;
  linear.weight = init == Init::glorot_uniform
                      ? factory.glorot_uniform(prefix + ".weight", {out, in})
                      : factory.normal(prefix + ".weight", {out, in});
  linear.bias = factory.zeros(prefix + ".bias", {out});
  return linear;
}

LayerNorm LayerNorm::create(ParameterFactory& factory, const std::string& prefix, std::int64_t size,
                            double eps) {
  LayerNorm norm;
  norm.weight = factory.ones(prefix + ".weight", {size});
  norm.bias = factory.zeros(prefix + ".bias", {size});
  norm.eps = eps;
  return norm;
}

std::optional<Linear> make_embeddings_project(ParameterFactory& factory, const std::string& network,
                                              std::int64_t embedding_size,
                                              std::int64_t hidden_size) {
  if (embedding_size == hidden_size) return std::nullopt;
  return Linear::create(factory, network + ".electra.embeddings_project", embedding_size,
                        hidden_size);
}

}  // namespace electra
