#pragma once
// Error checks for every CUDA runtime and cuBLAS call of the CUDA backend: a failure throws
// electra::Error naming the call, where it was made and CUDA's own description of the error.
// Internal to electra_engine (included by engine/cuda/*.cpp and *.cu only).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "engine/error.hpp"

namespace electra::cuda {

inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess)
    throw_error("CUDA error in ", call, " (", file, ":", line, "): ", cudaGetErrorName(status),
                ": ", cudaGetErrorString(status));
}

inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw_error("cuBLAS error in ", call, " (", file, ":", line, "): ", cublasGetStatusName(status),
                ": ", cublasGetStatusString(status));
}

// After a kernel launch: a bad configuration (too many threads, too much shared memory) is
// reported here; faults inside the kernel surface at the next synchronising call.
inline void check_launch(const char* kernel, const char* file, int line) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    throw_error("CUDA kernel launch failed in ", kernel, " (", file, ":", line,
                "): ", cudaGetErrorName(status), ": ", cudaGetErrorString(status));
}

}  // namespace electra::cuda

#define ELECTRA_CUDA_CHECK(call) ::electra::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define ELECTRA_CUBLAS_CHECK(call) ::electra::cuda::check_cublas((call), #call, __FILE__, __LINE__)
#define ELECTRA_CUDA_CHECK_LAUNCH(kernel) ::electra::cuda::check_launch(kernel, __FILE__, __LINE__)
