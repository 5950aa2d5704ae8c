// Gradcheck cases for cross_entropy and bce_with_logits, including zero weights and logits far
// into the saturated range (±30 and ±60).
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

GradcheckFunction cross_entropy_of(Tensor targets, Tensor weights) {
  return [targets, weights](Tape& tape, const std::vector<Var>& inputs) {
    return ops::cross_entropy(tape, inputs[0], constant_like(targets, inputs[0]),
                              constant_like(weights, inputs[0]));
  };
}

GradcheckFunction bce_of(Tensor labels, Tensor weights) {
  return [labels, weights](Tape& tape, const std::vector<Var>& inputs) {
    return ops::bce_with_logits(tape, inputs[0], constant_like(labels, inputs[0]),
                                constant_like(weights, inputs[0]));
  };
}

Tensor ids(const std::vector<std::int32_t>& values) {
  return Tensor::from_vector<std::int32_t>(values, Shape{static_cast<std::int64_t>(values.size())});
}

}  // namespace

void append_loss_cases(std::vector<OpCase>& cases) {
  // A zero weight (a padded or unmasked position) must contribute no gradient.
  const Tensor four_weights = Tensor::from_vector<double>({1.0, 0.0, 0.5, 2.0}, Shape{4});
  cases.push_back({"cross_entropy",
                   "logits [4, 5], one zero weight",
                   cross_entropy_of(ids({0, 4, 2, 1}), four_weights),
                   {random_f64(Shape{4, 5}, 51, -2.0, 2.0)},
                   {}});
  cases.push_back({"cross_entropy",
                   "logits [2, 2, 3] (leading dims flattened)",
                   cross_entropy_of(ids({2, 0, 1, 1}), four_weights),
                   {random_f64(Shape{2, 2, 3}, 52, -2.0, 2.0)},
                   {}});
  cases.push_back({"cross_entropy",
                   "logits [1, 1] (one class: loss 0)",
                   cross_entropy_of(ids({0}), Tensor::full(Shape{1}, 1.0, DType::f64)),
                   {random_f64(Shape{1, 1}, 53)},
                   {}});
  // ±30: the target is sometimes the largest logit and sometimes ~60 below it.
  cases.push_back({"cross_entropy",
                   "logits [3, 6] in ±30",
                   cross_entropy_of(ids({5, 0, 3}), Tensor::full(Shape{3}, 1.0, DType::f64)),
                   {random_f64(Shape{3, 6}, 54, -30.0, 30.0)},
                   {}});

  const Tensor labels = Tensor::from_vector<double>({1, 0, 0, 1, 1, 0}, Shape{6});
  const Tensor weights = Tensor::from_vector<double>({1, 1, 0, 0.5, 1, 2}, Shape{6});
  cases.push_back({"bce_with_logits",
                   "logits [6], one zero weight",
                   bce_of(labels, weights),
                   {random_f64(Shape{6}, 61, -3.0, 3.0)},
                   {}});
  cases.push_back({"bce_with_logits",
                   "logits [2, 3]",
                   bce_of(labels.reshape(Shape{2, 3}), weights.reshape(Shape{2, 3})),
                   {random_f64(Shape{2, 3}, 62, -3.0, 3.0)},
                   {}});
  cases.push_back({"bce_with_logits",
                   "logits [1]",
                   bce_of(ids({1}).to(DType::f64), Tensor::full(Shape{1}, 1.0, DType::f64)),
                   {random_f64(Shape{1}, 63)},
                   {}});
  // Saturated logits, right and wrong: the gradient is ~0 or ~±w/Σw and must not be NaN.
  cases.push_back({"bce_with_logits",
                   "logits [6] at ±30 and ±60",
                   bce_of(labels, weights),
                   {Tensor::from_vector<double>({30.0, 30.0, -60.0, -30.0, 60.0, -31.5}, Shape{6})},
                   {}});
}

}  // namespace electra
