// Matrix products on OpenBLAS, which runs single-threaded (engine/threads.hpp): a product's
// output rows are cut into bands spread over the oneTBB workers, each band one sgemm call, and a
// batch of small products (attention: 128×128×64 per head) is spread one product per task. The
// bands depend on the shape only, so results are the same on any number of threads.
// Measured against OpenBLAS's own threading on 2 cores (GFLOP/s): [4096×256]·[256×1024]ᵀ 157 vs
// 166, dW [256×4096]·[4096×256] 110-155 vs 128-168, the generator's [4096×64]·[64×64]ᵀ 41-129 vs
// 169.
#include <cblas.h>

#include <cstring>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

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
  blas_gemm_leading(transpose_a, transpose_b, s, a_leading, transpose_b ? s.k : s.n, s.n, alpha, a,
                    b, beta, c);
}

template <typename T>
void blas_gemm(bool transpose_a, bool transpose_b, const ProductShape& s, T alpha, const T* a,
               const T* b, T beta, T* c) {
  blas_gemm_strided(transpose_a, transpose_b, s, transpose_a ? s.m : s.k, alpha, a, b, beta, c);
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

void cpu::gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
               double alpha, double beta) {
  const ProductShape s = product_shape(a.shape().rows(), a.shape().cols(), transpose_a,
                                       b.shape().rows(), b.shape().cols(), transpose_b);
  cpu::dispatch_float("gemm", a, [&](auto zero) {
    using T = decltype(zero);
    banded_gemm<T>(transpose_a, transpose_b, s, static_cast<T>(alpha), a.data<T>(), b.data<T>(),
                   static_cast<T>(beta), c.data<T>());
  });
}

void cpu::gemm_batched(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
                       Tensor& c, double alpha, double beta) {
  const char* kernel = "gemm_batched";
  const std::int64_t batch = batch_count(a);
  const ProductShape s =
      product_shape(a.dim(-2), a.dim(-1), transpose_a, b.dim(-2), b.dim(-1), transpose_b);
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

void cpu::gemm_strided_batched(std::int64_t outer, std::int64_t inner, const Tensor& a,
                               const StridedMatrices& a_layout, bool transpose_a, const Tensor& b,
                               const StridedMatrices& b_layout, bool transpose_b, Tensor& c,
                               const StridedMatrices& c_layout, double alpha, double beta) {
  const char* kernel = "gemm_strided_batched";
  const ProductShape s = product_shape(a_layout.rows, a_layout.cols, transpose_a, b_layout.rows,
                                       b_layout.cols, transpose_b);
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
                             c_layout.leading, static_cast<T>(alpha),
                             a_data + at(a_layout, product), b_data + at(b_layout, product),
                             static_cast<T>(beta), c_data + at(c_layout, product));
    });
  });
}

// ---------------------------------------------------------------- row blocks of the first axis

void cpu::copy_rows_into(const Tensor& source, Tensor& destination, std::int64_t first_row) {
  const std::int64_t offset = row_offset(destination, first_row);
  cpu::dispatch_float("copy_rows_into", source, [&](auto zero) {
    using T = decltype(zero);
    std::memcpy(destination.data<T>() + offset, source.data<T>(), source.numel() * sizeof(T));
  });
}

void cpu::rows_of_accumulate(const Tensor& source, std::int64_t first_row, Tensor& destination) {
  const std::int64_t offset = row_offset(source, first_row);
  cpu::dispatch_float("rows_of_accumulate", source, [&](auto zero) {
    using T = decltype(zero);
    const T* in = source.data<T>() + offset;
    T* out = destination.data<T>();
    parallel_for(0, destination.numel(), cpu::elementwise_grain,
                 [&](std::int64_t first, std::int64_t last) {
                   for (std::int64_t i = first; i < last; ++i) out[i] += in[i];
                 });
  });
}

}  // namespace electra::kernels
