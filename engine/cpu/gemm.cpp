// Matrix products on OpenBLAS, which runs single-threaded (engine/threads.hpp): a product's
// output rows are cut into bands spread over the oneTBB workers, each band one sgemm call, and a
// batch of small products (attention: 128×128×64 per head) is spread one product per task. The
// bands depend on the shape only, so results are the same on any number of threads.
// Measured against OpenBLAS's own threading on 2 cores (GFLOP/s): [4096×256]·[256×1024]ᵀ 157 vs
// 166, dW [256×4096]·[4096×256] 110-155 vs 128-168, the generator's [4096×64]·[64×64]ᵀ 41-129 vs
// 169.
#include <cblas.h>

#include "engine/cpu/cpu_common.hpp"
#include "engine/kernels.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

struct ProductShape {
  std::int64_t m, n, k;
};

// Below this many FLOPs a product runs in one call: a split costs more than it brings.
constexpr double small_product_flops = 2.0 * 64 * 64 * 64;
// Row bands are multiples of this (OpenBLAS's register tiles are 16 rows at most).
constexpr std::int64_t band_rows = 16;

// c[M, N] = alpha·op(a)·op(b) + beta·c, row-major, every leading dimension given.
template <typename T>
void blas_gemm_leading(bool transpose_a, bool transpose_b, const ProductShape& s,
                       std::int64_t a_leading, std::int64_t b_leading, std::int64_t c_leading,
                       T alpha, const T* a, const T* b, T beta, T* c) {
  const auto op_a = transpose_a ? CblasTrans : CblasNoTrans;
  const auto op_b = transpose_b ? CblasTrans : CblasNoTrans;
  const auto lda = static_cast<int>(a_leading), ldb = static_cast<int>(b_leading),
             ldc = static_cast<int>(c_leading);
  const auto m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    cblas_dgemm(CblasRowMajor, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// The same with b and c contiguous; a's leading dimension given (a row band of a bigger a keeps
// the big one's).
template <typename T>
void blas_gemm_strided(bool transpose_a, bool transpose_b, const ProductShape& s,
                       std::int64_t a_leading, T alpha, const T* a, const T* b, T beta, T* c) {
  blas_gemm_leading(transpose_a, transpose_b, s, a_leading, transpose_b ? s.k : s.n, s.n, alpha,
                    a, b, beta, c);
}

template <typename T>
void blas_gemm(bool transpose_a, bool transpose_b, const ProductShape& s, T alpha, const T* a,
               const T* b, T beta, T* c) {
  blas_gemm_strided(transpose_a, transpose_b, s, transpose_a ? s.m : s.k, alpha, a, b, beta, c);
}

// Checks op(a)[M,K] · op(b)[K,N] = c[M,N] given each matrix's [rows, cols] and returns M, N, K.
ProductShape product_shape(const char* kernel, const Tensor& a, std::int64_t a_rows,
                           std::int64_t a_cols, bool transpose_a, const Tensor& b,
                           std::int64_t b_rows, std::int64_t b_cols, bool transpose_b,
                           const Tensor& c, std::int64_t c_rows, std::int64_t c_cols) {
  cpu::require_nonempty(kernel, a);
  cpu::require_nonempty(kernel, b);
  cpu::require_nonempty(kernel, c);
  cpu::require_float(kernel, a);
  ELECTRA_CHECK(a.dtype() == b.dtype() && a.dtype() == c.dtype(), kernel, ": dtype mismatch a ",
        a.describe(), ", b ", b.describe(), ", c ", c.describe());
  const std::int64_t m = transpose_a ? a_cols : a_rows, k = transpose_a ? a_rows : a_cols;
  const std::int64_t k_b = transpose_b ? b_cols : b_rows, n = transpose_b ? b_rows : b_cols;
  ELECTRA_CHECK(k == k_b, kernel, ": inner dimensions differ: a ", a.shape().str(), transpose_a ? "ᵀ" : "",
        " vs b ", b.shape().str(), transpose_b ? "ᵀ" : "");
  ELECTRA_CHECK(c_rows == m && c_cols == n, kernel, ": c expected [", m, ", ", n, "] for a ",
        a.shape().str(), transpose_a ? "ᵀ" : "", " · b ", b.shape().str(), transpose_b ? "ᵀ" : "",
        ", got ", c.shape().str());
  constexpr std::int64_t blas_limit = 2147483647;
  ELECTRA_CHECK(m < blas_limit && n < blas_limit && k < blas_limit, kernel, ": dimensions of ",
        a.shape().str(), " and ", b.shape().str(), " exceed the 32-bit BLAS interface");
  return {m, n, k};
}

// The matrix dims of a batched operand: [batch, rows, cols] from rank 3 or [B, H, rows, cols].
std::int64_t batch_of(const char* kernel, const char* what, const Tensor& t) {
  ELECTRA_CHECK(t.rank() == 3 || t.rank() == 4, kernel, ": ", what,
        " must be [batch, rows, cols] or [B, H, rows, cols], got ", t.shape().str());
  return t.numel() / (t.dim(-2) * t.dim(-1));
}

// How many row bands a product is cut into: a function of its shape only, never of the thread
// count, because OpenBLAS's result for an element can depend on the size of the call it is in
// (it has separate kernels for small matrices), and a result must not change with --threads.
// ~512 rows per band (repacking b per band costs ~3% against one call), at least two bands.
std::int64_t row_bands(const ProductShape& s) {
  if (2.0 * s.m * s.n * s.k < small_product_flops) return 1;
  const std::int64_t by_size = (s.m + 256) / 512;
  return std::min(std::max<std::int64_t>(2, by_size), s.m / band_rows);
}

// One product split into row bands of C spread over the TBB workers, each band one sgemm call.
template <typename T>
void banded_gemm(bool transpose_a, bool transpose_b, const ProductShape& s, T alpha, const T* a,
                 const T* b, T beta, T* c) {
  const std::int64_t bands = row_bands(s);
  if (bands < 2) {
    blas_gemm(transpose_a, transpose_b, s, alpha, a, b, beta, c);
    return;
  }
  // Rows [first, last) of C come from rows [first, last) of op(a): row offsets of a, or column
  // offsets when a is stored transposed ([K, M], leading dimension M).
  const std::int64_t a_leading = transpose_a ? s.m : s.k;
  parallel_for(0, bands, 1, [&](std::int64_t first_band, std::int64_t last_band) {
    for (std::int64_t band = first_band; band < last_band; ++band) {
      const std::int64_t first = s.m * band / bands / band_rows * band_rows;
      const std::int64_t last =
          band + 1 == bands ? s.m : s.m * (band + 1) / bands / band_rows * band_rows;
      const T* a_rows = transpose_a ? a + first : a + first * a_leading;
      blas_gemm_strided(transpose_a, transpose_b, {last - first, s.n, s.k}, a_leading, alpha,
                        a_rows, b, beta, c + first * s.n);
    }
  });
}

}  // namespace

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  ELECTRA_CUDA_DISPATCH(gemm, (a, transpose_a, b, transpose_b, c, alpha, beta), a, b, c);
  const ProductShape s =
      product_shape("gemm", a, a.shape().rows(), a.shape().cols(), transpose_a, b, b.shape().rows(),
                    b.shape().cols(), transpose_b, c, c.shape().rows(), c.shape().cols());
  cpu::dispatch_float("gemm", a, [&](auto zero) {
    using T = decltype(zero);
    banded_gemm<T>(transpose_a, transpose_b, s, static_cast<T>(alpha), a.data<T>(), b.data<T>(),
                   static_cast<T>(beta), c.data<T>());
  });
}

