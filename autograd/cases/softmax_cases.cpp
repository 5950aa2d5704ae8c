// Gradcheck cases for softmax (with and without an additive key mask) and log_softmax.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

GradcheckFunction softmax_of(Tensor mask = {}, std::int64_t rows_per_mask_row = 1) {
  return [mask, rows_per_mask_row](Tape& tape, const std::vector<Var>& inputs) {
    return ops::softmax(tape, inputs[0], mask.defined() ? constant_like(mask, inputs[0]) : mask,
                        rows_per_mask_row);
  };
}

Var log_softmax_of(Tape& tape, const std::vector<Var>& inputs) {
  return ops::log_softmax(tape, inputs[0]);
}

}  // namespace

void append_softmax_cases(std::vector<OpCase>& cases) {
  cases.push_back({"softmax", "x [3, 5]", softmax_of(), {random_f64(Shape{3, 5}, 11)}, {}});
  cases.push_back(
      {"softmax", "x [2, 1, 4] (size-1 axis)", softmax_of(), {random_f64(Shape{2, 1, 4}, 12)}, {}});
  cases.push_back({"softmax",
                   "x [4, 1] (one class: constant 1)",
                   softmax_of(),
                   {random_f64(Shape{4, 1}, 13)},
                   {}});
  cases.push_back({"softmax",
                   "x [2, 6] logits in ±30",
                   softmax_of(),
                   {random_f64(Shape{2, 6}, 14, -30.0, 30.0)},
                   {}});
  // Attention-shaped scores [B=2, H=2, Lq=3, Lk=4] with a key mask [B, Lk]: sequence 0 keeps only
  // key 2 (every other key masked), sequence 1 drops key 3.
  Tensor key_mask =
      Tensor::from_vector<double>({-10000, -10000, 0, -10000, 0, 0, 0, -10000}, Shape{2, 4});
  cases.push_back({"softmax",
                   "scores [2, 2, 3, 4], key mask [2, 4], all but one key masked",
                   softmax_of(key_mask, 2 * 3),
                   {random_f64(Shape{2, 2, 3, 4}, 15, -3.0, 3.0)},
                   {}});

  cases.push_back({"log_softmax", "x [3, 5]", log_softmax_of, {random_f64(Shape{3, 5}, 21)}, {}});
  cases.push_back({"log_softmax",
                   "x [1, 1, 6] (size-1 axes)",
                   log_softmax_of,
                   {random_f64(Shape{1, 1, 6}, 22)},
                   {}});
  cases.push_back({"log_softmax",
                   "x [4, 1] (one class: constant 0)",
                   log_softmax_of,
                   {random_f64(Shape{4, 1}, 23)},
                   {}});
  cases.push_back({"log_softmax",
                   "x [3, 7] logits in ±30",
                   log_softmax_of,
                   {random_f64(Shape{3, 7}, 24, -30.0, 30.0)},
                   {}});
}

}  // namespace electra
