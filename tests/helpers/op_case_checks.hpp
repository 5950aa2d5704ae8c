#pragma once
// The float64 gradcheck of OpCase table entries (autograd/op_cases.hpp), as the tests run it:
// every case must pass its tolerances and check at least one element; the worst errors of each
// op are printed for the report.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "autograd/op_cases.hpp"

namespace electra::test {

inline void check_op_cases(const std::vector<OpCase>& cases) {
  REQUIRE(!cases.empty());
  std::map<std::string, GradcheckResult> worst;
  for (const OpCase& op_case : cases) {
    const GradcheckResult result = gradcheck(op_case.function, op_case.inputs, op_case.options);
    INFO(op_case.op, " ", op_case.shape, ": max rel ", result.max_rel_error, ", max abs ",
         result.max_abs_error, " (", result.worst, ")");
    CHECK(result.passed);
    CHECK(result.checked > 0);
    GradcheckResult& op_worst = worst[op_case.op];
    op_worst.max_rel_error = std::max(op_worst.max_rel_error, result.max_rel_error);
    op_worst.max_abs_error = std::max(op_worst.max_abs_error, result.max_abs_error);
    op_worst.checked += result.checked;
  }
  for (const auto& [op, result] : worst)
    MESSAGE(op, ": ", result.checked, " elements checked, worst rel ", result.max_rel_error,
            ", worst abs ", result.max_abs_error);
}

// The cases one append_*_cases function adds.
inline std::vector<OpCase> op_cases_of(void (*append)(std::vector<OpCase>&)) {
  std::vector<OpCase> cases;
  append(cases);
  return cases;
}

}  // namespace electra::test
