#pragma once
// The one exception type of electra.cpp. Messages name the op, file, flag or value at fault;
// the CLI prints them on one line and exits non-zero.
#include <sstream>
#include <stdexcept>
#include <string>

namespace electra {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from any streamable parts: throw_error("gemm: ", a.shape(), " vs ", b.shape()).
template <typename... Parts>
[[noreturn]] void throw_error(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}

// Checks a condition on user-facing input; unlike assert it stays on in release builds.
template <typename... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) throw_error(parts...);
}

}  // namespace electra

// check() for the kernels and ops that run thousands of times per step: the message parts are
// evaluated only when the condition fails. (A function's arguments are always evaluated, and
// parts like tensor.describe() build strings: ~1% of a training step.)
#define ELECTRA_CHECK(condition, ...)                                 \
  do {                                                                \
    if (!(condition)) ::electra::throw_error(__VA_ARGS__);            \
  } while (false)

namespace electra {

}  // namespace electra
