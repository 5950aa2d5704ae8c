// `electra plot metrics.jsonl -o curves.svg [--smooth N]`: training curves from a metrics log
// as one self-contained SVG (total, MLM and discriminator loss panels, then an accuracy/AUC panel).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/error.hpp"
#include "tools/command.hpp"
#include "tools/plot_svg.hpp"

namespace electra::cli {
namespace {

struct PlotOptions {
  std::string metrics_path;
  std::string output_path;
  int smooth = 1;
  std::string title;
};

int run_plot(const PlotOptions& options) {
  const auto columns = read_metrics_columns(options.metrics_path);
  std::string output = options.output_path;
  if (output.empty())
    output = std::filesystem::path(options.metrics_path).replace_extension(".svg").string();
  const std::string title = options.title.empty()
                                ? std::filesystem::path(options.metrics_path).filename().string()
                                : options.title;
  const std::vector<PlotPanel> panels = training_panels(columns, options.smooth);
  const std::string svg = render_svg(panels, title);
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  check(file.good(), "plot: cannot create ", output);
  file << svg;
  file.close();
  check(!file.fail(), "plot: write error in ", output);
  std::printf("plot: wrote %s (%zu logged steps, %zu panels)\n", output.c_str(),
              columns.at("step").size(), panels.size());
  return 0;
}

const CommandRegistration registration{Command{
    "plot", "draw loss and accuracy curves from a metrics.jsonl as an SVG",
    [](CLI::App& app) -> std::function<int()> {
      auto options = std::make_shared<PlotOptions>();
      app.add_option("metrics", options->metrics_path,
                     "metrics JSON Lines file written by pretrain")
          ->required();
      app.add_option("-o,--output", options->output_path,
                     "SVG to write (default: metrics path with .svg)");
      app.add_option("--smooth", options->smooth, "moving-average window in logged steps (1 = off)")
          ->check(positive_integer());
      app.add_option("--title", options->title, "title above the panels (default: the file name)");
      return [options] { return run_plot(*options); };
    }}};

}  // namespace
}  // namespace electra::cli
