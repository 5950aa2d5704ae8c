// `electra audit`: the float64 finite-difference gradcheck of every op, as one table.
#include <cstdio>

#include "autograd/op_cases.hpp"
#include "engine/threads.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {

int run_op_audit() {
  std::printf("electra audit: float64 central differences, output projected on a random vector "
              "(threads: %d)\n\n", num_threads());
  std::printf("%-18s %-40s %8s %12s %12s  %s\n", "op", "shape", "checked", "max abs err",
              "max rel err", "verdict");
  int failures = 0;
  const std::vector<OpCase> cases = all_op_cases();
  for (const OpCase& op_case : cases) {
    const GradcheckResult result = gradcheck(op_case.function, op_case.inputs, op_case.options);
    std::printf("%-18s %-40s %8lld %12.3e %12.3e  %s\n", op_case.op.c_str(),
                op_case.shape.c_str(), static_cast<long long>(result.checked),
                result.max_abs_error, result.max_rel_error, result.passed ? "pass" : "FAIL");
    if (!result.passed) {
      std::printf("%-18s   worst: %s\n", "", result.worst.c_str());
      ++failures;
    }
  }
  std::printf("\n%zu cases, %d failed\n", cases.size(), failures);
  return failures == 0 ? 0 : 1;
}

const CommandRegistration audit_command{Command{
    "audit", "check every op's gradient against float64 finite differences",
    [](CLI::App& app) -> std::function<int()> { return [] { return run_op_audit(); }; }}};

}  // namespace
}  // namespace electra::cli
