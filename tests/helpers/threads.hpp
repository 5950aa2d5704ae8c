#pragma once
// Runs a computation at two thread counts, for the checks that a result does not depend on them.
#include <functional>
#include <utility>

#include "engine/threads.hpp"

namespace electra::test {

// Runs body once on one thread and once on two; restores the previous setting.
template <typename Result>
std::pair<Result, Result> on_one_and_two_threads(const std::function<Result()>& body) {
  const int previous = num_threads();
  set_num_threads(1);
  Result one = body();
  set_num_threads(2);
  Result two = body();
  set_num_threads(previous);
  return {one, two};
}

}  // namespace electra::test
