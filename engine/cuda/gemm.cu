// Matrix products on cuBLAS. Our tensors are row-major and cuBLAS is column-major; a row-major
// matrix read as column-major is its transpose, so c = op(a)·op(b) is computed as
// cᵀ = op(b)ᵀ·op(a)ᵀ: the operands are swapped and every leading dimension is a row length.
#include <atomic>
#include <mutex>
#include <utility>

#include "engine/cuda/cuda_common.cuh"
#include "engine/cuda/kernels_cuda.hpp"

namespace electra::cuda_kernels {
namespace {

std::atomic<bool> tf32_allowed{false};

// One handle for the process, on the legacy default stream like every other kernel. Leaked on
// purpose: destroying it after the CUDA runtime has unloaded at exit would fail.
cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t created = nullptr;
    ELECTRA_CUBLAS_CHECK(cublasCreate(&created));
    ELECTRA_CUBLAS_CHECK(cublasSetMathMode(created, CUBLAS_DEFAULT_MATH));
    return created;
  }();
  static std::mutex mode_mutex;
  static bool mode_is_tf32 = false;
  std::lock_guard lock(mode_mutex);
  const bool want_tf32 = tf32_allowed.load();
  if (want_tf32 != mode_is_tf32) {
    ELECTRA_CUBLAS_CHECK(
        cublasSetMathMode(handle, want_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    mode_is_tf32 = want_tf32;
  }
  return handle;
}

struct ProductShape {
  std::int64_t m, n, k;
};

// Checks op(a)[M,K] · op(b)[K,N] = c[M,N] given each operand's matrix [rows, cols].
ProductShape product_shape(const char* kernel, const Tensor& a, std::int64_t a_rows,
                           std::int64_t a_cols, bool transpose_a, const Tensor& b,
                           std::int64_t b_rows, std::int64_t b_cols, bool transpose_b,
                           const Tensor& c, std::int64_t c_rows, std::int64_t c_cols) {
  detail::require_f32(kernel, a, b, c);
  const std::int64_t m = transpose_a ? a_cols : a_rows, k = transpose_a ? a_rows : a_cols;
  const std::int64_t k_b = transpose_b ? b_cols : b_rows, n = transpose_b ? b_rows : b_cols;
  check(k == k_b, kernel, ": inner dimensions differ: a ", a.shape().str(),
        transpose_a ? "ᵀ" : "", " vs b ", b.shape().str(), transpose_b ? "ᵀ" : "");
  check(c_rows == m && c_cols == n, kernel, ": c expected [", m, ", ", n, "] for a ",
        a.shape().str(), transpose_a ? "ᵀ" : "", " · b ", b.shape().str(), transpose_b ? "ᵀ" : "",
        ", got ", c.shape().str());
  constexpr std::int64_t blas_limit = 2147483647;
  check(m < blas_limit && n < blas_limit && k < blas_limit, kernel, ": dimensions of ",
        a.shape().str(), " and ", b.shape().str(), " exceed the 32-bit cuBLAS interface");
  return {m, n, k};
}

std::int64_t batch_of(const char* kernel, const char* what, const Tensor& t) {
  check(t.rank() == 3 || t.rank() == 4, kernel, ": ", what,
        " must be [batch, rows, cols] or [B, H, rows, cols], got ", t.shape().str());
  return t.numel() / (t.dim(-2) * t.dim(-1));
}

// Row-major c[M,N] = alpha·op(a)·op(b) + beta·c for `batch` products spaced by the strides.
void strided_products(bool transpose_a, bool transpose_b, const ProductShape& s,
                      std::int64_t batch, float alpha, const float* a, const float* b, float beta,
                      float* c) {
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
  const int lda = static_cast<int>(transpose_a ? s.m : s.k);
  const int ldb = static_cast<int>(transpose_b ? s.k : s.n);
  cublasHandle_t handle = cublas_handle();
  if (batch == 1) {
    ELECTRA_CUBLAS_CHECK(
        cublasSgemm(handle, op_b, op_a, n, m, k, &alpha, b, ldb, a, lda, &beta, c, n));
    return;
  }
  check(batch < 2147483647, "gemm_batched: batch ", batch, " exceeds the cuBLAS interface");
  ELECTRA_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, op_b, op_a, n, m, k, &alpha, b, ldb,
                                                 s.k * s.n, a, lda, s.m * s.k, &beta, c, n,
                                                 s.m * s.n, static_cast<int>(batch)));
}

}  // namespace

void set_allow_tf32(bool allow) { tf32_allowed.store(allow); }
bool allow_tf32() { return tf32_allowed.load(); }

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  const ProductShape s = product_shape("gemm", a, a.shape().rows(), a.shape().cols(), transpose_a,
                                       b, b.shape().rows(), b.shape().cols(), transpose_b, c,
                                       c.shape().rows(), c.shape().cols());
  strided_products(transpose_a, transpose_b, s, 1, static_cast<float>(alpha), detail::f32(a),
                   detail::f32(b), static_cast<float>(beta), detail::f32(c));
}

void gemm_batched(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
                  double alpha, double beta) {
  const char* kernel = "gemm_batched";
  const std::int64_t batch = batch_of(kernel, "a", a);
  check(batch_of(kernel, "b", b) == batch && batch_of(kernel, "c", c) == batch, kernel,
        ": batch sizes differ: a ", a.shape().str(), ", b ", b.shape().str(), ", c ",
        c.shape().str());
  const ProductShape s = product_shape(kernel, a, a.dim(-2), a.dim(-1), transpose_a, b, b.dim(-2),
                                       b.dim(-1), transpose_b, c, c.dim(-2), c.dim(-1));
  strided_products(transpose_a, transpose_b, s, batch, static_cast<float>(alpha), detail::f32(a),
                   detail::f32(b), static_cast<float>(beta), detail::f32(c));
}

