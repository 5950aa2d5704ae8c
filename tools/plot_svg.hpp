#pragma once
// Training curves as a self-contained SVG (no scripts, fonts or files it points to), for
// `electra plot`: panels stacked vertically, each with axes, "nice" ticks, labels and a legend.
// Undefined values (NaN, JSON null) leave gaps in a curve instead of being drawn as 0.
#include <map>
#include <string>
#include <vector>

namespace electra::cli {

struct PlotSeries {
  std::string label;      // legend text; also the data-label attribute of its <path>
  std::vector<double> x;  // steps
  std::vector<double> y;  // same length; NaN = gap
};

struct PlotPanel {
  std::string title;
  std::string y_label;
  std::vector<PlotSeries> series;
  bool unit_interval = false;  // fix the y range to [0, 1] (accuracies, AUC)
};

// Columns of a metrics JSON Lines file: "step" and every numeric key seen, each as long as the
// number of lines (NaN where a line has null or lacks the key). Blank lines are skipped.
// Throws electra::Error naming the file (and the line) when it is missing, empty or invalid.
std::map<std::string, std::vector<double>> read_metrics_columns(const std::string& path);

// Trailing moving average over the last `window` finite values (window ≤ 1: unchanged); NaN
// entries stay NaN and do not count.
std::vector<double> moving_average(const std::vector<double>& values, int window);

// Round tick positions covering [low, high] with about `target_count` ticks at 1, 2 or 5 × 10^k.
std::vector<double> nice_ticks(double low, double high, int target_count);

// The complete SVG document.
std::string render_svg(const std::vector<PlotPanel>& panels, const std::string& title,
                       int width = 960, int panel_height = 300);

// The standard panels of `electra plot`: total loss; MLM loss; discriminator loss;
// discriminator AUC and accuracy with generator accuracy. smooth > 1 adds a moving average on
// top of each (then faint) raw curve.
std::vector<PlotPanel> training_panels(const std::map<std::string, std::vector<double>>& columns,
                                       int smooth);

}  // namespace electra::cli
