// gemm and gemm_batched: hand-checked values, every transpose combination against a naive loop,
// f32 vs f64 agreement, both batched paths (split across cores / threaded BLAS), thread-count
// independence and error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>

#include "engine/kernels.hpp"
#include "engine/threads.hpp"
#include "helpers/errors.hpp"
#include "helpers/random_tensors.hpp"

using namespace electra;
using namespace electra::test;

namespace {

// c [M, N] = op(a) · op(b), naive triple loop in double on one matrix of a batch.
std::vector<double> naive_product(const std::vector<double>& a, bool transpose_a,
                                  const std::vector<double>& b, bool transpose_b, std::int64_t m,
                                  std::int64_t k, std::int64_t n, std::int64_t batch) {
  std::vector<double> c(batch * m * n, 0.0);
  for (std::int64_t p = 0; p < batch; ++p)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double total = 0;
        for (std::int64_t l = 0; l < k; ++l) {
          const double a_il = transpose_a ? a[p * m * k + l * m + i] : a[p * m * k + i * k + l];
          const double b_lj = transpose_b ? b[p * k * n + j * k + l] : b[p * k * n + l * n + j];
          total += a_il * b_lj;
        }
        c[p * m * n + i * n + j] = total;
      }
  return c;
}

double max_relative_difference(const std::vector<double>& x, const std::vector<double>& y) {
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i])));
  return worst;
}

}  // namespace

TEST_CASE("gemm: a hand-checked 2×3 · 3×2 product with alpha and beta") {
  const Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const Tensor b = Tensor::from_vector<float>({7, 8, 9, 10, 11, 12}, Shape{3, 2});
  Tensor c = Tensor::from_vector<float>({1, 1, 1, 1}, Shape{2, 2});
  kernels::gemm(a, false, b, false, c, 2.0, 10.0);
  // a·b = [[58, 64], [139, 154]]
  CHECK(c.to_vector() == std::vector<double>{126, 138, 288, 318});
}

TEST_CASE("gemm: every transpose combination matches a naive product, f32 and f64") {
  const std::int64_t m = 5, k = 7, n = 3;
  for (bool transpose_a : {false, true})
    for (bool transpose_b : {false, true}) {
      const Tensor a = random_tensor(transpose_a ? Shape{k, m} : Shape{m, k}, 1);
      const Tensor b = random_tensor(transpose_b ? Shape{n, k} : Shape{k, n}, 2);
      const std::vector<double> expected =
          naive_product(a.to_vector(), transpose_a, b.to_vector(), transpose_b, m, k, n, 1);
      Tensor c64 = Tensor::empty(Shape{m, n}, DType::f64);
      kernels::gemm(a, transpose_a, b, transpose_b, c64);
      CHECK(max_relative_difference(c64.to_vector(), expected) < 1e-12);
      Tensor c32 = Tensor::empty(Shape{m, n}, DType::f32);
      kernels::gemm(a.to(DType::f32), transpose_a, b.to(DType::f32), transpose_b, c32);
      CHECK(max_relative_difference(c32.to_vector(), expected) < 1e-5);
    }
}

TEST_CASE("gemm: row bands on 1, 2 and 3 threads give the naive product, bit for bit alike") {
  const std::int64_t m = 301, k = 130, n = 70;  // m not a multiple of the 16-row band unit
  const int previous = num_threads();
  for (bool transpose_a : {false, true})
    for (bool transpose_b : {false, true}) {
      CAPTURE(transpose_a);
      CAPTURE(transpose_b);
      const Tensor a = random_tensor(transpose_a ? Shape{k, m} : Shape{m, k}, 11).to(DType::f32);
      const Tensor b = random_tensor(transpose_b ? Shape{n, k} : Shape{k, n}, 12).to(DType::f32);
      const Tensor start = random_tensor(Shape{m, n}, 13).to(DType::f32);
      auto expected =
          naive_product(a.to_vector(), transpose_a, b.to_vector(), transpose_b, m, k, n, 1);
      const std::vector<double> start_values = start.to_vector();
      for (std::size_t i = 0; i < expected.size(); ++i)
        expected[i] = 0.5 * expected[i] + start_values[i];
      std::vector<std::vector<double>> results;
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        Tensor c = start.clone();
        kernels::gemm(a, transpose_a, b, transpose_b, c, 0.5, 1.0);  // beta = 1 accumulates
        results.push_back(c.to_vector());
      }
      set_num_threads(previous);
      CHECK(max_relative_difference(results[0], expected) < 1e-5);
      CHECK(results[1] == results[0]);
      CHECK(results[2] == results[0]);
    }
}

