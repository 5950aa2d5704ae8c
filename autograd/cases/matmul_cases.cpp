// Gradcheck cases for linear and batched_matmul, including size-1 dimensions and every
// transpose combination of the batched product.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

OpCase linear_case(const std::string& description, const Shape& x_shape, std::int64_t out,
                   bool with_bias, std::uint64_t seed) {
  const std::int64_t in = x_shape[-1];
  std::vector<Tensor> inputs{random_f64(x_shape, seed), random_f64(Shape{out, in}, seed + 1)};
  if (with_bias) inputs.push_back(random_f64(Shape{out}, seed + 2));
  GradcheckFunction function = [with_bias](Tape& tape, const std::vector<Var>& v) {
    return ops::linear(tape, v[0], v[1], with_bias ? v[2] : Var());
  };
  return {"linear", description, function, inputs, {}};
}

// a [batch..., M, K] (or transposed), b [batch..., K, N] (or transposed).
OpCase batched_matmul_case(const std::vector<std::int64_t>& batch, std::int64_t m, std::int64_t k,
                           std::int64_t n, bool transpose_a, bool transpose_b, std::uint64_t seed) {
  std::vector<std::int64_t> a_dims = batch, b_dims = batch;
  a_dims.push_back(transpose_a ? k : m);
  a_dims.push_back(transpose_a ? m : k);
  b_dims.push_back(transpose_b ? n : k);
  b_dims.push_back(transpose_b ? k : n);
  const Shape a_shape(a_dims), b_shape(b_dims);
  GradcheckFunction function = [transpose_a, transpose_b](Tape& tape, const std::vector<Var>& v) {
    return ops::batched_matmul(tape, v[0], transpose_a, v[1], transpose_b);
  };
  const std::string description = "a " + a_shape.str() + (transpose_a ? "ᵀ" : "") + " · b " +
                                  b_shape.str() + (transpose_b ? "ᵀ" : "");
  return {"batched_matmul",
          description,
          function,
          {random_f64(a_shape, seed), random_f64(b_shape, seed + 1)},
          {}};
}

}  // namespace

void append_matmul_cases(std::vector<OpCase>& cases) {
  cases.push_back(linear_case("x [3, 4] · W [5, 4] + b", Shape{3, 4}, 5, true, 101));
  cases.push_back(linear_case("x [1, 1] · W [1, 1] + b", Shape{1, 1}, 1, true, 104));
  cases.push_back(linear_case("x [3, 1, 5] · W [2, 5] + b", Shape{3, 1, 5}, 2, true, 107));
  cases.push_back(linear_case("x [2, 3, 4] · W [6, 4], no bias", Shape{2, 3, 4}, 6, false, 110));
  // The bias reaches the output through broadcast_rows (one row per token) and its gradient is
  // summed back over the rows by sum_rows_accumulate: here over many rows.
  cases.push_back(linear_case("x [37, 8] · W [3, 8] + b (bias broadcast over 37 rows)",
                              Shape{37, 8}, 3, true, 113));
  std::uint64_t seed = 120;
  for (bool transpose_a : {false, true})
    for (bool transpose_b : {false, true})
      cases.push_back(batched_matmul_case({2}, 3, 4, 5, transpose_a, transpose_b, seed += 2));
  cases.push_back(batched_matmul_case({2, 2}, 3, 4, 2, false, true, 140));
  cases.push_back(batched_matmul_case({1}, 1, 1, 1, false, false, 143));
  cases.push_back(batched_matmul_case({3, 1}, 1, 5, 1, true, false, 146));
}

}  // namespace electra