void gemm_batched(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
                  double alpha, double beta) {
  ELECTRA_CUDA_DISPATCH(gemm_batched, (a, transpose_a, b, transpose_b, c, alpha, beta), a, b, c);
  const char* kernel = "gemm_batched";
  const std::int64_t batch = batch_of(kernel, "a", a);
  ELECTRA_CHECK(batch_of(kernel, "b", b) == batch && batch_of(kernel, "c", c) == batch, kernel,
        ": batch sizes differ: a ", a.shape().str(), ", b ", b.shape().str(), ", c ",
        c.shape().str());
  const ProductShape s = product_shape(kernel, a, a.dim(-2), a.dim(-1), transpose_a, b, b.dim(-2),
                                       b.dim(-1), transpose_b, c, c.dim(-2), c.dim(-1));
  cpu::dispatch_float(kernel, a, [&](auto zero) {
    using T = decltype(zero);
    const T* a_data = a.data<T>();
    const T* b_data = b.data<T>();
    T* c_data = c.data<T>();
    const std::int64_t a_step = s.m * s.k, b_step = s.k * s.n, c_step = s.m * s.n;
    auto products = [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t i = first; i < last; ++i)
        blas_gemm<T>(transpose_a, transpose_b, s, static_cast<T>(alpha), a_data + i * a_step,
                     b_data + i * b_step, static_cast<T>(beta), c_data + i * c_step);
    };
    // One whole product per task, or the bands of a lone product: chosen by the shape, never by
    // the thread count, so the result is the same on any number of threads.
    if (batch >= 2)
      parallel_for(0, batch, 1, products);
    else
      banded_gemm<T>(transpose_a, transpose_b, s, static_cast<T>(alpha), a_data, b_data,
                     static_cast<T>(beta), c_data);
  });
}

