// Gradcheck cases for add, mul, scale and GELU (smooth everywhere: no points to skip).
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

OpCase binary_case(const std::string& op, const Shape& shape, std::uint64_t seed) {
  GradcheckFunction function = [op](Tape& tape, const std::vector<Var>& v) {
    return op == "add" ? ops::add(tape, v[0], v[1]) : ops::mul(tape, v[0], v[1]);
  };
  return {op,
          "a, b " + shape.str(),
          function,
          {random_f64(shape, seed), random_f64(shape, seed + 1)},
          {}};
}

}  // namespace

void append_elementwise_cases(std::vector<OpCase>& cases) {
  std::uint64_t seed = 200;
  for (const char* op : {"add", "mul"})
    for (const Shape& shape : {Shape{3, 4}, Shape{1, 1}, Shape{3, 1, 5}})
      cases.push_back(binary_case(op, shape, seed += 2));
  // The same Var on both sides: backward must accumulate both contributions (d(x²) = 2x).
  cases.push_back({"mul",
                   "x ⊙ x [2, 3] (one input used twice)",
                   [](Tape& tape, const std::vector<Var>& v) { return ops::mul(tape, v[0], v[0]); },
                   {random_f64(Shape{2, 3}, 220)},
                   {}});
  cases.push_back(
      {"scale",
       "x [3, 4] · −2.5",
       [](Tape& tape, const std::vector<Var>& v) { return ops::scale(tape, v[0], -2.5); },
       {random_f64(Shape{3, 4}, 222)},
       {}});
  cases.push_back(
      {"scale",
       "x [1] · 0.3",
       [](Tape& tape, const std::vector<Var>& v) { return ops::scale(tape, v[0], 0.3); },
       {random_f64(Shape{1}, 224)},
       {}});
  auto gelu = [](Tape& tape, const std::vector<Var>& v) { return ops::gelu(tape, v[0]); };
  cases.push_back({"gelu", "x [4, 6] in [−4, 4]", gelu, {random_f64(Shape{4, 6}, 226, -4, 4)}, {}});
  cases.push_back({"gelu", "x [3, 1, 5]", gelu, {random_f64(Shape{3, 1, 5}, 228, -2, 2)}, {}});
  cases.push_back({"gelu", "x [1, 1]", gelu, {random_f64(Shape{1, 1}, 230)}, {}});
}

}  // namespace electra
