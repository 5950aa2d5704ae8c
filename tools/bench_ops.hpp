#pragma once
// `electra bench --ops`: GEMM peak, the linear op's efficiency against a bare sgemm, attention's
// batched products and the bandwidth of elementwise kernels against memcpy, all in one run.
namespace electra::cli {

// Prints the table to stdout; returns the process exit code.
int run_ops_bench();

// Best-of-3 GFLOP/s of a square 2048³ cblas_sgemm on the current thread setting: the ceiling
// other GEMM numbers (and a model step's FLOP rate) are read against.
double measure_sgemm_peak_gflops();

}  // namespace electra::cli
