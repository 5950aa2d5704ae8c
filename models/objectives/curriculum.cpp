#include "models/objectives/curriculum.hpp"

#include "engine/error.hpp"

namespace electra {
namespace {

// start + (target − start)·update/ramp for update < ramp, then exactly target: with ramp 0 the
// target from the first update, bit for bit the constant of the paper.
double linear_ramp(double start, double target, std::int64_t ramp, std::int64_t update) {
  check(update >= 0, "curriculum: update ", update, " is negative");
  if (update >= ramp) return target;
  const double progress = static_cast<double>(update) / static_cast<double>(ramp);
  return start + (target - start) * progress;
}

}  // namespace

double discriminator_weight(const ModelConfig& config, std::int64_t update) {
  return linear_ramp(config.disc_weight_start, config.disc_weight, config.disc_weight_ramp_updates,
                     update);
}

double sampling_temperature(const ModelConfig& config, std::int64_t update) {
  return linear_ramp(config.temperature_start, config.temperature, config.temperature_ramp_updates,
                     update);
}

}  // namespace electra
