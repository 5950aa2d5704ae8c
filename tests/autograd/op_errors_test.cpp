// Bad input to the differentiable ops: each error names the op, the argument and the shapes or
// values at fault, and a failed op records nothing on the tape.
#include <doctest/doctest.h>

#include <string>

#include "autograd/ops.hpp"
#include "helpers/errors.hpp"
#include "helpers/random_tensors.hpp"
#include "helpers/text.hpp"

using namespace electra;
using namespace electra::test;

namespace {

// A differentiable input (the values do not matter to the checks).
Var leaf(const Shape& shape, DType dtype = DType::f64) {
  return Var(random_tensor(shape, 9, -1, 1, dtype), true);
}

}  // namespace

TEST_CASE("ops: linear and batched_matmul reject bad shapes and dtypes") {
  Tape tape;
  const std::string inner = error_of([&] { ops::linear(tape, leaf({3, 4}), leaf({5, 3}), Var()); });
  CHECK(contains(inner, "linear"));
  CHECK(contains(inner, "[3, 4]"));
  CHECK(contains(inner, "[5, 3]"));
  const std::string bias = error_of([&] {
    ops::linear(tape, leaf({3, 4}), leaf({5, 4}), leaf({4}));
  });
  CHECK(contains(bias, "linear: bias"));
  const std::string dtype = error_of([&] {
    ops::linear(tape, leaf({3, 4}), leaf({5, 4}, DType::f32), Var());
  });
  CHECK(contains(dtype, "dtype mismatch"));
  CHECK(contains(error_of([&] { ops::linear(tape, leaf({0, 4}), leaf({5, 4}), Var()); }), "empty"));
  const std::string batched = error_of([&] {
    ops::batched_matmul(tape, leaf({2, 3, 4}), false, leaf({2, 5, 4}), false);
  });
  CHECK(contains(batched, "batched_matmul"));
  CHECK(contains(batched, "[2, 3, 4]"));
  CHECK(contains(batched, "[2, 5, 4]"));
  CHECK(contains(error_of([&] {
                   ops::batched_matmul(tape, leaf({2, 3, 4}), false, leaf({3, 4, 5}), false);
                 }),
                 "batch dimensions differ"));
  CHECK(contains(error_of([&] {
                   ops::batched_matmul(tape, leaf({3, 4}), false, leaf({4, 5}), false);
                 }),
                 "rank 3"));
}

TEST_CASE("ops: elementwise, reduce and shape ops reject bad input") {
  Tape tape;
  const std::string shape = error_of([&] { ops::add(tape, leaf({2, 3}), leaf({3, 2})); });
  CHECK(contains(shape, "add: shape mismatch [2, 3] vs [3, 2]"));
  CHECK(contains(error_of([&] {
                   ops::mul(tape, leaf({2, 3}), leaf({2, 3}, DType::f32));
                 }),
                 "mul: dtype mismatch"));
  CHECK(contains(error_of([&] { ops::gelu(tape, Var(Tensor::zeros({2}, DType::i32))); }),
                 "gelu: x must be f32 or f64"));
  CHECK(contains(error_of([&] { ops::scale(tape, leaf({0}), 2.0); }), "scale: a is empty"));
  CHECK(contains(error_of([&] { ops::sum(tape, leaf({3, 0})); }), "sum: x is empty"));
  CHECK(contains(error_of([&] { ops::mean(tape, Var()); }), "mean: x is undefined"));
  CHECK(contains(error_of([&] {
                   ops::reshape(tape, leaf({2, 3}), Shape{4});
                 }),
                 "reshape: cannot view x [2, 3]"));
  CHECK(contains(error_of([&] {
                   ops::split_heads(tape, leaf({2, 3, 5}), 2);
                 }),
                 "not divisible by 2 heads"));
  CHECK(contains(error_of([&] { ops::merge_heads(tape, leaf({2, 3, 5})); }), "merge_heads"));
}

TEST_CASE("ops: embedding and gather_rows name out-of-range ids and the table size") {
  Tape tape;
  const Tensor bad_ids = Tensor::from_vector<std::int32_t>({1, 7}, Shape{2});
  const std::string embedding = error_of([&] { ops::embedding(tape, leaf({5, 3}), bad_ids); });
  CHECK(contains(embedding, "id 7"));
  CHECK(contains(embedding, "5 rows"));
  const Tensor negative = Tensor::from_vector<std::int32_t>({-1}, Shape{1});
  CHECK(contains(error_of([&] { ops::gather_rows(tape, leaf({2, 3, 4}), negative); }), "id -1"));
  CHECK(contains(error_of([&] {
                   ops::embedding(tape, leaf({5, 3}), Tensor::zeros({2}, DType::f32));
                 }),
                 "ids must be i32"));
  CHECK(contains(error_of([&] {
                   ops::embedding(tape, leaf({5, 3}), Tensor::zeros({0}, DType::i32));
                 }),
                 "ids is empty"));
  CHECK(
      contains(error_of([&] { ops::embedding(tape, leaf({15}), Tensor::zeros({2}, DType::i32)); }),
               "table must be [V, E]"));
}

