// Gradcheck cases for dropout: the mask is a pure function of the key, so the perturbed forward
// passes draw the same mask and the op is checkable like any other.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

OpCase dropout_case(const std::string& description, const Shape& shape, double probability,
                    bool training, std::uint64_t seed) {
  const kernels::RandomKey key{seed, 7, 1000};
  return {"dropout",
          description,
          [probability, key, training](Tape& tape, const std::vector<Var>& v) {
            return ops::dropout(tape, v[0], probability, key, training);
          },
          {random_f64(shape, seed)},
          {}};
}

}  // namespace

void append_dropout_cases(std::vector<OpCase>& cases) {
  cases.push_back(dropout_case("x [4, 5], p 0.3", Shape{4, 5}, 0.3, true, 600));
  cases.push_back(dropout_case("x [3, 1, 5], p 0.5", Shape{3, 1, 5}, 0.5, true, 601));
  cases.push_back(dropout_case("x [1, 1], p 0.1", Shape{1, 1}, 0.1, true, 602));
  cases.push_back(dropout_case("x [2, 3], p 0.3, eval (identity)", Shape{2, 3}, 0.3, false, 603));
}

}  // namespace electra
