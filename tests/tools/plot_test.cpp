// `electra plot`: the CLI on a generated metrics log (panels, curves, labels in the SVG), the
// error cases, and the helpers (ticks, smoothing, column reading).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "helpers/scratch.hpp"
#include "tools/plot_svg.hpp"

using namespace electra::cli;
namespace fs = std::filesystem;
using namespace electra::test;

namespace {

fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() /
         ("electra_plot_test_" + std::to_string(::getpid()) + "_" + name);
}

// Runs the CLI, returning its exit status and (stdout + stderr) text.
std::pair<int, std::string> run_electra(const std::string& arguments) {
  const fs::path output = scratch("cli_output.txt");
  const std::string command =
      std::string(ELECTRA_BINARY) + " " + arguments + " > " + output.string() + " 2>&1";
  const int status = std::system(command.c_str());
  std::string text = read_text(output);
  fs::remove(output);
  return {WEXITSTATUS(status), text};
}

// 50 logged steps of plausible curves; the first line has a null AUC (one class only).
void write_metrics(const fs::path& path) {
  std::ofstream file(path);
  for (int i = 0; i < 50; ++i) {
    const double step = 100.0 * i;
    const double mlm = 2 + 8 * std::exp(-i / 10.0), disc = 0.2 + 0.5 * std::exp(-i / 8.0);
    file << "{\"step\":" << step << ",\"total_loss\":" << mlm + 50 * disc << ",\"mlm_loss\":" << mlm
         << ",\"disc_loss\":" << disc << ",\"gen_acc\":" << 0.5 * (1 - std::exp(-i / 15.0))
         << ",\"disc_acc\":" << 0.85 + 0.1 * i / 50.0 << ",\"disc_auc\":"
         << (i == 0 ? std::string("null") : std::to_string(0.6 + 0.3 * i / 50.0))
         << ",\"disc_auc_context\":" << 0.5 + 0.1 * i / 50.0
         << ",\"disc_auc_no_special\":" << 0.55 + 0.3 * i / 50.0 << ",\"lr\":0.001}\n";
  }
}

}  // namespace

TEST_CASE("plot: electra plot draws loss and discriminator panels with labels and a legend") {
  const fs::path metrics = scratch("metrics.jsonl"), svg_path = scratch("curves.svg");
  write_metrics(metrics);
  const auto [status, output] =
      run_electra("plot " + metrics.string() + " -o " + svg_path.string() + " --smooth 5");
  INFO(output);
  REQUIRE(status == 0);
  CHECK(output.find("50 logged steps") != std::string::npos);
  const std::string svg = read_text(svg_path);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  for (const char* text :
       {"data-title=\"Total loss\"", "data-title=\"Generator (MLM) loss\"",
        "data-title=\"Discriminator loss\"", "data-label=\"total\"",
        "data-label=\"mlm (generator)\"", "data-label=\"disc (discriminator)\"",
        "data-label=\"disc AUC\"", "data-label=\"disc accuracy\"", "data-label=\"gen accuracy\"",
        "data-label=\"total (raw)\"", "data-title=\"Discriminator in context\"",
        "data-label=\"AUC within token id\"", "data-label=\"AUC without [CLS]/[SEP]\"",
        ">step</text>", ">fraction</text>", "class=\"legend\""}) {
    CHECK_MESSAGE(svg.find(text) != std::string::npos, text);
  }
  // Self-contained: nothing external is referenced.
  CHECK(svg.find("href") == std::string::npos);
  CHECK(svg.find("<script") == std::string::npos);
  // The step axis reaches 4900: ticks up to 4000 at least are labelled.
  CHECK(svg.find(">4000</text>") != std::string::npos);
  // Each curve has one point per step (49 "L" after the first "M"), except AUC's first null.
  const std::size_t total = svg.find("data-label=\"total (raw)\" d=\"M");
  REQUIRE(total != std::string::npos);
  const std::string total_path = svg.substr(total, svg.find('"', total + 30) - total);
  CHECK(std::count(total_path.begin(), total_path.end(), 'L') == 49);
  fs::remove(metrics);
  fs::remove(svg_path);
}

TEST_CASE("plot: a missing, empty or invalid metrics file is a one-line error naming it") {
  const fs::path metrics = scratch("bad.jsonl");
  {
    const auto [status, output] = run_electra("plot " + metrics.string() + " -o /dev/null");
    CHECK(status != 0);
    CHECK(output.find("cannot open metrics file " + metrics.string()) != std::string::npos);
    CHECK(std::count(output.begin(), output.end(), '\n') == 1);
  }
  std::ofstream(metrics) << "";
  {
    const auto [status, output] = run_electra("plot " + metrics.string() + " -o /dev/null");
    CHECK(status != 0);
    CHECK(output.find(metrics.string() + ":1: no metrics lines") != std::string::npos);
  }
  std::ofstream(metrics) << "{\"step\": 1, \"total_loss\": 3}\n\n{\"step\": 2, \"total_loss\": \n";
  {
    const auto [status, output] = run_electra("plot " + metrics.string() + " -o /dev/null");
    CHECK(status != 0);
    CHECK(output.find(metrics.string() + ":3: invalid JSON") != std::string::npos);
    CHECK(std::count(output.begin(), output.end(), '\n') == 1);
  }
  std::ofstream(metrics) << "{\"total_loss\": 3}\n";
  CHECK_THROWS_WITH(read_metrics_columns(metrics.string()),
                    doctest::Contains(":1: no numeric \"step\""));
  fs::remove(metrics);
}

TEST_CASE("plot: columns, smoothing and ticks") {
  const fs::path metrics = scratch("columns.jsonl");
  std::ofstream(metrics)
      << "{\"step\":1,\"a\":1.5}\n{\"step\":2,\"a\":null,\"b\":4,\"name\":\"run\"}\n";
  const auto columns = read_metrics_columns(metrics.string());
  CHECK(columns.at("step") == std::vector<double>{1, 2});
  CHECK(columns.at("a")[0] == 1.5);
  CHECK(std::isnan(columns.at("a")[1]));
  CHECK(std::isnan(columns.at("b")[0]));  // key first seen on line 2
  CHECK(columns.at("b")[1] == 4);
  CHECK(columns.count("name") == 0);
  fs::remove(metrics);

  const double nan = std::nan("");
  const std::vector<double> averaged = moving_average({1, 3, nan, 5, 7}, 2);
  CHECK(averaged[0] == 1);
  CHECK(averaged[1] == 2);
  CHECK(std::isnan(averaged[2]));
  CHECK(averaged[3] == 4);  // last two finite: 3 and 5
  CHECK(averaged[4] == 6);
  CHECK(moving_average({1, 2}, 1) == std::vector<double>{1, 2});

  CHECK(nice_ticks(0, 1, 5) == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
  const std::vector<double> ticks = nice_ticks(3.2, 47.9, 5);
  CHECK(ticks.front() == 10);
  CHECK(ticks.back() == 40);
  CHECK(ticks.size() == 4);
  CHECK(nice_ticks(0, 4900, 8) ==
        std::vector<double>{0, 1000, 2000, 3000, 4000});  // step 1000 ≥ 4900/8
  CHECK_THROWS(nice_ticks(1, 1, 5));
}
