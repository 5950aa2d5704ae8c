// Matrix products and the row-block moves of the fused QKV projection (engine/cpu/gemm.cpp,
// engine/cuda/gemm.cu): arguments checked once here, then the device's kernel runs.
#include <algorithm>

#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

namespace {
// op(a) [M,K] · op(b) [K,N] = c [M,N], given each operand's matrix [rows, cols]; all three
// non-empty, float, one dtype, and within the 32-bit BLAS interfaces.
void check_product(const char* kernel, const Tensor& a, std::int64_t a_rows, std::int64_t a_cols,
                   bool transpose_a, const Tensor& b, std::int64_t b_rows, std::int64_t b_cols,
                   bool transpose_b, const Tensor& c, std::int64_t c_rows, std::int64_t c_cols) {
  check_nonempty_input(kernel, a);
  check_nonempty_input(kernel, b);
  check_nonempty_input(kernel, c);
  check_float(kernel, a);
  check(a.dtype() == b.dtype() && a.dtype() == c.dtype(), kernel, ": dtype mismatch a ", a, ", b ",
        b, ", c ", c);
  const ProductShape s = product_shape(a_rows, a_cols, transpose_a, b_rows, b_cols, transpose_b);
  const std::int64_t k_b = transpose_b ? b_cols : b_rows;
  const char* a_mark = transpose_a ? "ᵀ" : "";
  const char* b_mark = transpose_b ? "ᵀ" : "";
  check(s.k == k_b, kernel, ": inner dimensions differ: a ", a.shape(), a_mark, " vs b ", b.shape(),
        b_mark);
  check(c_rows == s.m && c_cols == s.n, kernel, ": c expected [", s.m, ", ", s.n, "] for a ",
        a.shape(), a_mark, " · b ", b.shape(), b_mark, ", got ", c.shape());
  check(s.m < cuda_int_limit && s.n < cuda_int_limit && s.k < cuda_int_limit, kernel,
        ": dimensions of ", a.shape(), " and ", b.shape(), " exceed the 32-bit BLAS interface");
}

// A rank-3 [batch, rows, cols] or rank-4 [B, H, rows, cols] operand of gemm_batched.
std::int64_t batch_of(const char* kernel, const char* what, const Tensor& t) {
  check(t.rank() == 3 || t.rank() == 4, kernel, ": ", what,
        " must be [batch, rows, cols] or [B, H, rows, cols], got ", t.shape());
  return batch_count(t);
}

// Every matrix of a layout lies inside its tensor (offsets and strides ≥ 0, rows `leading`
// apart with leading ≥ cols) and its dimensions fit the 32-bit BLAS interface.
void check_layout(const char* kernel, const char* what, const Tensor& t, std::int64_t outer,
                  std::int64_t inner, const StridedMatrices& l) {
  check(l.offset >= 0 && l.rows >= 1 && l.cols >= 1 && l.leading >= l.cols && l.outer_stride >= 0 &&
            l.inner_stride >= 0 && l.leading < cuda_int_limit,
        kernel, ": ", what, " layout offset ", l.offset, ", ", l.rows, "×", l.cols, " leading ",
        l.leading, ", strides ", l.outer_stride, "/", l.inner_stride,
        " is not a valid matrix layout");
  const std::int64_t last = l.offset + (outer - 1) * l.outer_stride + (inner - 1) * l.inner_stride +
                            (l.rows - 1) * l.leading + l.cols;
  check(last <= t.numel(), kernel, ": ", what, " layout reaches element ", last, " of ", t);
}

// `block` fills rows [first_row, first_row + block rows) of `whole` (same dtype, same elements
// per row).
void check_row_block(const char* kernel, Device device, const Tensor& whole, const Tensor& block,
                     std::int64_t first_row) {
  check_nonempty_input(kernel, whole);
  check_nonempty_input(kernel, block);
  check_float(kernel, whole);
  check(whole.dtype() == block.dtype(), kernel, ": dtype mismatch ", whole, " vs ", block);
  check(whole.rank() >= 1 && block.rank() >= 1 &&
            whole.numel() / whole.dim(0) == block.numel() / block.dim(0),
        kernel, ": rows of ", block.shape(), " and ", whole.shape(), " differ in size");
  check(first_row >= 0 && first_row + block.dim(0) <= whole.dim(0), kernel, ": rows [", first_row,
        ", ", first_row + block.dim(0), ") are outside ", whole.shape());
  if (device == Device::cuda)
    check(block.numel() < cuda_int_limit, kernel, ": ", block, " exceeds the cuBLAS interface");
}
}  // namespace

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  const Device device = device_of("gemm", a, b, c);
  check_product("gemm", a, a.shape().rows(), a.shape().cols(), transpose_a, b, b.shape().rows(),
                b.shape().cols(), transpose_b, c, c.shape().rows(), c.shape().cols());
  ELECTRA_DISPATCH(gemm, device, (a, transpose_a, b, transpose_b, c, alpha, beta));
}

