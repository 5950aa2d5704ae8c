#pragma once
// ELECTRA's learning-rate schedule (DESIGN §2.10; google-research/electra optimization.py):
//   lr(t) = peak · min(1, t / warmup) · (1 − min(t, T) / T)
// a linear warm-up multiplied by a linear (power-1 polynomial) decay to 0 at T total updates.
// t is the number of updates already applied, so the first update uses t = 0.
//
// Note: with warmup > 0 the very first update therefore has lr = 0 (it still advances Adam's
// moments, and the decoupled weight decay is scaled by lr too, so parameters do not move). This is
// exactly what the official code does (global_step starts at 0) and we keep it for parity.
#include <cstdint>

namespace electra {

struct LearningRateSchedule {
  double peak_learning_rate = 5e-4;
  std::int64_t warmup_steps = 10000;   // 0 disables warm-up
  std::int64_t total_steps = 1000000;  // T: the rate reaches 0 here and stays 0 after

  // Throws electra::Error on a negative rate/warm-up or total_steps ≤ 0.
  void validate() const;
  // The rate for the update that follows `updates_applied` updates; never negative.
  double at(std::int64_t updates_applied) const;
};

}  // namespace electra
