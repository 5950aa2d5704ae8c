#pragma once
// Float64 central-difference gradient check. The op's output is projected on a fixed random
// vector r (loss = Σ r ⊙ f(x)), because a plain sum of outputs hides bugs that cancel out; the
// analytic gradient of that loss from one backward pass is compared with
//   (L(x + h·e_i) − L(x − h·e_i)) / 2h
// for every input element (or a random subset of large inputs).
#include <functional>
#include <string>
#include <vector>

#include "autograd/tape.hpp"

namespace electra {

// Builds the op's graph from its differentiable inputs (f64 leaf Vars) and returns its output.
using GradcheckFunction = std::function<Var(Tape& tape, const std::vector<Var>& inputs)>;

struct GradcheckOptions {
  double step = 1e-6;
  // Pass when |analytic − numeric| ≤ max(relative_tolerance · max(|analytic|, |numeric|),
  // absolute_tolerance) for every checked element (Stan's max(rel·|x|, floor)).
  double relative_tolerance = 1e-6;
  double absolute_tolerance = 1e-8;
  std::int64_t max_elements_per_input = 200;  // checked elements per input; the rest sampled
  std::uint64_t seed = 1234;
};

struct GradcheckResult {
  double max_abs_error = 0;
  // |Δ| / max(|analytic|, |numeric|) over elements whose gradient is at least
  // absolute_tolerance / relative_tolerance (where the relative criterion governs).
  double max_rel_error = 0;
  // max over elements of |Δ| / allowed: ≤ 1 passes; names the element in `worst`.
  double worst_badness = 0;
  std::int64_t checked = 0;
  bool passed = true;
  std::string worst;  // the element closest to (or over) its tolerance
};

GradcheckResult gradcheck(const GradcheckFunction& function, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace electra
