// Matrix products on OpenBLAS. One big product lets OpenBLAS thread it; a batch of small ones
// (attention: 128×128×64 per head) is split across cores by oneTBB with single-threaded sgemm
// inside, which measured 1.5–3× faster on the attention shapes than threading each small product.
#include <cblas.h>

#include "engine/cpu/cpu_common.hpp"
#include "engine/kernels.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

struct ProductShape {
  std::int64_t m, n, k;
};

// Below this many multiply-adds per product, OpenBLAS's own threading costs more than it brings.
constexpr double small_product_flops = 2.0 * 256 * 256 * 256;

template <typename T>
void blas_gemm(bool transpose_a, bool transpose_b, const ProductShape& s, T alpha, const T* a,
               const T* b, T beta, T* c) {
  const auto op_a = transpose_a ? CblasTrans : CblasNoTrans;
  const auto op_b = transpose_b ? CblasTrans : CblasNoTrans;
  const auto lda = static_cast<int>(transpose_a ? s.m : s.k);
  const auto ldb = static_cast<int>(transpose_b ? s.k : s.n);
  const auto m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
  else
    cblas_dgemm(CblasRowMajor, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
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

}  // namespace

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  ELECTRA_CUDA_DISPATCH(gemm, (a, transpose_a, b, transpose_b, c, alpha, beta), a, b, c);
  const ProductShape s =
      product_shape("gemm", a, a.shape().rows(), a.shape().cols(), transpose_a, b, b.shape().rows(),
                    b.shape().cols(), transpose_b, c, c.shape().rows(), c.shape().cols());
  cpu::dispatch_float("gemm", a, [&](auto zero) {
    using T = decltype(zero);
    blas_gemm<T>(transpose_a, transpose_b, s, static_cast<T>(alpha), a.data<T>(), b.data<T>(),
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
    const double flops = 2.0 * s.m * s.n * s.k;
    if (flops < small_product_flops && batch >= 2 && num_threads() > 1) {
      SingleThreadedBlas one_owner_of_the_cores;  // TBB owns the cores for this region
      parallel_for(0, batch, 1, products);
    } else {
      products(0, batch);
    }
  });
}

}  // namespace electra::kernels
