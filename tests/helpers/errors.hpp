#pragma once
// The message of an electra::Error, for tests that check what a bad input is told.
#include <string>

#include "engine/error.hpp"

namespace electra::test {

// What error_of returns when the body throws nothing. Not "" on purpose: "" cannot be told from
// an Error with an empty message, and prints as nothing in a failed CHECK; this text holds none
// of the messages the tests look for. Test "no error" with `error_of(body) == no_error`.
inline const std::string no_error = "(no error)";

// The message of the electra::Error thrown by body, or no_error when body returns. Any other
// exception propagates (doctest reports it as a failure).
template <typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return no_error;
}

}  // namespace electra::test
