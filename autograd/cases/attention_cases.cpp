// Gradcheck cases for the fused self_attention: padded keys, a sequence with one real token,
// dropout at a fixed key (the same mask on every evaluation), and the encoder's path, where qkv
// comes from one linear over the row-concatenated query/key/value weights.
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
    const Tensor key_mask = ops::additive_key_mask(attention_mask, inputs[0].value().dtype());
    return ops::self_attention(tape, inputs[0], constant_like(key_mask, inputs[0]), heads, dropout,
                               key,
                               /*training=*/dropout > 0);
  };
}

// qkv [B, L, 3·H·D] = [q | k | v].
OpCase attention_case(const std::string& description, Tensor attention_mask, std::int64_t heads,
                      std::int64_t head_dim, double dropout, std::uint64_t seed) {
  const Shape shape{attention_mask.dim(0), attention_mask.dim(1), 3 * heads * head_dim};
  return {"self_attention",
          description,
          attention_of(attention_mask, heads, dropout),
          {random_f64(shape, seed)},
          {}};
}

}  // namespace

void append_attention_cases(std::vector<OpCase>& cases) {
  const Tensor padded = mask_of({1, 1, 1, 0, 1, 1, 1, 1}, 2, 4);
  cases.push_back(attention_case("qkv [2, 4, 3·2·3], sequence 0 padded", padded, 2, 3, 0.0, 71));
  cases.push_back(attention_case("qkv [2, 4, 3·2·2], one sequence with one real token",
                                 mask_of({1, 0, 0, 0, 1, 1, 0, 0}, 2, 4), 2, 2, 0.0, 74));
  cases.push_back(
      attention_case("qkv [2, 4, 3·2·3], dropout 0.25 at a fixed key", padded, 2, 3, 0.25, 77));
  cases.push_back(
      attention_case("qkv [1, 1, 3·1·4] (one token, one head)", mask_of({1}, 1, 1), 1, 4, 0.0, 80));
  cases.push_back(
      attention_case("qkv [1, 3, 3·3·1] (head_dim 1)", mask_of({1, 1, 1}, 1, 3), 3, 1, 0.0, 83));
  // The encoder's fused projection: x feeds q, k and v through one product, so x's gradient sums
  // the three blocks' contributions and each weight gets its own row block back.
  cases.push_back({"self_attention",
                   "linear(x [2, 3, 4], Wq ++ Wk ++ Wv, bq ++ bk ++ bv), 2 heads",
                   [](Tape& tape, const std::vector<Var>& inputs) {
                     const Var weight = ops::concat_rows(tape, {inputs[1], inputs[2], inputs[3]});
                     const Var bias = ops::concat_rows(tape, {inputs[4], inputs[5], inputs[6]});
                     const Tensor key_mask = ops::additive_key_mask(
                         mask_of({1, 1, 0, 1, 1, 1}, 2, 3), inputs[0].value().dtype());
                     return ops::self_attention(tape, ops::linear(tape, inputs[0], weight, bias),
                                                constant_like(key_mask, inputs[0]), 2, 0.0, {},
                                                false);
                   },
                   {random_f64(Shape{2, 3, 4}, 86), random_f64(Shape{4, 4}, 87),
                    random_f64(Shape{4, 4}, 88), random_f64(Shape{4, 4}, 89),
                    random_f64(Shape{4}, 90), random_f64(Shape{4}, 91), random_f64(Shape{4}, 92)},
                   {}});
}

}  // namespace electra
