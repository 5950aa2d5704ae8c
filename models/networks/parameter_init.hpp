#pragma once
// ParameterFactory: registers the model's parameters in a ParameterStore with their initial
// values, in one dtype (f32 to train, f64 for the full-model gradient check). Initial values are
// a pure function of (seed, parameter name): each parameter draws from its own Philox key
// (models/networks/random_streams.hpp), so adding, removing or reordering layers never changes the
// values of the others.
// Values are always drawn on the CPU and then moved to the factory's device, so a CUDA model
// starts from exactly the weights of the CPU model with the same seed.
#include <cstdint>
#include <string>

#include "autograd/parameter_store.hpp"

namespace electra {

class ParameterFactory {
 public:
  ParameterFactory(ParameterStore& store, std::uint64_t seed, DType dtype, double initializer_range,
                   Device device = Device::cpu);

  // Truncated normal (±2σ), σ = initializer_range; weight-decayed. BERT's dense and embedding init.
  Var normal(const std::string& name, const Shape& shape);
  // Glorot/Xavier uniform, limit √(6 / (fan_in + fan_out)) for a weight [out, in]: what
  // tf.layers.dense uses by default, hence the official discriminator's last layer.
  Var glorot_uniform(const std::string& name, const Shape& shape);
  // Zeros (biases) and ones (LayerNorm weights): never weight-decayed.
  Var zeros(const std::string& name, const Shape& shape);
  Var ones(const std::string& name, const Shape& shape);

  DType dtype() const { return dtype_; }
  Device device() const { return device_; }

 private:
  ParameterStore& store_;
  std::uint64_t seed_;
  DType dtype_;
  double initializer_range_;
  Device device_;
};

}  // namespace electra
