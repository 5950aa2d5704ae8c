#pragma once
// Runs a shell command (the electra binary) for the CLI tests and captures stdout + stderr.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "helpers/text.hpp"  // contains, for the output checks

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

}  // namespace electra::test
