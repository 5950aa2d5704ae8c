// Gradcheck cases for the full reductions sum and mean.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {

void append_reduce_cases(std::vector<OpCase>& cases) {
  auto sum = [](Tape& tape, const std::vector<Var>& v) { return ops::sum(tape, v[0]); };
  auto mean = [](Tape& tape, const std::vector<Var>& v) { return ops::mean(tape, v[0]); };
  cases.push_back({"sum", "x [3, 4]", sum, {random_f64(Shape{3, 4}, 300)}, {}});
  cases.push_back({"sum", "x [1]", sum, {random_f64(Shape{1}, 301)}, {}});
  cases.push_back({"mean", "x [3, 1, 5]", mean, {random_f64(Shape{3, 1, 5}, 302)}, {}});
  cases.push_back({"mean", "x [1, 1]", mean, {random_f64(Shape{1, 1}, 303)}, {}});
  // Reduction of a product: the upstream gradient of sum is not 1 everywhere downstream.
  cases.push_back({"sum",
                   "sum(x ⊙ y) [2, 3]",
                   [](Tape& tape, const std::vector<Var>& v) {
                     return ops::sum(tape, ops::mul(tape, v[0], v[1]));
                   },
                   {random_f64(Shape{2, 3}, 304), random_f64(Shape{2, 3}, 305)},
                   {}});
}

}  // namespace electra
