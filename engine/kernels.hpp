#pragma once
// The kernel table: every numeric routine the autograd ops call. The functions are declared
// once, in engine/kernel_list.inc; this header declares them in electra::kernels, where each one
// validates its arguments (engine/dispatch/*.cpp) and then runs the CPU kernel (engine/cpu/,
// f32 and f64, templated on the scalar type) or the CUDA kernel (engine/cuda/, f32) of the same
// name and signature, by the device of its tensors. Kernels never allocate except through Tensor
// (the caching allocator).
//
// Conventions
// - Shapes are in the comment above each kernel in kernel_list.inc; "rows" means
//   numel / last dimension.
// - All floating tensors of one call share a dtype (f32 or f64); ids and labels are i32.
// - A kernel whose name ends in `_accumulate` adds into its output (backward accumulates into
//   input gradients, DyNet's rule); every other kernel overwrites its output.
// - Outputs are preallocated by the caller with the documented shape; kernels check shapes and
//   throw electra::Error naming the kernel and both shapes.
// - The tensors of one call live on one device; a mix throws (tensors are never moved silently).
#include <cstdint>
#include <span>
#include <string_view>

#include "engine/tensor.hpp"

namespace electra::kernels {

// ---------------------------------------------------------------- types of the kernel arguments
// Products of matrices that live inside bigger tensors, like each attention head's [L, D] block
// of a [B, L, H·D] activation (or of a fused [B, L, 3·H·D] QKV projection): the heads are read
// and written in place, with no copy into a head-first [B, H, L, D] layout.
// A StridedMatrices describes outer × inner matrices of one tensor: matrix (i, j) starts at
// element offset + i·outer_stride + j·inner_stride and has `rows` rows of `cols` elements, each
// row `leading` elements after the previous one (leading ≥ cols).
struct StridedMatrices {
  std::int64_t offset = 0;
  std::int64_t rows = 0, cols = 0, leading = 0;
  std::int64_t outer_stride = 0, inner_stride = 0;
};

struct TensorStats {
  double min = 0, max = 0, mean = 0, abs_max = 0;
  std::int64_t nan_count = 0, inf_count = 0;
};

// Draws are a pure function of (seed, stream, counter + element index): CPU and CUDA agree,
// and a resumed run draws what an uninterrupted one would.
struct RandomKey {
  std::uint64_t seed = 0;
  std::uint32_t stream = 0;   // one per purpose: dropout site, masking, sampling, init...
  std::uint64_t counter = 0;  // advanced per step/use; element i uses counter + i
};

struct AdamWSettings {
  double learning_rate = 5e-4;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-6;
  double weight_decay = 0.0;     // decoupled, applied to this tensor (0 for LayerNorm / biases)
  bool bias_correction = false;  // the official ELECTRA optimizer does not correct
  std::int64_t step = 1;         // 1-based, used only with bias_correction
  double gradient_scale = 1.0;   // multiplies grad first (global-norm clipping factor)
};

// ---------------------------------------------------------------- the kernels
#define ELECTRA_KERNEL(return_type, name, parameters) return_type name parameters;
#include "engine/kernel_list.inc"
#undef ELECTRA_KERNEL

// ---------------------------------------------------------------- the table itself
// The names of every kernel above, in the list's order (for tests that must cover each kernel,
// and for benchmarks).
std::span<const std::string_view> kernel_names();

// Called by every public kernel, before it validates its arguments and runs, with the kernel's
// name and the device of its tensors; null (the default) calls nothing, at the cost of one
// pointer test per call. For tests that record which kernels an op ran. Set it while no kernel
// runs (it is a plain global, not synchronised).
using CallObserver = void (*)(std::string_view kernel, Device device);
void set_call_observer(CallObserver observer);
CallObserver call_observer();

}  // namespace electra::kernels
