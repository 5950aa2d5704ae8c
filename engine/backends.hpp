#pragma once
// The two implementations of the kernel table (engine/kernel_list.inc), with the signatures of
// the public kernels: electra::kernels::cpu:: (engine/cpu/<family>.cpp, f32 and f64) and
// electra::kernels::cuda:: (engine/cuda/<family>.cu, f32; only in a build with the CUDA backend,
// but declared in every build: this header needs no CUDA headers). They only compute: the public
// kernel of the same name (engine/dispatch/<family>.cpp) has validated every argument, device
// and dtype included, before it calls one of them. Internal to electra_engine.
#include "engine/kernels.hpp"

namespace electra::kernels {

// Whether this build carries the CUDA kernels (engine/cuda/, compiled when CMake found nvcc).
#ifdef ELECTRA_HAS_CUDA
inline constexpr bool cuda_backend_built = true;
#else
inline constexpr bool cuda_backend_built = false;
#endif

#define ELECTRA_KERNEL(return_type, name, parameters) return_type name parameters;
namespace cpu {
#include "engine/kernel_list.inc"
}  // namespace cpu
namespace cuda {
#include "engine/kernel_list.inc"
}  // namespace cuda
#undef ELECTRA_KERNEL

}  // namespace electra::kernels
