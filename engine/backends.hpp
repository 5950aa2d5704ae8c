#pragma once
// The two implementations of the kernel table (engine/kernel_list.inc), with the signatures of
// the public kernels: electra::kernels::cpu:: (engine/cpu/<family>.cpp, f32 and f64) and
// electra::kernels::cuda:: (engine/cuda/<family>.cu, f32; only in a build with the CUDA backend,
// but declared in every build: this header needs no CUDA headers). They only compute: the public
// kernel of the same name (engine/dispatch/<family>.cpp) has validated every argument, device
// and dtype included, before it calls one of them. Internal to electra_engine.
#include <cstdint>

#include "engine/kernels.hpp"

namespace electra::kernels {

// Whether this build carries the CUDA kernels (engine/cuda/, compiled when CMake found nvcc).
#ifdef ELECTRA_HAS_CUDA
inline constexpr bool cuda_backend_built = true;
#else
inline constexpr bool cuda_backend_built = false;
#endif

// op(a) [m, k] · op(b) [k, n] from each operand's matrix [rows, cols]: the gemm kernels' sizes
// (their public kernel has checked that the inner dimensions agree and c is [m, n]).
struct ProductShape {
  std::int64_t m, n, k;
};
inline ProductShape product_shape(std::int64_t a_rows, std::int64_t a_cols, bool transpose_a,
                                  std::int64_t b_rows, std::int64_t b_cols, bool transpose_b) {
  return {transpose_a ? a_cols : a_rows, transpose_b ? b_rows : b_cols,
          transpose_a ? a_rows : a_cols};
}

// The products of gemm_batched: a [batch, M, K] or [B, H, M, K] holds numel / (M·K) of them.
inline std::int64_t batch_count(const Tensor& t) { return t.numel() / (t.dim(-2) * t.dim(-1)); }

// The element offset of row first_row of `whole` (row = numel / dim(0) elements).
inline std::int64_t row_offset(const Tensor& whole, std::int64_t first_row) {
  return first_row * (whole.numel() / whole.dim(0));
}

#define ELECTRA_KERNEL(return_type, name, parameters) return_type name parameters;
namespace cpu {
#include "engine/kernel_list.inc"
}  // namespace cpu
namespace cuda {
#include "engine/kernel_list.inc"
// TF32 tensor-core products (10-bit mantissa inputs) for gemm/gemm_batched: off by default, so
// CUDA matches the CPU to f32 rounding (electra::set_allow_tf32, engine/device.hpp, calls these).
void set_allow_tf32(bool allow);
bool allow_tf32();
}  // namespace cuda
#undef ELECTRA_KERNEL

}  // namespace electra::kernels
