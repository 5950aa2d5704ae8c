// Gradcheck cases for reshape, split_heads, merge_heads and concat_rows.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {

void append_shape_cases(std::vector<OpCase>& cases) {
  cases.push_back({"reshape",
                   "x [2, 6] → [3, 4]",
                   [](Tape& tape, const std::vector<Var>& v) {
                     return ops::reshape(tape, v[0], Shape{3, 4});
                   },
                   {random_f64(Shape{2, 6}, 400)},
                   {}});
  // reshape then a second op: the gradient must arrive through the view with the right layout.
  cases.push_back({"reshape",
                   "gelu(x [3, 1, 4] → [4, 3])",
                   [](Tape& tape, const std::vector<Var>& v) {
                     return ops::gelu(tape, ops::reshape(tape, v[0], Shape{4, 3}));
                   },
                   {random_f64(Shape{3, 1, 4}, 401)},
                   {}});
  for (auto [shape, heads] :
       {std::pair{Shape{2, 3, 4}, 2}, std::pair{Shape{1, 1, 1}, 1}, std::pair{Shape{2, 1, 6}, 3}}) {
    const std::int64_t h = heads;
    cases.push_back(
        {"split_heads",
         "x " + shape.str() + ", " + std::to_string(h) + " heads",
         [h](Tape& tape, const std::vector<Var>& v) { return ops::split_heads(tape, v[0], h); },
         {random_f64(shape, 410 + h)},
         {}});
  }
  auto merge = [](Tape& tape, const std::vector<Var>& v) { return ops::merge_heads(tape, v[0]); };
  cases.push_back(
      {"merge_heads", "x [2, 2, 3, 2]", merge, {random_f64(Shape{2, 2, 3, 2}, 420)}, {}});
  cases.push_back(
      {"merge_heads", "x [1, 3, 1, 2]", merge, {random_f64(Shape{1, 3, 1, 2}, 421)}, {}});
  // split → scale → merge: both permutations' backwards compose to the identity layout.
  cases.push_back({"merge_heads",
                   "merge(2·split(x [2, 3, 6], 3 heads))",
                   [](Tape& tape, const std::vector<Var>& v) {
                     return ops::merge_heads(
                         tape, ops::scale(tape, ops::split_heads(tape, v[0], 3), 2.0));
                   },
                   {random_f64(Shape{2, 3, 6}, 422)},
                   {}});
  // concat_rows: weights of different row counts, biases, and one part used twice (both row
  // blocks' gradients must add up in it).
  cases.push_back(
      {"concat_rows",
       "[2, 3] ++ [1, 3] ++ [3, 3]",
       [](Tape& tape, const std::vector<Var>& v) {
         return ops::concat_rows(tape, {v[0], v[1], v[2]});
       },
       {random_f64(Shape{2, 3}, 430), random_f64(Shape{1, 3}, 431), random_f64(Shape{3, 3}, 432)},
       {}});
  cases.push_back({"concat_rows",
                   "[2] ++ [3] (biases)",
                   [](Tape& tape, const std::vector<Var>& v) {
                     return ops::concat_rows(tape, {v[0], v[1]});
                   },
                   {random_f64(Shape{2}, 433), random_f64(Shape{3}, 434)},
                   {}});
  cases.push_back({"concat_rows",
                   "gelu(x [2, 2, 2] ++ x)",
                   [](Tape& tape, const std::vector<Var>& v) {
                     return ops::gelu(tape, ops::concat_rows(tape, {v[0], v[0]}));
                   },
                   {random_f64(Shape{2, 2, 2}, 435)},
                   {}});
}

}  // namespace electra
