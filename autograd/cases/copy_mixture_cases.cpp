// Gradcheck cases for copy_mixture_loss: rows that may copy (target = input) and rows that may
// not, a zero weight, and copy logits far into the saturated range (±30), where log D or
// log(1 − D) underflows unless the op works in log space.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

GradcheckFunction copy_mixture_of(Tensor input_ids, Tensor targets, Tensor weights) {
  return [input_ids, targets, weights](Tape& tape, const std::vector<Var>& inputs) {
    const Var& like = inputs[0];
    return ops::copy_mixture_loss(tape, inputs[0], inputs[1], constant_like(input_ids, like),
                                  constant_like(targets, like), constant_like(weights, like));
  };
}

Tensor ids(const std::vector<std::int32_t>& values) {
  return Tensor::from_vector<std::int32_t>(values, Shape{static_cast<std::int64_t>(values.size())});
}

}  // namespace

void append_copy_mixture_cases(std::vector<OpCase>& cases) {
  // Rows 0, 2, 4 may copy (input = target), rows 1, 3, 5 may not; row 3 has weight 0.
  const Tensor input_ids = ids({2, 4, 1, 0, 3, 3});
  const Tensor targets = ids({2, 1, 1, 0, 3, 0});
  const Tensor weights = Tensor::from_vector<double>({1, 1, 0.5, 0, 2, 1}, Shape{6});
  cases.push_back({"copy_mixture_loss",
                   "logits [6, 5], copy_logits [6], copy and non-copy rows, one zero weight",
                   copy_mixture_of(input_ids, targets, weights),
                   {random_f64(Shape{6, 5}, 71, -2.0, 2.0), random_f64(Shape{6}, 72, -2.0, 2.0)},
                   {}});
  cases.push_back({"copy_mixture_loss",
                   "logits [2, 3, 5], copy_logits [2, 3] (leading dims flattened)",
                   copy_mixture_of(input_ids, targets, weights),
                   {random_f64(Shape{2, 3, 5}, 73, -2.0, 2.0), random_f64(Shape{2, 3}, 74)},
                   {}});
  // Saturated copy logits: D ≈ 1 on a copy row (loss ≈ 0), D ≈ 1 on a non-copy row (loss ≈ 30),
  // D ≈ 0 on both kinds; logits in ±20.
  cases.push_back({"copy_mixture_loss",
                   "copy_logits at ±30, logits in ±20",
                   copy_mixture_of(input_ids, targets, weights),
                   {random_f64(Shape{6, 5}, 75, -20.0, 20.0),
                    Tensor::from_vector<double>({30, 30, -30, 5, -30, -30}, Shape{6})},
                   {}});
}

}  // namespace electra
