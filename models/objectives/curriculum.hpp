#pragma once
// The curriculum schedules every objective reads at the optimizer update count (draw.update,
// the updates applied before this step: 0 on the first): the discriminator's loss weight and the
// generator's sampling temperature. Each goes linearly from its *_start value to the paper's
// constant over the first *_ramp_updates updates and stays there; with a ramp of 0 (the
// default) it is that constant from the first update, bit for bit.
#include <cstdint>

#include "models/networks/config.hpp"

namespace electra {

// λ at `update`: disc_weight_start + (disc_weight − disc_weight_start)·update/N for
// update < N = disc_weight_ramp_updates, then disc_weight.
double discriminator_weight(const ModelConfig& config, std::int64_t update);
// T at `update`: temperature_start + (temperature − temperature_start)·update/N for
// update < N = temperature_ramp_updates, then temperature.
double sampling_temperature(const ModelConfig& config, std::int64_t update);

}  // namespace electra