// ---------------------------------------------------------------- strided batched products
namespace {

// Checks that every matrix of a layout lies inside its tensor (offsets and strides ≥ 0, rows
// `leading` apart with leading ≥ cols) and that its dimensions fit the 32-bit BLAS interface.
void check_layout(const char* kernel, const char* what, const Tensor& t, std::int64_t outer,
                  std::int64_t inner, const StridedMatrices& l) {
  ELECTRA_CHECK(l.offset >= 0 && l.rows >= 1 && l.cols >= 1 && l.leading >= l.cols &&
                    l.outer_stride >= 0 && l.inner_stride >= 0 && l.leading < 2147483647,
                kernel, ": ", what, " layout offset ", l.offset, ", ", l.rows, "×", l.cols,
                " leading ", l.leading, ", strides ", l.outer_stride, "/", l.inner_stride,
                " is not a valid matrix layout");
  const std::int64_t last = l.offset + (outer - 1) * l.outer_stride +
                            (inner - 1) * l.inner_stride + (l.rows - 1) * l.leading + l.cols;
  ELECTRA_CHECK(last <= t.numel(), kernel, ": ", what, " layout reaches element ", last,
                " of ", t.describe());
}

}  // namespace

void gemm_strided_batched(std::int64_t outer, std::int64_t inner, const Tensor& a,
                          const StridedMatrices& a_layout, bool transpose_a, const Tensor& b,
                          const StridedMatrices& b_layout, bool transpose_b, Tensor& c,
                          const StridedMatrices& c_layout, double alpha, double beta) {
  const char* kernel = "gemm_strided_batched";
  ELECTRA_CHECK(outer >= 1 && inner >= 1, kernel, ": batch ", outer, "×", inner,
                " must be at least 1×1");
  const ProductShape s = product_shape(kernel, a, a_layout.rows, a_layout.cols, transpose_a, b,
                                       b_layout.rows, b_layout.cols, transpose_b, c,
                                       c_layout.rows, c_layout.cols);
  check_layout(kernel, "a", a, outer, inner, a_layout);
  check_layout(kernel, "b", b, outer, inner, b_layout);
  check_layout(kernel, "c", c, outer, inner, c_layout);
  ELECTRA_CUDA_DISPATCH(gemm_strided_batched,
                        (outer, inner, a, a_layout, transpose_a, b, b_layout, transpose_b, c,
                         c_layout, alpha, beta),
                        a, b, c);
  cpu::dispatch_float(kernel, a, [&](auto zero) {
    using T = decltype(zero);
    const T* a_data = a.data<T>() + a_layout.offset;
    const T* b_data = b.data<T>() + b_layout.offset;
    T* c_data = c.data<T>() + c_layout.offset;
    auto at = [inner](const StridedMatrices& l, std::int64_t product) {
      return product / inner * l.outer_stride + product % inner * l.inner_stride;
    };
    // One whole product per task, as gemm_batched: the split depends on the batch only, so the
    // result is the same on any number of threads.
    parallel_for(0, outer * inner, 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t product = first; product < last; ++product)
        blas_gemm_leading<T>(transpose_a, transpose_b, s, a_layout.leading, b_layout.leading,
                             c_layout.leading, static_cast<T>(alpha), a_data + at(a_layout, product),
                             b_data + at(b_layout, product), static_cast<T>(beta),
                             c_data + at(c_layout, product));
    });
  });
}

}  // namespace electra::kernels
