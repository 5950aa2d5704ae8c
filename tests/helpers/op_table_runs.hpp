#pragma once
// One run of an op-table entry (autograd/op_cases.hpp) on one backend, for the tests that
// compare backends (tests/cuda/op_table_cuda_test.cpp) and count the kernels the table reaches
// (tests/autograd/op_table_coverage_test.cpp). Where tensors go is the caller's `Placement`: on
// the CPU a plain copy, on CUDA a copy with sentinel bytes after its elements.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/op_cases.hpp"
#include "helpers/random_tensors.hpp"

namespace electra::test {

struct Placement {
  DType dtype = DType::f64;  // of floating tensors (ids stay i32)
  // A host tensor (already in the right dtype) copied onto the backend under test.
  std::function<Tensor(const Tensor& host)> place;
  // An output the kernel must overwrite: filled with values that fail a comparison (NaN; -1 ids).
  std::function<Tensor(const Shape& shape, DType dtype)> fresh;
};

inline Placement cpu_placement(DType dtype) {
  return {dtype, [](const Tensor& host) { return host.clone(); },
          [](const Shape& shape, DType type) {
            return Tensor::full(shape, type == DType::i32 ? -1.0 : std::nan(""), type);
          }};
}

// What a run produced, named for the failure messages ("output", "grad 0", ...).
struct TableRun {
  std::vector<std::string> names;
  std::vector<Tensor> tensors;
  std::vector<double> tolerances;  // per tensor; 0 = equal elements
};

inline Tensor in_dtype(const Tensor& host, DType dtype) {
  return host.dtype() == DType::i32 || host.dtype() == dtype ? host : host.to(dtype);
}

// The case's function on leaves placed on the backend, then backward with `projection` as the
// output gradient, into gradient buffers that start at `gradient_starts` (backward accumulates).
// Returns the output and every input's gradient.
inline TableRun run_op_case(const OpCase& op_case, const Placement& placement,
                            double tolerance = 1e-7) {
  Tape tape;
  std::vector<Var> leaves;
  for (std::size_t i = 0; i < op_case.inputs.size(); ++i) {
    leaves.emplace_back(placement.place(in_dtype(op_case.inputs[i], placement.dtype)), true);
    leaves.back().grad_buffer() =
        placement.place(random_tensor(op_case.inputs[i].shape(), 7000 + i, -1, 1, placement.dtype));
  }
  const Var output = op_case.function(tape, leaves);
  const Tensor projection =
      placement.place(random_tensor(output.shape(), 7100, -1, 1, placement.dtype));
  tape.backward(output, projection);
  TableRun run{{"output"}, {output.value()}, {tolerance}};
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    run.names.push_back("input " + std::to_string(i) + " gradient");
    run.tensors.push_back(leaves[i].grad());
    run.tolerances.push_back(tolerance);
  }
  return run;
}

inline TableRun run_kernel_case(const KernelCase& kernel_case, const Placement& placement,
                                double tolerance = 1e-7) {
  KernelRun kernel_run;
  kernel_run.dtype = placement.dtype;
  for (const Tensor& input : kernel_case.inputs)
    kernel_run.inputs.push_back(placement.place(in_dtype(input, placement.dtype)));
  kernel_run.output = [&placement](const Shape& shape, DType dtype, const Tensor& start) {
    return start.defined() ? placement.place(start.to(Device::cpu)) : placement.fresh(shape, dtype);
  };
  TableRun run;
  run.tensors = kernel_case.function(kernel_run);
  for (std::size_t i = 0; i < run.tensors.size(); ++i) {
    run.names.push_back("output " + std::to_string(i));
    run.tolerances.push_back(i < kernel_case.tolerances.size() ? kernel_case.tolerances[i]
                                                               : tolerance);
  }
  return run;
}

}  // namespace electra::test
