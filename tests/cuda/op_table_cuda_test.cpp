// Every entry of the op table (autograd/op_cases.hpp) in float32 on CUDA against the same entry
// in float32 on the CPU, as ggml's test-backend-ops: an op's output and every input gradient
// (backward accumulating into gradients that start at random values), a kernel case's outputs.
// - normalised MSE Σ(cuda − cpu)² / Σ cpu² ≤ 1e-7 (a case may demand equal elements instead);
// - NaN/Inf in a compared CUDA value fails outright;
// - sentinel bytes fill the allocation slack after every tensor the test places on the GPU
//   (inputs, gradient buffers, kernel outputs); a kernel writing past an end changes them;
// - outputs a kernel must overwrite start as NaN (ids as -1), so an unwritten element fails;
// - a second CUDA run must give the very same bits (no atomics, fixed reduction trees).
// Op outputs are allocated by the op itself and are compared but not guarded.
// Like everything in tests/cuda/, it runs only where a GPU is visible; elsewhere CTest reports
// it Skipped (tests/CMakeLists.txt, test_main.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/op_cases.hpp"
#include "engine/allocator.hpp"
#include "engine/cuda/cuda_runtime.hpp"
#include "helpers/op_table_runs.hpp"

using namespace electra;
using namespace electra::test;

namespace {

constexpr double f32_tolerance = 1e-7;  // normalised MSE, as ggml's test-backend-ops
constexpr unsigned char sentinel = 0xA5;

// Bytes between the end of the tensor's elements and the end of its allocation block.
std::size_t slack_bytes(const Tensor& tensor) {
  return CachingAllocator::round_size(tensor.nbytes()) - tensor.nbytes();
}

// Places tensors on CUDA with sentinel bytes in their slack, and remembers them to check later.
struct GuardedPlacement {
  std::vector<Tensor> guarded;

  Tensor guard(const Tensor& host) {
    Tensor device = host.to(Device::cuda);
    const std::vector<unsigned char> fill(slack_bytes(device), sentinel);
    if (!fill.empty())
      cuda::copy_bytes(static_cast<char*>(device.raw()) + device.nbytes(), Device::cuda,
                       fill.data(), Device::cpu, fill.size());
    guarded.push_back(device);
    return device;
  }

  Placement placement() {
    return {DType::f32, [this](const Tensor& host) { return guard(host); },
            [this](const Shape& shape, DType type) {
              return guard(Tensor::full(shape, type == DType::i32 ? -1.0 : std::nan(""), type));
            }};
  }

  void check_sentinels(const std::string& label) const {
    for (std::size_t t = 0; t < guarded.size(); ++t) {
      const std::size_t size = slack_bytes(guarded[t]);
      if (size == 0) continue;
      std::string slack(size, '\0');
      cuda::copy_bytes(slack.data(), Device::cpu,
                       static_cast<const char*>(guarded[t].raw()) + guarded[t].nbytes(),
                       Device::cuda, slack.size());
      std::size_t overwritten = 0;
      for (char byte : slack) overwritten += static_cast<unsigned char>(byte) != sentinel;
      INFO(label, ": guarded tensor ", t, " ", guarded[t].describe(), ": ", overwritten, " of ",
           slack.size(), " sentinel bytes past the end overwritten");
      CHECK(overwritten == 0);
    }
  }
};

double normalised_mse(const std::vector<double>& expected, const std::vector<double>& actual) {
  double error = 0, norm = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return norm > 0 ? error / norm : error;
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void compare(const std::string& label, const TableRun& cpu, const TableRun& gpu,
             const TableRun& gpu_again) {
  REQUIRE(cpu.tensors.size() == gpu.tensors.size());
  for (std::size_t t = 0; t < cpu.tensors.size(); ++t) {
    const std::string what = label + ", " + cpu.names[t];
    INFO(what);
    REQUIRE(gpu.tensors[t].device() == Device::cuda);
    REQUIRE(cpu.tensors[t].shape() == gpu.tensors[t].shape());
    const std::vector<double> expected = cpu.tensors[t].to_vector();
    const std::vector<double> actual = gpu.tensors[t].to_vector();
    const std::vector<double> again = gpu_again.tensors[t].to_vector();
    std::size_t differing = 0, rerun_differing = 0, non_finite = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      differing += !same(expected[i], actual[i]);
      rerun_differing += !same(actual[i], again[i]);
      non_finite += !std::isfinite(actual[i]);
    }
    INFO(rerun_differing, " of ", actual.size(), " elements differ between two CUDA runs");
    CHECK(rerun_differing == 0);
    if (cpu.tolerances[t] == 0) {
      INFO(differing, " of ", expected.size(), " elements differ from the CPU's");
      CHECK(differing == 0);
      continue;
    }
    INFO(non_finite, " NaN/Inf of ", actual.size(), " CUDA values");
    CHECK(non_finite == 0);
    const double error = normalised_mse(expected, actual);
    INFO("normalised MSE ", error, " (tolerance ", cpu.tolerances[t], ")");
    CHECK(error <= cpu.tolerances[t]);
  }
}

// Runs every case on the CPU and twice on CUDA (each CUDA run with its own guarded tensors).
template <typename Case, typename Run>
void compare_on_cuda(const std::vector<Case>& cases, Run run, const char* kind) {
  REQUIRE(!cases.empty());
  for (const Case& table_case : cases) {
    const std::string label = run.name(table_case) + " " + table_case.shape;
    const TableRun cpu = run(table_case, cpu_placement(DType::f32));
    GuardedPlacement first, second;
    const TableRun gpu = run(table_case, first.placement());
    const TableRun gpu_again = run(table_case, second.placement());
    compare(label, cpu, gpu, gpu_again);
    first.check_sentinels(label);
  }
  MESSAGE(cases.size(), " ", kind, " compared");
}

struct RunOpCase {
  std::string name(const OpCase& op_case) const { return op_case.op; }
  TableRun operator()(const OpCase& op_case, const Placement& placement) const {
    return run_op_case(op_case, placement, f32_tolerance);
  }
};
struct RunKernelCase {
  std::string name(const KernelCase& kernel_case) const { return kernel_case.kernel; }
  TableRun operator()(const KernelCase& kernel_case, const Placement& placement) const {
    return run_kernel_case(kernel_case, placement, f32_tolerance);
  }
};

}  // namespace

TEST_CASE("op table on CUDA: every op case, forward and backward, equals the CPU in f32") {
  compare_on_cuda(all_op_cases(), RunOpCase{}, "op cases");
}

TEST_CASE("op table on CUDA: every kernel case equals the CPU in f32") {
  compare_on_cuda(all_kernel_cases(), RunKernelCase{}, "kernel cases");
}
