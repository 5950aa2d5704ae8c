#pragma once
// `electra bench --ops`: GEMM peak, the linear op's efficiency against a bare sgemm, attention's
// batched products and the bandwidth of elementwise kernels against memcpy, all in one run.
namespace electra::cli {

// Prints the table to stdout; returns the process exit code.
int run_ops_bench();

}  // namespace electra::cli
