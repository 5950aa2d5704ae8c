// Gradchecks of softmax, log_softmax, layer_norm, the losses and the fused self_attention; the
// fused attention against its composition from primitive ops; bad-input errors of each op
// (and of concat_rows, which feeds the fused attention's qkv in the encoder).
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

using namespace electra;

namespace {

// Runs every case of one family, one CHECK per case; prints each op's worst errors.
void check_cases(void (*append)(std::vector<OpCase>&)) {
  std::vector<OpCase> cases;
  append(cases);
  REQUIRE(!cases.empty());
  std::map<std::string, GradcheckResult> worst;
  for (const OpCase& op_case : cases) {
    const GradcheckResult result = gradcheck(op_case.function, op_case.inputs, op_case.options);
    INFO(op_case.op, " ", op_case.shape, ": max rel ", result.max_rel_error, ", max abs ",
         result.max_abs_error, " (", result.worst, ")");
    CHECK(result.passed);
    CHECK(result.checked > 0);
    GradcheckResult& op_worst = worst[op_case.op];
    op_worst.max_rel_error = std::max(op_worst.max_rel_error, result.max_rel_error);
    op_worst.max_abs_error = std::max(op_worst.max_abs_error, result.max_abs_error);
    op_worst.checked += result.checked;
  }
  for (const auto& [op, result] : worst)
    MESSAGE(op, ": ", result.checked, " elements checked, worst rel ", result.max_rel_error,
            ", worst abs ", result.max_abs_error);
}

template <typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

Tensor random_tensor(const Shape& shape, std::uint64_t seed, DType dtype) {
  return random_f64(shape, seed).to(dtype);
}

// max |a − b| / max |b| over a tensor, and the largest elementwise |a − b| / |b| among
// elements with |b| ≥ 1e-3·max |b| (smaller ones are sums that cancelled).
struct Difference {
  double normwise = 0, elementwise = 0;
};
Difference difference(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double largest = 0, worst_abs = 0;
  for (double value : y) largest = std::max(largest, std::abs(value));
  Difference result;
  for (std::size_t i = 0; i < x.size(); ++i) {
    worst_abs = std::max(worst_abs, std::abs(x[i] - y[i]));
    if (std::abs(y[i]) >= 1e-3 * largest)
      result.elementwise = std::max(result.elementwise, std::abs(x[i] - y[i]) / std::abs(y[i]));
  }
  result.normwise = worst_abs / largest;
  return result;
}

struct AttentionRun {
  Tensor output, dq, dk, dv;
};

// parts [B, L, W] each → [B, L, Σ W] side by side along the last axis (q | k | v), and back.
Tensor concat_last(const std::vector<Tensor>& parts) {
  const std::int64_t rows = parts[0].shape().rows();
  std::vector<double> joined;
  for (std::int64_t row = 0; row < rows; ++row)
    for (const Tensor& part : parts) {
      const std::vector<double> values = part.to_vector();
      const std::int64_t width = part.shape().cols();
      joined.insert(joined.end(), values.begin() + row * width,
                    values.begin() + (row + 1) * width);
    }
  const Shape& shape = parts[0].shape();
  const Shape joined_shape{shape[0], shape[1], shape[2] * static_cast<std::int64_t>(parts.size())};
  return Tensor::from_vector(joined, joined_shape).to(parts[0].dtype());
}
Tensor columns(const Tensor& x, std::int64_t first, std::int64_t width) {
  const std::vector<double> values = x.to_vector();
  std::vector<double> picked;
  for (std::int64_t row = 0; row < x.shape().rows(); ++row)
    for (std::int64_t c = 0; c < width; ++c)
      picked.push_back(values[row * x.shape().cols() + first + c]);
  return Tensor::from_vector(picked, Shape{x.dim(0), x.dim(1), width}).to(x.dtype());
}

// One forward and backward (projected on `projection`) of either the fused op on qkv = [q|k|v]
// or its composition split_heads → batched_matmul → scale → masked softmax → dropout →
// batched_matmul → merge_heads on separate q, k, v, with the same dropout key.
AttentionRun run_attention(bool fused, const std::vector<Tensor>& qkv, const Tensor& mask,
                           std::int64_t heads, double dropout, const Tensor& projection) {
  Tape tape;
  const kernels::RandomKey key{99, 3, 1000};
  if (fused) {
    Var joined(concat_last(qkv), true);
    const Var output =
        ops::self_attention(tape, joined, ops::additive_key_mask(mask, joined.value().dtype()),
                            heads, dropout, key, true);
    tape.backward(output, projection);
    const std::int64_t width = qkv[0].dim(2);
    return {output.value(), columns(joined.grad(), 0, width), columns(joined.grad(), width, width),
            columns(joined.grad(), 2 * width, width)};
  }
  Var q(qkv[0].clone(), true), k(qkv[1].clone(), true), v(qkv[2].clone(), true);
  const std::int64_t length = q.shape()[1], head_dim = q.shape()[2] / heads;
  const Var qh = ops::split_heads(tape, q, heads), kh = ops::split_heads(tape, k, heads),
            vh = ops::split_heads(tape, v, heads);
  const Var scores = ops::scale(tape, ops::batched_matmul(tape, qh, false, kh, true),
                                1.0 / std::sqrt(static_cast<double>(head_dim)));
  const Var probs =
      ops::softmax(tape, scores, ops::additive_key_mask(mask, q.value().dtype()), heads * length);
  const Var dropped = ops::dropout(tape, probs, dropout, key, true);
  const Var output = ops::merge_heads(tape, ops::batched_matmul(tape, dropped, false, vh, false));
  tape.backward(output, projection);
  return {output.value(), q.grad(), k.grad(), v.grad()};
}

}  // namespace

