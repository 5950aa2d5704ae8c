#pragma once
// Runs a shell command (the electra binary) for the CLI tests and captures stdout + stderr.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace electra::test {

inline const std::string electra_binary = ELECTRA_BINARY;

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline Run run_command(const std::string& command) {
  Run run;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, got);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Also used by tests that check error messages without running the binary.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace electra::test
