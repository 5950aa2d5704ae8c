// stop_gradient: the value of x as a constant, for a gradient boundary on a continuous path
// (GDES reads the generator's embeddings as sg(E_G) + E_Δ: models/networks/embeddings.cpp).
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// x [any] → a leaf that shares x's value tensor (no copy) and requires no gradient. No node is
// recorded: ops that read it treat it as a constant, so nothing flows back into x through it,
// while x's other uses keep their gradients.
Var stop_gradient(const Var& x) {
  check_float_input("stop_gradient", "x", x);
  return Var(x.value(), /*requires_grad=*/false,
             "stop_gradient(" + (x.name().empty() ? std::string("unnamed") : x.name()) + ")");
}

}  // namespace electra::ops