TEST_CASE("gemm: leading dimensions are flattened into rows") {
  const Tensor x = random_tensor(Shape{2, 3, 4}, 3);
  const Tensor w = random_tensor(Shape{5, 4}, 4);
  Tensor y = Tensor::empty(Shape{2, 3, 5}, DType::f64);
  kernels::gemm(x, false, w, true, y);
  const auto expected = naive_product(x.to_vector(), false, w.to_vector(), true, 6, 4, 5, 1);
  CHECK(max_relative_difference(y.to_vector(), expected) < 1e-12);
}

TEST_CASE("gemm_batched: small and big products match a naive product") {
  struct Case {
    std::int64_t batch, m, k, n;
  };
  for (const Case& s : {Case{6, 8, 4, 5}, Case{2, 300, 260, 270}})
    for (bool transpose_a : {false, true})
      for (bool transpose_b : {false, true}) {
        const Tensor a =
            random_tensor(transpose_a ? Shape{s.batch, s.k, s.m} : Shape{s.batch, s.m, s.k}, 5);
        const Tensor b =
            random_tensor(transpose_b ? Shape{s.batch, s.n, s.k} : Shape{s.batch, s.k, s.n}, 6);
        const auto expected = naive_product(a.to_vector(), transpose_a, b.to_vector(), transpose_b,
                                            s.m, s.k, s.n, s.batch);
        Tensor c = Tensor::empty(Shape{s.batch, s.m, s.n}, DType::f64);
        kernels::gemm_batched(a, transpose_a, b, transpose_b, c);
        CHECK(max_relative_difference(c.to_vector(), expected) < 1e-12);
        Tensor c32 = Tensor::empty(Shape{s.batch, s.m, s.n}, DType::f32);
        kernels::gemm_batched(a.to(DType::f32), transpose_a, b.to(DType::f32), transpose_b, c32);
        CHECK(max_relative_difference(c32.to_vector(), expected) < 1e-5);
      }
}

TEST_CASE("gemm_batched: rank-4 [B, H, ·, ·] batches over B·H, accumulating with beta") {
  const Tensor a = random_tensor(Shape{2, 3, 4, 5}, 7);
  const Tensor b = random_tensor(Shape{2, 3, 4, 6}, 8);
  Tensor c = Tensor::full(Shape{2, 3, 5, 6}, 1.0, DType::f64);
  kernels::gemm_batched(a, true, b, false, c, 0.5, 1.0);
  auto expected = naive_product(a.to_vector(), true, b.to_vector(), false, 5, 4, 6, 6);
  for (double& value : expected) value = 0.5 * value + 1.0;
  CHECK(max_relative_difference(c.to_vector(), expected) < 1e-12);
}

TEST_CASE("gemm_batched: the result does not depend on the thread count") {
  const Tensor a = random_tensor(Shape{16, 32, 16}, 9).to(DType::f32);
  const Tensor b = random_tensor(Shape{16, 16, 32}, 10).to(DType::f32);
  Tensor one = Tensor::empty(Shape{16, 32, 32}), two = Tensor::empty(Shape{16, 32, 32});
  const int previous = num_threads();
  set_num_threads(1);
  kernels::gemm_batched(a, false, b, false, one);
  set_num_threads(2);
  kernels::gemm_batched(a, false, b, false, two);
  set_num_threads(previous);
  CHECK(one.to_vector() == two.to_vector());
}

