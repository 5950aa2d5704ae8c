#pragma once
// String checks of the tests (error messages, CLI output).
#include <string>

namespace electra::test {

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace electra::test
