// Gradcheck cases for focal_cross_entropy: γ ∈ {0.5, 1, 2, 5}, a zero weight, a one-class row
// (p = 1: loss and gradient 0) and logits in ±30 (the target is sometimes certain, sometimes
// ~60 below the largest logit, where q^(γ−1) and log p are both extreme).
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

GradcheckFunction focal_of(Tensor targets, Tensor weights, double gamma) {
  return [targets, weights, gamma](Tape& tape, const std::vector<Var>& inputs) {
    return ops::focal_cross_entropy(tape, inputs[0], constant_like(targets, inputs[0]),
                                    constant_like(weights, inputs[0]), gamma);
  };
}

Tensor ids(const std::vector<std::int32_t>& values) {
  return Tensor::from_vector<std::int32_t>(values, Shape{static_cast<std::int64_t>(values.size())});
}

}  // namespace

void append_focal_cases(std::vector<OpCase>& cases) {
  const Tensor four_weights = Tensor::from_vector<double>({1.0, 0.0, 0.5, 2.0}, Shape{4});
  for (const double gamma : {0.5, 1.0, 2.0, 5.0})
    cases.push_back({"focal_cross_entropy",
                     "logits [4, 5], one zero weight, gamma " + std::to_string(gamma),
                     focal_of(ids({0, 4, 2, 1}), four_weights, gamma),
                     {random_f64(Shape{4, 5}, 71, -2.0, 2.0)},
                     {}});
  cases.push_back({"focal_cross_entropy",
                   "logits [2, 2, 3] (leading dims flattened), gamma 2",
                   focal_of(ids({2, 0, 1, 1}), four_weights, 2.0),
                   {random_f64(Shape{2, 2, 3}, 72, -2.0, 2.0)},
                   {}});
  cases.push_back({"focal_cross_entropy",
                   "logits [1, 1] (one class: loss 0), gamma 0.5",
                   focal_of(ids({0}), Tensor::full(Shape{1}, 1.0, DType::f64), 0.5),
                   {random_f64(Shape{1, 1}, 73)},
                   {}});
  cases.push_back({"focal_cross_entropy",
                   "logits [3, 6] in ±30, gamma 2",
                   focal_of(ids({5, 0, 3}), Tensor::full(Shape{3}, 1.0, DType::f64), 2.0),
                   {random_f64(Shape{3, 6}, 74, -30.0, 30.0)},
                   {}});
}

}  // namespace electra