TEST_CASE("gemm: errors name the kernel and both shapes") {
  const Tensor a = Tensor::zeros(Shape{2, 3}), b = Tensor::zeros(Shape{4, 5});
  Tensor c = Tensor::zeros(Shape{2, 5});
  const std::string inner = error_of([&] { kernels::gemm(a, false, b, false, c); });
  CHECK(inner.find("gemm: inner dimensions differ: a [2, 3] vs b [4, 5]") == 0);
  Tensor wrong_c = Tensor::zeros(Shape{3, 3});
  const Tensor b_ok = Tensor::zeros(Shape{3, 5});
  CHECK(error_of([&] {
          kernels::gemm(a, false, b_ok, false, wrong_c);
        }).find("c expected [2, 5]") != std::string::npos);
  const Tensor b64 = Tensor::zeros(Shape{3, 5}, DType::f64);
  CHECK(error_of([&] { kernels::gemm(a, false, b64, false, c); }).find("gemm: dtype mismatch") ==
        0);
  const Tensor empty = Tensor::zeros(Shape{0, 3});
  CHECK(error_of([&] { kernels::gemm(empty, false, b_ok, false, c); }).find("empty tensor") !=
        std::string::npos);
  const Tensor ids = Tensor::zeros(Shape{2, 3}, DType::i32);
  Tensor ids_out = Tensor::zeros(Shape{2, 5}, DType::i32);
  const Tensor ids_b = Tensor::zeros(Shape{3, 5}, DType::i32);
  CHECK(error_of([&] { kernels::gemm(ids, false, ids_b, false, ids_out); }).find("f32 or f64") !=
        std::string::npos);
  Tensor batched_c = Tensor::zeros(Shape{3, 2, 5});
  const std::string batch = error_of([&] {
    kernels::gemm_batched(Tensor::zeros(Shape{2, 2, 3}), false, Tensor::zeros(Shape{3, 3, 5}),
                          false, batched_c);
  });
  CHECK(batch.find("gemm_batched: batch sizes differ: a [2, 2, 3], b [3, 3, 5]") == 0);
}

// ---------------------------------------------------------------- gemm_strided_batched
namespace {

// Matrix (i, j) of a layout copied out as a dense [rows, cols] block.
std::vector<double> matrix_of(const Tensor& t, const kernels::StridedMatrices& l, std::int64_t i,
                              std::int64_t j) {
  const std::vector<double> values = t.to_vector();
  std::vector<double> out;
  for (std::int64_t r = 0; r < l.rows; ++r)
    for (std::int64_t c = 0; c < l.cols; ++c)
      out.push_back(values[l.offset + i * l.outer_stride + j * l.inner_stride + r * l.leading + c]);
  return out;
}

// Attention's shapes in miniature: q and k heads read from a fused [B, L, 3·H·D] tensor (columns
// 0 and H·D), scores [B, H, L, L]; context heads written into [B, L, H·D].
struct HeadLayouts {
  std::int64_t batch = 3, length = 5, heads = 2, head_dim = 4;
  std::int64_t width() const { return heads * head_dim; }
  kernels::StridedMatrices head(std::int64_t offset, std::int64_t leading) const {
    return {offset, length, head_dim, leading, length * leading, head_dim};
  }
  kernels::StridedMatrices scores() const {
    return {0, length, length, length, heads * length * length, length * length};
  }
};

}  // namespace

TEST_CASE("gemm_strided_batched: heads read and written in place match a naive product") {
  const HeadLayouts h;
  const Tensor qkv = random_tensor(Shape{h.batch, h.length, 3 * h.width()}, 11);
  const auto q = h.head(0, 3 * h.width()), k = h.head(h.width(), 3 * h.width());
  for (DType dtype : {DType::f64, DType::f32}) {
    const double tolerance = dtype == DType::f64 ? 1e-12 : 1e-5;
    const Tensor fused = qkv.to(dtype);
    // scores_bh = 0.5 · q_bh · k_bhᵀ
    Tensor scores = Tensor::empty(Shape{h.batch, h.heads, h.length, h.length}, dtype);
    kernels::gemm_strided_batched(h.batch, h.heads, fused, q, false, fused, k, true, scores,
                                  h.scores(), 0.5);
    // context_bh = 1 + scores_bhᵀ · k_bh, accumulated (beta = 1) into a tensor of ones.
    Tensor context = Tensor::full(Shape{h.batch, h.length, h.width()}, 1.0, dtype);
    const auto out = h.head(0, h.width());
    kernels::gemm_strided_batched(h.batch, h.heads, scores, h.scores(), true, fused, k, false,
                                  context, out, 1.0, 1.0);
    for (std::int64_t b = 0; b < h.batch; ++b)
      for (std::int64_t head = 0; head < h.heads; ++head) {
        auto expected_scores =
            naive_product(matrix_of(qkv, q, b, head), false, matrix_of(qkv, k, b, head), true,
                          h.length, h.head_dim, h.length, 1);
        for (double& value : expected_scores) value *= 0.5;
        CHECK(max_relative_difference(matrix_of(scores, h.scores(), b, head), expected_scores) <
              tolerance);
        auto expected_context = naive_product(expected_scores, true, matrix_of(qkv, k, b, head),
                                              false, h.length, h.length, h.head_dim, 1);
        for (double& value : expected_context) value += 1.0;
        CHECK(max_relative_difference(matrix_of(context, out, b, head), expected_context) <
              tolerance);
      }
  }
}