// ---------------------------------------------------------------- strided batched products
// One cublasSgemmStridedBatched call per index of the shorter batch axis, batching over the
// longer one (attention: one call per head, batching over the B sequences), so a step launches
// H calls per product instead of B·H.
void gemm_strided_batched(std::int64_t outer, std::int64_t inner, const Tensor& a,
                          const StridedMatrices& a_layout, bool transpose_a, const Tensor& b,
                          const StridedMatrices& b_layout, bool transpose_b, Tensor& c,
                          const StridedMatrices& c_layout, double alpha, double beta) {
  const char* kernel = "gemm_strided_batched";
  check(outer >= 1 && inner >= 1, kernel, ": batch ", outer, "×", inner, " must be at least 1×1");
  const ProductShape s = product_shape(kernel, a, a_layout.rows, a_layout.cols, transpose_a, b,
                                       b_layout.rows, b_layout.cols, transpose_b, c,
                                       c_layout.rows, c_layout.cols);
  for (const auto& [tensor, l] : {std::pair<const Tensor*, const StridedMatrices*>{&a, &a_layout},
                                  {&b, &b_layout}, {&c, &c_layout}}) {
    const std::int64_t last = l->offset + (outer - 1) * l->outer_stride +
                              (inner - 1) * l->inner_stride + (l->rows - 1) * l->leading + l->cols;
    check(l->offset >= 0 && l->leading >= l->cols && l->leading < 2147483647 &&
              l->outer_stride >= 0 && l->inner_stride >= 0 && last <= tensor->numel(),
          kernel, ": a layout reaching element ", last, " does not fit ", tensor->describe());
  }
  const bool loop_outer = outer <= inner;
  const std::int64_t calls = loop_outer ? outer : inner, batch = loop_outer ? inner : outer;
  check(batch < 2147483647, kernel, ": batch ", batch, " exceeds the cuBLAS interface");
  auto call_stride = [&](const StridedMatrices& l) {
    return loop_outer ? l.outer_stride : l.inner_stride;
  };
  auto batch_stride = [&](const StridedMatrices& l) {
    return static_cast<long long>(loop_outer ? l.inner_stride : l.outer_stride);
  };
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
  const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
  cublasHandle_t handle = cublas_handle();
  for (std::int64_t call = 0; call < calls; ++call) {
    // Row-major c = op(a)·op(b) computed as column-major cᵀ = op(b)ᵀ·op(a)ᵀ (see the top).
    const float* a_data = detail::f32(a) + a_layout.offset + call * call_stride(a_layout);
    const float* b_data = detail::f32(b) + b_layout.offset + call * call_stride(b_layout);
    float* c_data = detail::f32(c) + c_layout.offset + call * call_stride(c_layout);
    ELECTRA_CUBLAS_CHECK(cublasSgemmStridedBatched(
        handle, op_b, op_a, n, m, k, &alpha_f, b_data, static_cast<int>(b_layout.leading),
        batch_stride(b_layout), a_data, static_cast<int>(a_layout.leading), batch_stride(a_layout),
        &beta_f, c_data, static_cast<int>(c_layout.leading), batch_stride(c_layout),
        static_cast<int>(batch)));
  }
}

// ---------------------------------------------------------------- row blocks of the first axis
// Contiguous ranges, so one cuBLAS level-1 call each (deterministic: no reduction).
namespace {

std::int64_t row_block_offset(const char* kernel, const Tensor& whole, const Tensor& block,
                              std::int64_t first_row) {
  detail::require_f32(kernel, whole, block);
  check(whole.rank() >= 1 && block.rank() >= 1 &&
            whole.numel() / whole.dim(0) == block.numel() / block.dim(0),
        kernel, ": rows of ", block.shape().str(), " and ", whole.shape().str(), " differ in size");
  check(first_row >= 0 && first_row + block.dim(0) <= whole.dim(0), kernel, ": rows [", first_row,
        ", ", first_row + block.dim(0), ") are outside ", whole.shape().str());
  check(block.numel() < 2147483647, kernel, ": ", block.describe(),
        " exceeds the cuBLAS interface");
  return first_row * (whole.numel() / whole.dim(0));
}

}  // namespace

void copy_rows_into(const Tensor& source, Tensor& destination, std::int64_t first_row) {
  const std::int64_t offset = row_block_offset("copy_rows_into", destination, source, first_row);
  ELECTRA_CUBLAS_CHECK(cublasScopy(cublas_handle(), static_cast<int>(source.numel()),
                                   detail::f32(source), 1, detail::f32(destination) + offset, 1));
}

void rows_of_accumulate(const Tensor& source, std::int64_t first_row, Tensor& destination) {
  const std::int64_t offset =
      row_block_offset("rows_of_accumulate", source, destination, first_row);
  const float one = 1.0f;
  ELECTRA_CUBLAS_CHECK(cublasSaxpy(cublas_handle(), static_cast<int>(destination.numel()), &one,
                                   detail::f32(source) + offset, 1, detail::f32(destination), 1));
}

}  // namespace electra::cuda_kernels
