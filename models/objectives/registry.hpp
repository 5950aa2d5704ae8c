#pragma once
// The rows of the objective table, one function per objective file. Adding an objective: a new
// file defining `ObjectiveSpec <name>_objective()`, its declaration here and one line in
// registry.cpp (docs/objectives.md).
#include "models/objectives/objective.hpp"

namespace electra {

ObjectiveSpec electra_objective();         // electra.cpp
ObjectiveSpec mlm_objective();             // mlm.cpp
ObjectiveSpec electra_hp_objective();      // electra_hp.cpp
ObjectiveSpec electra15_objective();       // electra15.cpp
ObjectiveSpec replace_mlm_objective();     // replace_mlm.cpp
ObjectiveSpec all_tokens_mlm_objective();  // all_tokens_mlm.cpp

}  // namespace electra