TEST_CASE("ops b: gradcheck softmax and log_softmax") { check_cases(append_softmax_cases); }
TEST_CASE("ops b: gradcheck layer_norm") { check_cases(append_layer_norm_cases); }
TEST_CASE("ops b: gradcheck cross_entropy and bce_with_logits") { check_cases(append_loss_cases); }
TEST_CASE("ops b: gradcheck self_attention") { check_cases(append_attention_cases); }

TEST_CASE("ops b: fused self_attention equals its composition from primitive ops") {
  // B = 3, L = 5, H = 4, D = 6 (1/√6 is inexact, so folding it into the GEMM changes rounding);
  // sequence 1 is padded, sequence 2 has one real token.
  const Tensor mask =
      Tensor::from_vector<std::int32_t>({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0}, Shape{3, 5});
  const std::int64_t heads = 4;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (double dropout : {0.0, 0.1}) {
      const Shape shape{3, 5, 24};
      const std::vector<Tensor> qkv{random_tensor(shape, 1, dtype), random_tensor(shape, 2, dtype),
                                    random_tensor(shape, 3, dtype)};
      const Tensor projection = random_tensor(shape, 4, dtype);
      const AttentionRun fused = run_attention(true, qkv, mask, heads, dropout, projection);
      const AttentionRun composed = run_attention(false, qkv, mask, heads, dropout, projection);
      const double tolerance = dtype == DType::f32 ? 1e-6 : 1e-13;
      const std::vector<std::pair<const char*, std::pair<Tensor, Tensor>>> pairs{
          {"output", {fused.output, composed.output}},
          {"dq", {fused.dq, composed.dq}},
          {"dk", {fused.dk, composed.dk}},
          {"dv", {fused.dv, composed.dv}}};
      for (const auto& [name, tensors] : pairs) {
        const Difference diff = difference(tensors.first, tensors.second);
        const std::string label =
            std::string(dtype_name(dtype)) + " dropout " + std::to_string(dropout) + " " + name;
        INFO(label, ": max|Δ|/max|ref| ", diff.normwise, ", elementwise rel ", diff.elementwise);
        CHECK(diff.normwise <= tolerance);
        MESSAGE(label, ": max|Δ|/max|ref| ", diff.normwise, ", elementwise rel ", diff.elementwise);
      }
    }
  }
}

TEST_CASE("ops b: self_attention without training ignores dropout; masked keys get no weight") {
  const Tensor mask = Tensor::from_vector<std::int32_t>({1, 1, 0, 1, 0, 0}, Shape{2, 3});
  const Shape shape{2, 3, 4};
  Tape tape;
  const Tensor q = random_tensor(shape, 5, DType::f64), k = random_tensor(shape, 6, DType::f64);
  Tensor values = random_tensor(shape, 7, DType::f64);
  const Var qkv(concat_last({q, k, values}));
  const kernels::RandomKey key{1, 2, 3};
  const Tensor key_mask = ops::additive_key_mask(mask, DType::f64);
  const Tensor plain = ops::self_attention(tape, qkv, key_mask, 2, 0.0, key, true).value();
  const Tensor eval = ops::self_attention(tape, qkv, key_mask, 2, 0.5, key, false).value();
  CHECK(difference(eval, plain).normwise == 0.0);
  // Sequence 1 has one real token: every query attends to it alone, so context = v[1, 0].
  for (std::int64_t position = 0; position < 3; ++position)
    for (std::int64_t c = 0; c < 4; ++c)
      CHECK(plain.item(12 + position * 4 + c) == doctest::Approx(values.item(12 + c)));
  // Changing a padded key's value changes nothing.
  values.data<double>()[2 * 4 + 1] += 100.0;
  const Tensor changed =
      ops::self_attention(tape, Var(concat_last({q, k, values})), key_mask, 2, 0.0, key, true)
          .value();
  CHECK(difference(changed, plain).normwise == 0.0);
  CHECK(tape.size() == 0);  // nothing required a gradient

  const Tensor additive = ops::additive_key_mask(mask, DType::f32);
  CHECK(additive.dtype() == DType::f32);
  CHECK(additive.to_vector() == std::vector<double>{0, 0, -10000, 0, -10000, -10000});
}

TEST_CASE("ops b: bad input names the op and the shapes") {
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
  CHECK(error_of([&] {
          ops::self_attention(tape, q, mask, 2, 0.0, key, false);
        }).find("self_attention: key_mask must be the additive [B, L] mask in qkv's dtype "
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
