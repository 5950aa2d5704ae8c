// One tiny tape through the installed library: loss = Σ (x·Wᵀ + b)², backward, and the
// gradients compared with the closed form dL/dW = 2·yᵀx, dL/db = 2·Σ_rows y (float64).
// Prints the result; exits 1 on a mismatch (or an electra::Error).
#include <cmath>
#include <cstdio>
#include <vector>

#include "autograd/ops.hpp"
#include "engine/error.hpp"

int main() {
  using electra::Shape;
  using electra::Tensor;
  using electra::Var;
  try {
    // x [2, 3], weight [2, 3] (out 2, in 3), bias [2].
    const std::vector<double> x_values{1, 2, 3, -1, 0.5, 2};
    const std::vector<double> w_values{0.1, -0.2, 0.3, 0.4, 0.5, -0.6};
    const std::vector<double> b_values{0.25, -0.5};
    electra::Tape tape;
    const Var x(Tensor::from_vector(x_values, Shape{2, 3}));
    const Var weight(Tensor::from_vector(w_values, Shape{2, 3}), true, "weight");
    const Var bias(Tensor::from_vector(b_values, Shape{2}), true, "bias");
    const Var y = electra::ops::linear(tape, x, weight, bias);
    const Var loss = electra::ops::sum(tape, electra::ops::mul(tape, y, y));
    const std::size_t nodes = tape.size();
    tape.backward(loss);

    double expected_loss = 0;
    std::vector<double> y_ref(4), w_grad_ref(6, 0.0), b_grad_ref(2, 0.0);
    for (int r = 0; r < 2; ++r)
      for (int o = 0; o < 2; ++o) {
        double value = b_values[o];
        for (int i = 0; i < 3; ++i) value += x_values[r * 3 + i] * w_values[o * 3 + i];
        y_ref[r * 2 + o] = value;
        expected_loss += value * value;
        b_grad_ref[o] += 2 * value;
        for (int i = 0; i < 3; ++i) w_grad_ref[o * 3 + i] += 2 * value * x_values[r * 3 + i];
      }
    double worst = std::abs(loss.value().item() - expected_loss);
    const std::vector<double> w_grad = weight.grad().to_vector();
    const std::vector<double> b_grad = bias.grad().to_vector();
    for (int k = 0; k < 6; ++k) worst = std::max(worst, std::abs(w_grad[k] - w_grad_ref[k]));
    for (int k = 0; k < 2; ++k) worst = std::max(worst, std::abs(b_grad[k] - b_grad_ref[k]));
    const bool ok = worst <= 1e-12 * (1 + std::abs(expected_loss));
    std::printf(
        "electra_consumer: %zu nodes, loss %.6f (expected %.6f), dW[0] %.6f, db[1] %.6f, "
        "max error %.3g: %s\n",
        nodes, loss.value().item(), expected_loss, w_grad[0], b_grad[1], worst,
        ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
  } catch (const electra::Error& error) {
    std::fprintf(stderr, "electra_consumer: %s\n", error.what());
    return 1;
  }
}
