// Gradcheck cases for layer_norm: x, gamma and beta all differentiable.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

Var layer_norm_of(Tape& tape, const std::vector<Var>& inputs) {
  // eps 1e-5 rather than BERT's 1e-12: the gradient is the same formula, and a tiny eps would
  // only make the C = 2 case (where x̂ = ±1 exactly) numerically flat.
  return ops::layer_norm(tape, inputs[0], inputs[1], inputs[2], 1e-5);
}

OpCase layer_norm_case(const std::string& description, const Shape& x_shape, std::uint64_t seed) {
  const Shape parameter_shape{x_shape[-1]};
  return {"layer_norm",
          description,
          layer_norm_of,
          {random_f64(x_shape, seed, -2.0, 2.0), random_f64(parameter_shape, seed + 1, 0.5, 1.5),
           random_f64(parameter_shape, seed + 2)},
          {}};
}

}  // namespace

void append_layer_norm_cases(std::vector<OpCase>& cases) {
  cases.push_back(layer_norm_case("x [3, 8]", Shape{3, 8}, 31));
  cases.push_back(layer_norm_case("x [1, 8] (one row)", Shape{1, 8}, 34));
  // Over two elements x̂ = ±1 whatever x is: dx is ≈ 0 (only through eps), dgamma/dbeta are not.
  cases.push_back(layer_norm_case("x [2, 1, 2] (C = 2)", Shape{2, 1, 2}, 37));
  cases.push_back(layer_norm_case("x [2, 3, 5]", Shape{2, 3, 5}, 40));
}

}  // namespace electra
