// Warm-up × linear decay, as the official ELECTRA optimizer computes it.
#include "models/training/lr_schedule.hpp"

#include <algorithm>

#include "engine/error.hpp"

namespace electra {

void LearningRateSchedule::validate() const {
  check(peak_learning_rate >= 0, "lr schedule: learning rate must be ≥ 0, got ",
        peak_learning_rate);
  check(warmup_steps >= 0, "lr schedule: warmup_steps must be ≥ 0, got ", warmup_steps);
  check(total_steps > 0, "lr schedule: total_steps must be > 0, got ", total_steps);
}

double LearningRateSchedule::at(std::int64_t updates_applied) const {
  validate();
  const double t = static_cast<double>(std::max<std::int64_t>(updates_applied, 0));
  // polynomial_decay(cycle=False) clamps the step at T, so the rate stays at 0 past the end.
  const double decay =
      1.0 - std::min(t, static_cast<double>(total_steps)) / static_cast<double>(total_steps);
  const double warmup =
      warmup_steps > 0 ? std::min(1.0, t / static_cast<double>(warmup_steps)) : 1.0;
  return std::max(0.0, peak_learning_rate * warmup * decay);
}

}  // namespace electra
