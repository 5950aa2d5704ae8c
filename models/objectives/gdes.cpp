#include "models/objectives/gdes.hpp"

#include <algorithm>

namespace electra {
namespace {

bool declares(const std::vector<GradientBoundary>& boundaries, const std::string& loss,
              const std::string& prefix, bool zero) {
  return std::any_of(boundaries.begin(), boundaries.end(), [&](const GradientBoundary& b) {
    return b.loss == loss && b.parameter_prefix == prefix && b.zero == zero;
  });
}

}  // namespace

std::vector<GradientBoundary> gradient_boundaries(const ObjectiveSpec& row,
                                                  const ModelConfig& config) {
  const std::vector<GradientBoundary>& declared = row.gradient_boundaries;
  if (config.embedding_sharing != "gdes") return declared;
  std::vector<std::string> discriminator_only;  // losses that reach D and not G
  for (const GradientBoundary& boundary : declared)
    if (declares(declared, boundary.loss, "generator.", true) &&
        declares(declared, boundary.loss, "discriminator.", false) &&
        std::find(discriminator_only.begin(), discriminator_only.end(), boundary.loss) ==
            discriminator_only.end())
      discriminator_only.push_back(boundary.loss);
  std::vector<GradientBoundary> result;
  for (const GradientBoundary& boundary : declared)
    if (std::find(discriminator_only.begin(), discriminator_only.end(), boundary.loss) ==
            discriminator_only.end() ||
        boundary.parameter_prefix != "electra.embeddings.")
      result.push_back(boundary);
  for (const std::string& loss : discriminator_only) {
    result.push_back({loss, "electra.embeddings.", true});
    result.push_back({loss, "discriminator.electra.embeddings.", false});
  }
  return result;
}

}  // namespace electra
