#pragma once
// The kernel workbench (STYLE.md; after llm.c's dev/cuda/): numbered variants of a hot kernel.
// Variant 0 is the plain reference (loops, double accumulation); 1..n are successive
// optimisations, each a small function with a comment saying what it changes and why. One of
// them is the production kernel, called through engine/kernels.hpp, so the workbench measures
// what ships. The driver (main.cpp) checks every variant against variant 0 and times it.
// A winner is promoted by moving it into engine/cpu/; its variant then becomes the kernels::
// call.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.hpp"

namespace electra::workbench {

struct Variant {
  std::string name;             // "production: broadcast_rows, gemm (beta = 1), gelu_forward"
  std::function<void()> run;    // one call: overwrites or accumulates into `outputs`
  std::vector<Tensor> outputs;  // zero before the first call; compared with variant 0's after it
};

// One family at one problem size. A variant's outputs are compared element by element:
// |value − reference| ≤ tolerance · (|reference| + rms(reference)), a relative bound with a
// floor at the output's own scale (Stan's max(rel·|x|, abs_floor), never a bare absolute number).
struct Case {
  std::string family;  // "linear_gelu"
  std::string shape;   // "x [4096, 256] · Wᵀ [1024, 256] + b [1024]"
  double work = 0;     // per call: flops (GFLOP/s) or bytes moved (GB/s)
  std::string unit;    // "GFLOP/s" or "GB/s"
  double tolerance = 1e-4;
  std::vector<Variant> variants;  // variant 0 (the reference) first
};

// Problem sizes: `tiny` for the CTest smoke test (validation in well under a second, still
// crossing the production kernels' tile and band edges); `bench` the shapes of an
// ELECTRA-Small step (batch 32 × 128 = 4 096 tokens, hidden 256, intermediate 1 024).
enum class Size { tiny, bench };

struct Family {
  std::string name;
  std::string summary;
  std::function<std::vector<Case>(Size)> make;
};

// One file per family (tools/kernels/<name>.cpp).
Family linear_gelu_family();
Family bias_grad_family();
Family layer_norm_family();

// Deterministic N(0, 1) inputs, f32, so every run and every variant sees the same data.
Tensor random_tensor(const Shape& shape, std::uint64_t seed, double scale = 1.0);

}  // namespace electra::workbench
