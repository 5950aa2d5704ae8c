// The fused self_attention against its composition from primitive ops (f32 and f64, with and
// without dropout), and what its masking and evaluation mode promise. Its gradcheck cases run
// with the other op families in op_gradcheck_test.cpp, its bad-input errors in op_errors_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"
#include "helpers/random_tensors.hpp"

using namespace electra;
using namespace electra::test;

namespace {

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
      joined.insert(joined.end(), values.begin() + row * width, values.begin() + (row + 1) * width);
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

TEST_CASE("self_attention: the fused op equals its composition from primitive ops") {
  // B = 3, L = 5, H = 4, D = 6 (1/√6 is inexact, so folding it into the GEMM changes rounding);
  // sequence 1 is padded, sequence 2 has one real token.
  const Tensor mask =
      Tensor::from_vector<std::int32_t>({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0}, Shape{3, 5});
  const std::int64_t heads = 4;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (double dropout : {0.0, 0.1}) {
      const Shape shape{3, 5, 24};
      const std::vector<Tensor> qkv{random_tensor(shape, 1, -1, 1, dtype),
                                    random_tensor(shape, 2, -1, 1, dtype),
                                    random_tensor(shape, 3, -1, 1, dtype)};
      const Tensor projection = random_tensor(shape, 4, -1, 1, dtype);
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

TEST_CASE("self_attention: without training ignores dropout; masked keys get no weight") {
  const Tensor mask = Tensor::from_vector<std::int32_t>({1, 1, 0, 1, 0, 0}, Shape{2, 3});
  const Shape shape{2, 3, 4};
  Tape tape;
  const Tensor q = random_tensor(shape, 5, -1, 1, DType::f64),
               k = random_tensor(shape, 6, -1, 1, DType::f64);
  Tensor values = random_tensor(shape, 7, -1, 1, DType::f64);
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
