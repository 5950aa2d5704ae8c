// `electra audit --dot FILE`: the tape of one training step written as Graphviz DOT (Tape::to_dot),
// through the binary as a user runs it; flag errors are one line and a non-zero exit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "helpers/cli_run.hpp"
#include "helpers/scratch.hpp"
#include "helpers/text.hpp"

namespace fs = std::filesystem;
using namespace electra::test;

namespace {

std::size_t lines_of(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("audit --dot: writes the tape of one tiny training step as a DOT graph") {
  const fs::path dir = scratch_dir("step");
  const fs::path dot_file = dir / "step.dot";
  const Run run = run_command(electra_binary + " audit --dot " + dot_file.string());
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.output, dot_file.string()));
  const std::string dot = read_text(dot_file);
  REQUIRE(dot.rfind("digraph", 0) == 0);
  CHECK(dot.back() == '\n');
  CHECK(dot.substr(dot.size() - 2) == "}\n");
  // The ops of an ELECTRA step: both networks' layers and both losses.
  for (const char* op : {"embedding", "linear", "layer_norm", "self_attention", "gelu",
                         "cross_entropy", "bce_with_logits"}) {
    INFO(op);
    CHECK(contains(dot, std::string("label=\"") + op + " #"));
  }
  // Parameters are drawn as named, filled leaves.
  CHECK(contains(dot, "style=filled"));
  CHECK(contains(dot, "discriminator."));
  CHECK(contains(dot, "generator."));
  // Every edge joins declared nodes, and the op count printed is the number of op boxes.
  std::set<std::string> declared;
  std::size_t boxes = 0, edges = 0;
  std::istringstream lines(dot);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t arrow = line.find(" -> ");
    if (arrow != std::string::npos) {
      const std::string from = line.substr(2, arrow - 2);
      const std::string to = line.substr(arrow + 4, line.find(' ', arrow + 4) - arrow - 4);
      INFO(line);
      CHECK(declared.count(from) == 1);
      CHECK(declared.count(to) == 1);
      ++edges;
    } else if (line.find(" [shape=") != std::string::npos) {
      declared.insert(line.substr(2, line.find(' ', 2) - 2));
      if (contains(line, "shape=box")) ++boxes;
    }
  }
  CHECK(boxes > 20);
  CHECK(edges > boxes);
  CHECK(contains(run.output, ", " + std::to_string(boxes) + " ops,"));
  // Graphviz renders it where it is installed (it is not a build dependency).
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    const Run render =
        run_command("dot -Tsvg " + dot_file.string() + " -o " + (dir / "step.svg").string());
    INFO(render.output);
    CHECK(render.exit_code == 0);
    CHECK(contains(read_text(dir / "step.svg"), "<svg"));
  } else {
    MESSAGE("graphviz (dot) is not installed: the rendering check did not run");
  }
}

TEST_CASE("audit --dot: an unwritable path or a conflicting flag is a one-line error") {
  const fs::path dir = scratch_dir("errors");
  const std::string missing = (dir / "no_such_dir" / "step.dot").string();
  const Run bad_path = run_command(electra_binary + " audit --dot " + missing);
  INFO(bad_path.output);
  CHECK(bad_path.exit_code != 0);
  CHECK(lines_of(bad_path.output) == 1);
  CHECK(contains(bad_path.output, "--dot"));
  CHECK(contains(bad_path.output, missing));
  CHECK_FALSE(fs::exists(missing));

  const Run with_model =
      run_command(electra_binary + " audit --model tiny --dot " + (dir / "step.dot").string());
  INFO(with_model.output);
  CHECK(with_model.exit_code != 0);
  CHECK(lines_of(with_model.output) == 1);
  CHECK(contains(with_model.output, "--dot cannot be combined"));
  CHECK_FALSE(fs::exists(dir / "step.dot"));
}

TEST_CASE("audit --help documents --dot") {
  const Run help = run_command(electra_binary + " audit --help");
  INFO(help.output);
  CHECK(help.exit_code == 0);
  CHECK(contains(help.output, "--dot"));
  CHECK(contains(help.output, "Graphviz DOT"));
}
