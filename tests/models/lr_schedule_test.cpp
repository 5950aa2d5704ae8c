// The warm-up × linear-decay schedule, values worked out by hand.
#include "models/training/lr_schedule.hpp"

#include <doctest/doctest.h>

using namespace electra;

TEST_CASE("lr_schedule: warm-up times linear decay, t = updates already applied") {
  const LearningRateSchedule schedule{1e-3, 10, 100};
  // The first update uses t = 0: with warm-up its rate is 0, as in the official code.
  CHECK(schedule.at(0) == 0.0);
  CHECK(schedule.at(1) == doctest::Approx(1e-3 * 0.1 * 0.99).epsilon(1e-12));
  CHECK(schedule.at(5) == doctest::Approx(1e-3 * 0.5 * 0.95).epsilon(1e-12));
  CHECK(schedule.at(10) == doctest::Approx(1e-3 * 0.9).epsilon(1e-12));
  CHECK(schedule.at(50) == doctest::Approx(1e-3 * 0.5).epsilon(1e-12));
  CHECK(schedule.at(99) == doctest::Approx(1e-3 * 0.01).epsilon(1e-12));
  CHECK(schedule.at(100) == 0.0);
  CHECK(schedule.at(250) == 0.0);  // clamped, never negative
  CHECK(schedule.at(-3) == 0.0);
}

TEST_CASE("lr_schedule: no warm-up starts at the peak; bad settings are refused") {
  const LearningRateSchedule schedule{5e-4, 0, 4};
  CHECK(schedule.at(0) == 5e-4);
  CHECK(schedule.at(1) == doctest::Approx(5e-4 * 0.75).epsilon(1e-12));
  CHECK(schedule.at(4) == 0.0);
  CHECK_THROWS_WITH((LearningRateSchedule{1e-3, 10, 0}.at(0)), doctest::Contains("total_steps"));
  CHECK_THROWS_WITH((LearningRateSchedule{1e-3, -1, 10}.at(0)), doctest::Contains("warmup_steps"));
  CHECK_THROWS_WITH((LearningRateSchedule{-1e-3, 1, 10}.at(0)), doctest::Contains("learning rate"));
}