void gemm_batched(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
                  double alpha, double beta) {
  const char* kernel = "gemm_batched";
  const Device device = device_of(kernel, a, b, c);
  const std::int64_t batch = batch_of(kernel, "a", a);
  check(batch_of(kernel, "b", b) == batch && batch_of(kernel, "c", c) == batch, kernel,
        ": batch sizes differ: a ", a.shape(), ", b ", b.shape(), ", c ", c.shape());
  check_product(kernel, a, a.dim(-2), a.dim(-1), transpose_a, b, b.dim(-2), b.dim(-1), transpose_b,
                c, c.dim(-2), c.dim(-1));
  if (device == Device::cuda)
    check(batch < cuda_int_limit, kernel, ": batch ", batch, " exceeds the cuBLAS interface");
  ELECTRA_DISPATCH(gemm_batched, device, (a, transpose_a, b, transpose_b, c, alpha, beta));
}

void gemm_strided_batched(std::int64_t outer, std::int64_t inner, const Tensor& a,
                          const StridedMatrices& a_layout, bool transpose_a, const Tensor& b,
                          const StridedMatrices& b_layout, bool transpose_b, Tensor& c,
                          const StridedMatrices& c_layout, double alpha, double beta) {
  const char* kernel = "gemm_strided_batched";
  const Device device = device_of(kernel, a, b, c);
  check(outer >= 1 && inner >= 1, kernel, ": batch ", outer, "×", inner, " must be at least 1×1");
  check_product(kernel, a, a_layout.rows, a_layout.cols, transpose_a, b, b_layout.rows,
                b_layout.cols, transpose_b, c, c_layout.rows, c_layout.cols);
  check_layout(kernel, "a", a, outer, inner, a_layout);
  check_layout(kernel, "b", b, outer, inner, b_layout);
  check_layout(kernel, "c", c, outer, inner, c_layout);
  if (device == Device::cuda)  // batched over the longer of the two axes
    check(std::max(outer, inner) < cuda_int_limit, kernel, ": batch ", std::max(outer, inner),
          " exceeds the cuBLAS interface");
  ELECTRA_DISPATCH(
      gemm_strided_batched, device,
      (outer, inner, a, a_layout, transpose_a, b, b_layout, transpose_b, c, c_layout, alpha, beta));
}

void copy_rows_into(const Tensor& source, Tensor& destination, std::int64_t first_row) {
  const Device device = device_of("copy_rows_into", source, destination);
  check_row_block("copy_rows_into", device, destination, source, first_row);
  ELECTRA_DISPATCH(copy_rows_into, device, (source, destination, first_row));
}

void rows_of_accumulate(const Tensor& source, std::int64_t first_row, Tensor& destination) {
  const Device device = device_of("rows_of_accumulate", source, destination);
  check_row_block("rows_of_accumulate", device, source, destination, first_row);
  ELECTRA_DISPATCH(rows_of_accumulate, device, (source, first_row, destination));
}

}  // namespace electra::kernels
