// electra: pre-train ELECTRA text encoders from scratch. Every subcommand is a file of its own
// (tools/cmd_*.cpp); this file parses the common flags, dispatches, and turns errors into one line.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "engine/error.hpp"
#include "engine/threads.hpp"
#include "tools/command.hpp"
#include "tools/version.hpp"

namespace electra::cli {
std::vector<Command>& command_registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

// CLI11 prints the message and then "Run with --help for more information."; ours is one line in
// the form of every other error, naming the subcommand, so the last line printed says what is
// wrong ("electra: error: finetune: --batch: must be a positive integer, got 0").
std::string parse_failure_line(const CLI::App* app, const CLI::Error& error) {
  std::string line = "electra: error: ";
  for (const CLI::App* sub : app->get_subcommands()) line += sub->get_name() + ": ";
  // After the syntax checks (add_numeric_syntax_checks) a failed conversion can only be a value
  // too large for a 32-bit option; CLI11 says "Could not convert: --threads = 5000000000".
  const std::string what = error.what(), prefix = "Could not convert: ";
  const std::size_t equals = what.find(" = ");
  if (error.get_name() == "ConversionError" && what.rfind(prefix, 0) == 0 &&
      equals != std::string::npos)
    return line + what.substr(prefix.size(), equals - prefix.size()) + ": '" +
           what.substr(equals + 3) + "' is out of range\n";
  line += what;
  // A bad value is named by the message itself; a missing or unknown flag wants the list.
  if (error.get_name() != "ValidationError") line += " (run with --help for the flags)";
  return line + "\n";
}

}  // namespace
}  // namespace electra::cli

int main(int argc, char** argv) {
  using namespace electra;
  CLI::App app{"electra — pre-train ELECTRA text encoders from scratch (CPU and CUDA)", "electra"};
  app.set_version_flag("--version", std::string("electra ") + ELECTRA_VERSION_STRING);
  int threads = 0;
  app.add_option("--threads", threads,
                 "threads for oneTBB, which also splits the matrix products (0 = all cores)")
      ->check(cli::non_negative_integer());
  app.require_subcommand(1);
  app.failure_message(cli::parse_failure_line);
  app.fallthrough();  // `electra pretrain --threads 2` works as well as `electra --threads 2
                      // pretrain`

  auto& commands = cli::command_registry();
  std::sort(commands.begin(), commands.end(),
            [](const cli::Command& a, const cli::Command& b) { return a.name < b.name; });
  std::function<int()> run;
  for (const cli::Command& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    auto runner = std::make_shared<std::function<int()>>(command.setup(*sub));
    sub->callback([&run, runner] { run = *runner; });
  }
  cli::add_numeric_syntax_checks(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    set_num_threads(threads);
    return run ? run() : 1;
  } catch (const Error& error) {
    std::fprintf(stderr, "electra: error: %s\n", error.what());
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "electra: error: %s\n", error.what());
    return 1;
  }
}
