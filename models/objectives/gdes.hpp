#pragma once
// GDES (DeBERTaV3, He et al. 2021) as seen by the objective module: embedding_sharing "gdes" is
// a config field that composes with every row that has a replaced-token discriminator (electra,
// electra15, electra_hp, …), not a row of its own; docs/objectives.md says why. The networks'
// side lives in models/networks/embeddings.hpp (the deltas, the discriminator's reading).
#include <vector>

#include "models/objectives/objective.hpp"

namespace electra {

// The gradient boundaries the model audit checks for `row` under `config`: the row's own with
// "tied"; with "gdes", every loss L that the row keeps out of the generator ({L, "generator.",
// zero}) but lets into the discriminator ({L, "discriminator.", not zero}) reaches the shared
// embeddings only through the discriminator's stop-gradient, so
//   {L, "electra.embeddings.", not zero}  becomes  {L, "electra.embeddings.", zero}
// and {L, "discriminator.electra.embeddings.", not zero} (the deltas E_Δ) is added. The MLM
// loss never reaches the deltas: they are under "discriminator.", which the rows already bar.
std::vector<GradientBoundary> gradient_boundaries(const ObjectiveSpec& row,
                                                  const ModelConfig& config);

}  // namespace electra
