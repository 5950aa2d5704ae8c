// Gradcheck cases for the fused self_attention: padded keys, a sequence with one real token,
// dropout at a fixed key (the same mask on every evaluation) and q = k = v as one input.
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {
namespace {

Tensor mask_of(const std::vector<std::int32_t>& values, std::int64_t batch, std::int64_t length) {
  return Tensor::from_vector<std::int32_t>(values, Shape{batch, length});
}

GradcheckFunction attention_of(Tensor attention_mask, std::int64_t heads, double dropout) {
  return [attention_mask, heads, dropout](Tape& tape, const std::vector<Var>& inputs) {
    const kernels::RandomKey key{2024, 7, 0};
    return ops::self_attention(tape, inputs[0], inputs[1], inputs[2], attention_mask, heads,
                               dropout, key, /*training=*/dropout > 0);
  };
}

OpCase attention_case(const std::string& description, Tensor attention_mask, std::int64_t heads,
                      std::int64_t head_dim, double dropout, std::uint64_t seed) {
  const Shape shape{attention_mask.dim(0), attention_mask.dim(1), heads * head_dim};
  return {"self_attention",
          description,
          attention_of(attention_mask, heads, dropout),
          {random_f64(shape, seed), random_f64(shape, seed + 1), random_f64(shape, seed + 2)},
          {}};
}

}  // namespace

void append_attention_cases(std::vector<OpCase>& cases) {
  const Tensor padded = mask_of({1, 1, 1, 0, 1, 1, 1, 1}, 2, 4);
  cases.push_back(attention_case("q,k,v [2, 4, 2·3], sequence 0 padded", padded, 2, 3, 0.0, 71));
  cases.push_back(attention_case("q,k,v [2, 4, 2·2], one sequence with one real token",
                                 mask_of({1, 0, 0, 0, 1, 1, 0, 0}, 2, 4), 2, 2, 0.0, 74));
  cases.push_back(
      attention_case("q,k,v [2, 4, 2·3], dropout 0.25 at a fixed key", padded, 2, 3, 0.25, 77));
  cases.push_back(
      attention_case("q,k,v [1, 1, 1·4] (one token, one head)", mask_of({1}, 1, 1), 1, 4, 0.0, 80));
  cases.push_back(
      attention_case("q,k,v [1, 3, 3·1] (head_dim 1)", mask_of({1, 1, 1}, 1, 3), 3, 1, 0.0, 83));
  // One Var feeding q, k and v: the three backward contributions must add up.
  cases.push_back({"self_attention",
                   "x [2, 3, 2·2] as q = k = v",
                   [](Tape& tape, const std::vector<Var>& inputs) {
                     return ops::self_attention(tape, inputs[0], inputs[0], inputs[0],
                                                mask_of({1, 1, 0, 1, 1, 1}, 2, 3), 2, 0.0, {},
                                                false);
                   },
                   {random_f64(Shape{2, 3, 4}, 86)},
                   {}});
}

}  // namespace electra
