// Every kernel of the kernel table (engine/kernel_list.inc, kernels::kernel_names()) is run by
// some entry of the op table (autograd/op_cases.hpp), so the CUDA-against-CPU comparison
// (tests/cuda/op_table_cuda_test.cpp) reaches it too: each entry runs once on the CPU with the
// kernel-call observer recording the kernels it calls.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "autograd/op_cases.hpp"
#include "engine/kernels.hpp"
#include "helpers/op_table_runs.hpp"

using namespace electra;
using namespace electra::test;

namespace {

// Kernels allowed to have no case, with the reason. Keep it empty unless a kernel truly cannot
// run from the table; every entry is checked to be a kernel that no case runs.
const std::map<std::string, std::string> kernels_without_case = {};

std::set<std::string>* recorded = nullptr;
void record(std::string_view kernel, Device device) {
  if (device == Device::cpu) recorded->insert(std::string(kernel));
}

// The kernels of the table that none of the given cases calls on the CPU.
std::set<std::string> kernels_not_run(const std::vector<OpCase>& op_cases,
                                      const std::vector<KernelCase>& kernel_cases) {
  std::set<std::string> ran;
  recorded = &ran;
  kernels::set_call_observer(record);
  for (const OpCase& op_case : op_cases) run_op_case(op_case, cpu_placement(DType::f64));
  for (const KernelCase& kernel_case : kernel_cases)
    run_kernel_case(kernel_case, cpu_placement(DType::f64));
  kernels::set_call_observer(nullptr);
  recorded = nullptr;
  std::set<std::string> missing;
  for (const std::string_view name : kernels::kernel_names())
    if (!ran.count(std::string(name))) missing.insert(std::string(name));
  return missing;
}

}  // namespace

TEST_CASE("op table: every kernel of the kernel table has a case") {
  REQUIRE(kernels::kernel_names().size() > 0);
  const std::set<std::string> missing = kernels_not_run(all_op_cases(), all_kernel_cases());
  for (const std::string& kernel : missing) {
    INFO("kernel '", kernel,
         "' is run by no case of autograd/op_cases (add one in "
         "autograd/cases/, or list it in kernels_without_case with the reason)");
    CHECK(kernels_without_case.count(kernel) == 1);
  }
  for (const auto& [kernel, reason] : kernels_without_case) {
    INFO("kernels_without_case lists '", kernel, "' (", reason, ")");
    bool is_kernel = false;
    for (const std::string_view name : kernels::kernel_names()) is_kernel |= name == kernel;
    CHECK(is_kernel);
    CHECK(missing.count(kernel) == 1);  // a kernel that has a case leaves the list
  }
  MESSAGE(kernels::kernel_names().size(), " kernels, ", all_op_cases().size(), " op cases, ",
          all_kernel_cases().size(), " kernel cases, ", missing.size(), " kernels without case");
}

TEST_CASE("op table: a kernel whose only case is removed is reported") {
  // The check above must be able to fail: without the AdamW cases nothing runs adamw_update.
  std::vector<KernelCase> without_adamw;
  for (KernelCase& kernel_case : all_kernel_cases())
    if (kernel_case.kernel != "adamw_update") without_adamw.push_back(std::move(kernel_case));
  CHECK(kernels_not_run(all_op_cases(), without_adamw) == std::set<std::string>{"adamw_update"});
}

TEST_CASE("op table: the call observer sees kernels by name and is silent once cleared") {
  std::set<std::string> ran;
  recorded = &ran;
  kernels::set_call_observer(record);
  Tensor y = Tensor::empty(Shape{2, 3}, DType::f64);
  kernels::broadcast_rows(Tensor::zeros(Shape{3}, DType::f64), y);
  kernels::set_call_observer(nullptr);
  Tensor z = Tensor::empty(Shape{2, 3}, DType::f64);
  kernels::copy(y, z);
  recorded = nullptr;
  CHECK(ran == std::set<std::string>{"broadcast_rows"});
}
