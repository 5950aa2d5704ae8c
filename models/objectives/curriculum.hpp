#pragma once
// The curriculum schedules every objective reads at the optimizer update count (draw.update):
// the discriminator's loss weight and the generator's sampling temperature. With the defaults
// both are the constants of the paper (disc_weight, temperature).
#include <cstdint>

#include "models/config.hpp"

namespace electra {

// λ at `update` (config.disc_weight unless a ramp is configured).
double discriminator_weight(const ModelConfig& config, std::int64_t update);
// T at `update` (config.temperature unless a schedule is configured).
double sampling_temperature(const ModelConfig& config, std::int64_t update);

}  // namespace electra
