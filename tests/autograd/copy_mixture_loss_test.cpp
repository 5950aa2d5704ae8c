// ops::copy_mixture_loss (All-Tokens MLM's copy mechanism): float64 finite differences of its
// op-table cases, equality with its composition cross_entropy + bce_with_logits(copy, 0) where no
// row can copy, and finite values at saturated copy logits.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"
#include "helpers/op_case_checks.hpp"

using namespace electra;
using namespace electra::test;

TEST_CASE("copy_mixture_loss: float64 finite differences of its op-table cases") {
  const std::vector<OpCase> cases = op_cases_of(append_copy_mixture_cases);
  REQUIRE(cases.size() == 3);
  check_op_cases(cases);
  bool in_table = false;
  for (const OpCase& op_case : all_op_cases())
    in_table = in_table || op_case.op == "copy_mixture_loss";
  CHECK(in_table);  // so `electra audit` prints and checks it too
}

TEST_CASE(
    "copy_mixture_loss: without copyable rows it is cross_entropy + BCE(copy, 0), values and "
    "gradients") {
  // −log((1 − D)·softmax_t) = CE + softplus(z) = CE + BCE(σ(z), 0), both over Σw + 1e-6.
  std::mt19937 random(3);
  std::uniform_real_distribution<double> uniform(-3, 3);
  const std::int64_t rows = 5, vocab = 7;
  Tensor logits_value = Tensor::empty({rows, vocab}, DType::f64);
  Tensor copy_value = Tensor::empty({rows}, DType::f64);
  for (std::int64_t i = 0; i < logits_value.numel(); ++i)
    logits_value.data<double>()[i] = uniform(random);
  for (std::int64_t i = 0; i < rows; ++i) copy_value.data<double>()[i] = uniform(random);
  const Tensor inputs = Tensor::from_vector<std::int32_t>({1, 2, 3, 4, 5}, {rows});
  const Tensor targets = Tensor::from_vector<std::int32_t>({0, 6, 1, 2, 3}, {rows});
  const Tensor weights = Tensor::from_vector<double>({1, 0.5, 0, 2, 1}, {rows});

  Tape fused_tape, composed_tape;
  Var fused_logits(logits_value.clone(), true), fused_copy(copy_value.clone(), true);
  Var composed_logits(logits_value.clone(), true), composed_copy(copy_value.clone(), true);
  const Var fused =
      ops::copy_mixture_loss(fused_tape, fused_logits, fused_copy, inputs, targets, weights);
  const Var composed =
      ops::add(composed_tape, ops::cross_entropy(composed_tape, composed_logits, targets, weights),
               ops::bce_with_logits(composed_tape, composed_copy, Tensor::zeros({rows}, DType::f64),
                                    weights));
  CHECK(fused.value().item() == doctest::Approx(composed.value().item()).epsilon(1e-12));
  fused_tape.backward(fused);
  composed_tape.backward(composed);
  const auto close = [](const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-10));
  };
  close(fused_logits.grad().to_vector(), composed_logits.grad().to_vector());
  close(fused_copy.grad().to_vector(), composed_copy.grad().to_vector());
}

TEST_CASE("copy_mixture_loss: saturated copy logits stay finite (log space)") {
  // A copyable row at z = −800: σ(z) underflows to 0, so log D must come from −softplus(−z).
  const Tensor inputs = Tensor::from_vector<std::int32_t>({2, 1}, {2});
  const Tensor targets = Tensor::from_vector<std::int32_t>({2, 0}, {2});
  const Tensor weights = Tensor::from_vector<double>({1, 1}, {2});
  Tape tape;
  Var logits(Tensor::from_vector<double>({0, 0, -900, -900, 0, 0}, {2, 3}), true);
  Var copy(Tensor::from_vector<double>({-800, 800}, {2}), true);
  const Var loss = ops::copy_mixture_loss(tape, logits, copy, inputs, targets, weights);
  // Row 0 (copyable): log p = logsumexp(log D, log(1 − D) + log softmax_2)
  //   = logsumexp(−800, −900 − ln 2) ≈ −800. Row 1 (not copyable):
  //   log(1 − D) + log softmax_0 = −800 − 900 − ln 2.
  CHECK(loss.value().item() ==
        doctest::Approx((800.0 + 1700.0 + std::log(2.0)) / (2 + 1e-6)).epsilon(1e-9));
  tape.backward(loss);
  for (double g : logits.grad().to_vector()) CHECK(std::isfinite(g));
  for (double g : copy.grad().to_vector()) CHECK(std::isfinite(g));
}