TEST_CASE(
    "ops: softmax, layer_norm, losses, self_attention and concat_rows name the op and the shapes") {
  Tape tape;
  const Var x(Tensor::zeros(Shape{2, 4}, DType::f64), true);
  CHECK(error_of([&] {
          ops::softmax(tape, Var(Tensor::zeros(Shape{2, 4}, DType::i32)));
        }).find("softmax: x must be f32 or f64") != std::string::npos);
  CHECK(error_of([&] {
          ops::softmax(tape, x, Tensor::zeros(Shape{1, 3}, DType::f64));
        }).find("softmax_forward: mask [1, 3] must have 4 columns") != std::string::npos);
  CHECK(error_of([&] { ops::log_softmax(tape, Var()); }).find("log_softmax: x is undefined") !=
        std::string::npos);

  const Var gamma(Tensor::zeros(Shape{3}, DType::f64)), beta(Tensor::zeros(Shape{4}, DType::f64));
  CHECK(error_of([&] {
          ops::layer_norm(tape, x, gamma, beta, 1e-12);
        }).find("layer_norm: gamma [3] and beta [4] must be [C] for x [2, 4]") !=
        std::string::npos);
  CHECK(error_of([&] {
          ops::layer_norm(tape, x, Var(Tensor::zeros(Shape{4})), beta, 1e-12);
        }).find("layer_norm: dtype mismatch") != std::string::npos);

  const Tensor targets = Tensor::from_vector<std::int32_t>({1, 3}, Shape{2});
  const Tensor weights = Tensor::full(Shape{2}, 1.0, DType::f64);
  const Tensor bad_targets = Tensor::from_vector<std::int32_t>({1, 7}, Shape{2});
  CHECK(error_of([&] {
          ops::cross_entropy(tape, x, bad_targets, weights);
        }).find("target 7 at row 1 is out of range [0, 4)") != std::string::npos);
  CHECK(error_of([&] {
          ops::cross_entropy(tape, x, targets, Tensor::full(Shape{3}, 1.0, DType::f64));
        }).find("weights [3] must have 2 elements") != std::string::npos);
  CHECK(error_of([&] {
          ops::bce_with_logits(tape, x, Tensor::zeros(Shape{8}, DType::f64), x.value());
        }).find("bce_with_logits_forward: shape mismatch [2, 4] vs [8]") != std::string::npos);

  const Var q(Tensor::zeros(Shape{2, 3, 18}, DType::f64), true);
  const Tensor mask = Tensor::full(Shape{2, 3}, 1.0, DType::i32);
  const Tensor key_mask = ops::additive_key_mask(mask, DType::f64);
  const kernels::RandomKey key;
  CHECK(error_of([&] {
          ops::self_attention(tape, q, key_mask, 4, 0.0, key, false);
        }).find("self_attention: hidden size 6 is not divisible by heads = 4") !=
        std::string::npos);
  CHECK(error_of([&] {
          ops::self_attention(tape, q, Tensor::zeros(Shape{3, 2}, DType::f64), 2, 0.0, key, false);
        }).find("key_mask expected shape [2, 3], got [3, 2]") != std::string::npos);
  CHECK(error_of([&] { ops::self_attention(tape, q, mask, 2, 0.0, key, false); })
            .find("self_attention: key_mask must be the additive [B, L] mask in qkv's dtype "
                  "(ops::additive_key_mask), got i32[2, 3]") != std::string::npos);
  CHECK(error_of([&] {
          ops::self_attention(tape, Var(Tensor::zeros(Shape{2, 3, 8}, DType::f64)), key_mask, 2,
                              0.0, key, false);
        }).find("self_attention: qkv must be [B, L, 3·H·D], got f64[2, 3, 8]") !=
        std::string::npos);
  CHECK(error_of([&] {
          ops::self_attention(tape, q, key_mask, 2, 1.0, key, true);
        }).find("dropout probability must be in [0, 1)") != std::string::npos);
  CHECK(error_of([&] {
          ops::additive_key_mask(Tensor::full(Shape{2, 3}, 2.0, DType::i32), DType::f64);
        }).find("attention_mask values must be 0 or 1, got 2") != std::string::npos);
  CHECK(error_of([&] {
          ops::concat_rows(tape, {Var(Tensor::zeros(Shape{2, 3}, DType::f64)),
                                  Var(Tensor::zeros(Shape{2, 4}, DType::f64))});
        }).find("concat_rows: part 1 [2, 4] does not stack under part 0 [2, 3]") !=
        std::string::npos);
  CHECK(error_of([&] {
          ops::additive_key_mask(mask, DType::i32);
        }).find("additive_key_mask: dtype must be f32 or f64") != std::string::npos);
  CHECK(tape.size() == 0);  // failed ops record nothing
}
