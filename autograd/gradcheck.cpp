#include "autograd/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "engine/kernels.hpp"

namespace electra {
namespace {

// L = Σ r ⊙ f(inputs), evaluated without recording.
double projected_loss(const GradcheckFunction& function, const std::vector<Tensor>& inputs,
                      const Tensor& projection) {
  Tape tape;
  tape.set_recording(false);
  std::vector<Var> leaves;
  for (const Tensor& input : inputs) leaves.emplace_back(input, false);
  const Var output = function(tape, leaves);
  return kernels::dot(output.value(), projection);
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFunction& function, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  for (const Tensor& input : inputs) check_dtype("gradcheck", input, DType::f64);
  std::mt19937_64 generator(options.seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);

  // Analytic gradients: one backward of Σ r ⊙ f.
  Tape tape;
  std::vector<Var> leaves;
  for (const Tensor& input : inputs) leaves.emplace_back(input.clone(), true);
  const Var output = function(tape, leaves);
  Tensor projection = Tensor::empty(output.shape(), DType::f64);
  for (std::int64_t i = 0; i < projection.numel(); ++i)
    projection.data<double>()[i] = unit(generator);
  GradcheckResult result;
  if (output.requires_grad()) tape.backward(output, projection);

  for (std::size_t which = 0; which < inputs.size(); ++which) {
    const std::int64_t count = inputs[which].numel();
    std::vector<std::int64_t> elements(count);
    std::iota(elements.begin(), elements.end(), 0);
    if (count > options.max_elements_per_input) {
      std::shuffle(elements.begin(), elements.end(), generator);
      elements.resize(options.max_elements_per_input);
    }
    const Var& leaf = leaves[which];
    for (std::int64_t element : elements) {
      std::vector<Tensor> perturbed(inputs.begin(), inputs.end());
      perturbed[which] = inputs[which].clone();
      double* value = perturbed[which].data<double>() + element;
      const double original = *value;
      *value = original + options.step;
      const double plus = projected_loss(function, perturbed, projection);
      *value = original - options.step;
      const double minus = projected_loss(function, perturbed, projection);
      const double numeric = (plus - minus) / (2 * options.step);
      const double analytic = leaf.has_grad() ? leaf.grad().data<double>()[element] : 0.0;
      const double error = std::abs(analytic - numeric);
      const double scale = std::max({std::abs(analytic), std::abs(numeric)});
      // Relative error is reported where the relative criterion governs (scale ≥ atol/rtol);
      // below that a gradient is ~0 and only its absolute error means anything.
      const double relative_floor = options.absolute_tolerance / options.relative_tolerance;
      const double relative = scale >= relative_floor ? error / scale : 0.0;
      ++result.checked;
      if (error > std::max(options.relative_tolerance * scale, options.absolute_tolerance))
        result.passed = false;
      const double badness =
          error / std::max(options.relative_tolerance * scale, options.absolute_tolerance);
      if (badness > result.worst_badness || !std::isfinite(badness)) {
        result.worst_badness = badness;
        std::ostringstream worst;
        worst << "input " << which << " element " << element << ": analytic " << analytic
              << ", numeric " << numeric;
        result.worst = worst.str();
      }
      result.max_abs_error = std::max(result.max_abs_error, error);
      result.max_rel_error = std::max(result.max_rel_error, relative);
      if (!std::isfinite(analytic) || !std::isfinite(numeric)) result.passed = false;
    }
  }
  return result;
}

}  // namespace electra
