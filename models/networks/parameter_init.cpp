#include "models/networks/parameter_init.hpp"

#include <cmath>

#include "engine/kernels.hpp"
#include "models/networks/random_streams.hpp"

namespace electra {

ParameterFactory::ParameterFactory(ParameterStore& store, std::uint64_t seed, DType dtype,
                                   double initializer_range, Device device)
    : store_(store),
      seed_(seed),
      dtype_(dtype),
      initializer_range_(initializer_range),
      device_(device) {
  check(dtype == DType::f32 || dtype == DType::f64,
        "ParameterFactory: parameters must be f32 or "
        "f64, got ",
        dtype_name(dtype));
}

Var ParameterFactory::normal(const std::string& name, const Shape& shape) {
  Tensor value = Tensor::empty(shape, dtype_);
  kernels::truncated_normal(streams::parameter_init_key(seed_, name), initializer_range_, value);
  return store_.add(name, value.to(device_), /*weight_decay=*/true);
}

Var ParameterFactory::glorot_uniform(const std::string& name, const Shape& shape) {
  check(shape.rank() == 2, "ParameterFactory: Glorot init of '", name,
        "' needs a [out, in] "
        "weight, got ",
        shape.str());
  const double limit = std::sqrt(6.0 / static_cast<double>(shape[0] + shape[1]));
  // u ∈ [0, 1) → (2u − 1)·limit ∈ [−limit, limit)
  Tensor value = Tensor::empty(shape, dtype_);
  kernels::uniform(streams::parameter_init_key(seed_, name), value);
  kernels::scale(value, 2.0 * limit, value);
  kernels::axpy(-limit, Tensor::full(shape, 1.0, dtype_), value);
  return store_.add(name, value.to(device_), /*weight_decay=*/true);
}

Var ParameterFactory::zeros(const std::string& name, const Shape& shape) {
  return store_.add(name, Tensor::zeros(shape, dtype_, device_), /*weight_decay=*/false);
}

Var ParameterFactory::ones(const std::string& name, const Shape& shape) {
  return store_.add(name, Tensor::full(shape, 1.0, dtype_).to(device_), /*weight_decay=*/false);
}

}  // namespace electra
