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

// Checks a condition on user-facing input; unlike assert it stays on in release builds. This is
// the one check vocabulary of engine/ and autograd/ops/, and it is lazy: the parts are taken by
// reference and formatted only when the condition fails, so pass a Tensor or Shape itself (it
// prints its description), never a string built from it (tensor.describe(), shape.str()), which
// would be built on every call.
template <typename... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) throw_error(parts...);
}

}  // namespace electra
