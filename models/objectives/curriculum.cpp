#include "models/objectives/curriculum.hpp"

namespace electra {

double discriminator_weight(const ModelConfig& config, std::int64_t /*update*/) {
  return config.disc_weight;
}

double sampling_temperature(const ModelConfig& config, std::int64_t /*update*/) {
  return config.temperature;
}

}  // namespace electra