TEST_CASE("gemm_strided_batched: the result does not depend on the thread count") {
  const HeadLayouts h{8, 32, 4, 16};
  const Tensor qkv = random_tensor(Shape{h.batch, h.length, 3 * h.width()}, 12).to(DType::f32);
  const auto q = h.head(0, 3 * h.width()), k = h.head(h.width(), 3 * h.width());
  const int previous = num_threads();
  std::vector<std::vector<double>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Tensor scores = Tensor::empty(Shape{h.batch, h.heads, h.length, h.length});
    kernels::gemm_strided_batched(h.batch, h.heads, qkv, q, false, qkv, k, true, scores, h.scores(),
                                  0.25);
    results.push_back(scores.to_vector());
  }
  set_num_threads(previous);
  CHECK(results[0] == results[1]);
  CHECK(results[0] == results[2]);
}

TEST_CASE("gemm_strided_batched: a layout outside its tensor is refused") {
  const HeadLayouts h;
  const Tensor x = Tensor::zeros(Shape{h.batch, h.length, h.width()});
  Tensor scores = Tensor::zeros(Shape{h.batch, h.heads, h.length, h.length});
  // Reading k at column H·D of a tensor that is only H·D wide runs past its end.
  const std::string past_end = error_of([&] {
    kernels::gemm_strided_batched(h.batch, h.heads, x, h.head(0, h.width()), false, x,
                                  h.head(h.width(), h.width()), true, scores, h.scores());
  });
  CHECK(past_end.find("gemm_strided_batched: b layout reaches element 128 of ") == 0);
  const std::string bad_leading = error_of([&] {
    kernels::gemm_strided_batched(h.batch, h.heads, x, h.head(0, 2), false, x, h.head(0, h.width()),
                                  true, scores, h.scores());
  });
  CHECK(bad_leading.find("gemm_strided_batched: a layout offset 0, 5×4 leading 2") == 0);
}

// ---------------------------------------------------------------- row blocks (concat_rows)
TEST_CASE("copy_rows_into and rows_of_accumulate: row blocks of the first axis") {
  for (DType dtype : {DType::f64, DType::f32}) {
    const Tensor top = Tensor::from_vector<double>({1, 2, 3, 4}, Shape{2, 2}).to(dtype);
    const Tensor bottom = Tensor::from_vector<double>({5, 6}, Shape{1, 2}).to(dtype);
    Tensor stacked = Tensor::zeros(Shape{3, 2}, dtype);
    kernels::copy_rows_into(top, stacked, 0);
    kernels::copy_rows_into(bottom, stacked, 2);
    CHECK(stacked.to_vector() == std::vector<double>{1, 2, 3, 4, 5, 6});
    Tensor gradient = Tensor::full(Shape{1, 2}, 10.0, dtype);
    kernels::rows_of_accumulate(stacked, 1, gradient);
    CHECK(gradient.to_vector() == std::vector<double>{13, 14});
  }
  Tensor stacked = Tensor::zeros(Shape{3, 2});
  CHECK(error_of([&] {
          kernels::copy_rows_into(Tensor::zeros(Shape{2, 2}), stacked, 2);
        }).find("copy_rows_into: rows [2, 4) are outside [3, 2]") == 0);
  Tensor wide = Tensor::zeros(Shape{1, 3});
  CHECK(error_of([&] {
          kernels::rows_of_accumulate(stacked, 0, wide);
        }).find("rows_of_accumulate: rows of [1, 3] and [3, 2] differ in size") == 0);
}
