#pragma once
// Subcommands of the `electra` CLI. Each lives in its own tools/cmd_<name>.cpp and registers
// itself with a static CommandRegistration, so adding a command touches no other file.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tools/flag_checks.hpp"  // the numeric ->check(...)s every command uses

namespace electra::cli {

struct Command {
  std::string name;
  std::string summary;
  // Adds the subcommand's options to `app` and returns the function that runs it (exit code).
  std::function<std::function<int()>(CLI::App& app)> setup;
};

std::vector<Command>& command_registry();

struct CommandRegistration {
  explicit CommandRegistration(Command command) {
    command_registry().push_back(std::move(command));
  }
};

}  // namespace electra::cli
