// Matrix products on cuBLAS. Our tensors are row-major and cuBLAS is column-major; a row-major
// matrix read as column-major is its transpose, so c = op(a)·op(b) is computed as
// cᵀ = op(b)ᵀ·op(a)ᵀ: the operands are swapped and every leading dimension is a row length.
#include <atomic>
#include <mutex>
#include <utility>

#include "engine/cuda/cuda_common.cuh"

namespace electra::kernels::cuda {
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

// Row-major c[M,N] = alpha·op(a)·op(b) + beta·c for `batch` products spaced by the strides.
void strided_products(bool transpose_a, bool transpose_b, const ProductShape& s, std::int64_t batch,
                      float alpha, const float* a, const float* b, float beta, float* c) {
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
  ELECTRA_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, op_b, op_a, n, m, k, &alpha, b, ldb,
                                                 s.k * s.n, a, lda, s.m * s.k, &beta, c, n,
                                                 s.m * s.n, static_cast<int>(batch)));
}

}  // namespace

void set_allow_tf32(bool allow) { tf32_allowed.store(allow); }
bool allow_tf32() { return tf32_allowed.load(); }

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  const ProductShape s = product_shape(a.shape().rows(), a.shape().cols(), transpose_a,
                                       b.shape().rows(), b.shape().cols(), transpose_b);
  strided_products(transpose_a, transpose_b, s, 1, static_cast<float>(alpha), detail::f32(a),
                   detail::f32(b), static_cast<float>(beta), detail::f32(c));
}

void gemm_batched(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
                  double alpha, double beta) {
  const std::int64_t batch = batch_count(a);
  const ProductShape s =
      product_shape(a.dim(-2), a.dim(-1), transpose_a, b.dim(-2), b.dim(-1), transpose_b);
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
  const ProductShape s = product_shape(a_layout.rows, a_layout.cols, transpose_a, b_layout.rows,
                                       b_layout.cols, transpose_b);
  const bool loop_outer = outer <= inner;
  const std::int64_t calls = loop_outer ? outer : inner, batch = loop_outer ? inner : outer;
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

void copy_rows_into(const Tensor& source, Tensor& destination, std::int64_t first_row) {
  const std::int64_t offset = row_offset(destination, first_row);
  ELECTRA_CUBLAS_CHECK(cublasScopy(cublas_handle(), static_cast<int>(source.numel()),
                                   detail::f32(source), 1, detail::f32(destination) + offset, 1));
}

void rows_of_accumulate(const Tensor& source, std::int64_t first_row, Tensor& destination) {
  const std::int64_t offset = row_offset(source, first_row);
  const float one = 1.0f;
  ELECTRA_CUBLAS_CHECK(cublasSaxpy(cublas_handle(), static_cast<int>(destination.numel()), &one,
                                   detail::f32(source) + offset, 1, detail::f32(destination), 1));
}

}  // namespace electra::kernels::cuda
