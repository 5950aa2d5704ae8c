#pragma once
// The op table: the gradcheck cases of every op, at several shapes and edge cases (size-1
// dimensions, rows with all but one key masked, logits of ±30), and the cases of the kernels no op
// calls (optimizer, sampling, statistics). Shared by the test suite and `electra audit`, so the
// table a user prints is exactly what CI proves. The tests run every entry
//   - in float64 on the CPU against central differences (OpCase only: tests/autograd),
//   - in float32 on CUDA against the CPU, forward and backward (tests/cuda/op_table_cuda_test),
//   - on the CPU with a kernel-call observer, to prove every kernel of the kernel table has a case
//     (tests/autograd/op_table_coverage_test).
// A case is written once for every dtype and device: its function builds the graph on whatever
// leaves it is given, and moves its constants (ids, masks, targets) next to them (constant_like).
#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"

namespace electra {

struct OpCase {
  std::string op;     // "layer_norm"
  std::string shape;  // "x [3, 1, 8]" — what this case exercises
  GradcheckFunction function;
  std::vector<Tensor> inputs;  // f64
  GradcheckOptions options;
};

// A case's constant input (ids, masks, targets, weights) on the device of `reference`, with
// floating constants in its dtype (f64 for the gradcheck, f32 for the CUDA comparison).
Tensor constant_like(const Tensor& constant, const Var& reference);

// What a KernelCase's function is given: its inputs on the backend under test (floating ones in
// `dtype`, ids i32) and where to put its outputs.
struct KernelRun {
  std::vector<Tensor> inputs;
  DType dtype = DType::f64;  // the floating dtype under test
  // An output of `shape` and `dtype` on the backend under test, holding `start` when given (for
  // accumulating kernels) and otherwise values the kernel must overwrite (NaN on CUDA, so an
  // element left unwritten fails the comparison).
  std::function<Tensor(const Shape& shape, DType dtype, const Tensor& start)> output;
  Tensor output_like(const Shape& shape) { return output(shape, dtype, Tensor()); }
  Tensor output_from(const Tensor& start) { return output(start.shape(), start.dtype(), start); }
};

// A kernel case: kernels that no op calls (the optimizer step, sampling, statistics) and the
// sizes and special values the small gradcheck shapes cannot reach (long rows, many row chunks,
// ±inf and NaN entries). No gradient to check: the CUDA comparison checks its outputs against
// the CPU's, and the coverage test counts the kernels it runs.
struct KernelCase {
  std::string kernel;  // "adamw_update" (the kernel the case is about; it may call others)
  std::string shape;   // what this case exercises
  // Returns the outputs to compare (a scalar result as a one-element f64 tensor, scalar()).
  std::function<std::vector<Tensor>(KernelRun& run)> function;
  std::vector<Tensor> inputs;  // f64 (converted to the dtype under test) or i32
  // Per output (missing entries: 1e-7): the largest normalised squared error against the CPU,
  // where NaN/Inf fail; 0 demands equal elements (Philox draws, sampled ids, counts), where
  // matching NaN/Inf are allowed.
  std::vector<double> tolerances;
};
Tensor scalar(double value);

// Random f64 tensor with entries uniform in [low, high), reproducible from seed.
Tensor random_f64(const Shape& shape, std::uint64_t seed, double low = -1.0, double high = 1.0);

// One function per op family, each in autograd/cases/<family>_cases.cpp.
void append_matmul_cases(std::vector<OpCase>& cases);
void append_elementwise_cases(std::vector<OpCase>& cases);
void append_reduce_cases(std::vector<OpCase>& cases);
void append_shape_cases(std::vector<OpCase>& cases);
void append_softmax_cases(std::vector<OpCase>& cases);
void append_layer_norm_cases(std::vector<OpCase>& cases);
void append_embedding_cases(std::vector<OpCase>& cases);
void append_dropout_cases(std::vector<OpCase>& cases);
void append_loss_cases(std::vector<OpCase>& cases);
void append_focal_cases(std::vector<OpCase>& cases);  // cases/focal_cases.cpp
void append_attention_cases(std::vector<OpCase>& cases);
void append_copy_mixture_cases(std::vector<OpCase>& cases);

std::vector<OpCase> all_op_cases();

void append_kernel_cases(std::vector<KernelCase>& cases);  // cases/kernel_cases.cpp
std::vector<KernelCase> all_kernel_cases();

}  // namespace electra
