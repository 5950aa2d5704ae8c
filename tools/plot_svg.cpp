// SVG rendering of training curves: see plot_svg.hpp.
#include "tools/plot_svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.hpp"

namespace electra::cli {
namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
// Colour-blind-safe palette (Okabe & Ito).
const char* const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"};

std::string escape_xml(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

// Tick labels: "250k" and "1.5M" for steps, otherwise the shortest of %g.
std::string tick_label(double value, bool abbreviate_thousands) {
  char text[32];
  const double magnitude = std::fabs(value);
  if (abbreviate_thousands && magnitude >= 1e6) {
    std::snprintf(text, sizeof text, "%gM", value / 1e6);
  } else if (abbreviate_thousands && magnitude >= 1e4) {
    std::snprintf(text, sizeof text, "%gk", value / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.4g", std::fabs(value) < 1e-12 ? 0.0 : value);
  }
  return text;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

// [low, high] of the finite values, widened when degenerate so the axis has some extent.
std::pair<double, double> finite_range(const std::vector<const std::vector<double>*>& columns) {
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const auto* column : columns) {
    for (double value : *column) {
      if (std::isfinite(value)) {
        low = std::min(low, value);
        high = std::max(high, value);
      }
    }
  }
  if (!std::isfinite(low)) return {0, 1};
  if (high - low < 1e-12 * std::max(1.0, std::fabs(high))) {
    const double pad = std::max(std::fabs(high) * 0.05, 1e-9);
    return {low - pad, high + pad};
  }
  return {low, high};
}

}  // namespace

std::map<std::string, std::vector<double>> read_metrics_columns(const std::string& path) {
  std::ifstream file(path);
  check(file.good(), "plot: cannot open metrics file ", path);
  std::map<std::string, std::vector<double>> columns;
  std::size_t rows = 0, line_number = 0;
  std::string line;
  while (std::getline(file, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& error) {
      throw_error("plot: ", path, ":", line_number, ": invalid JSON: ", error.what());
    }
    check(object.is_object(), "plot: ", path, ":", line_number, ": expected a JSON object");
    check(object.contains("step") && object["step"].is_number(), "plot: ", path, ":", line_number,
          ": no numeric \"step\"");
    for (const auto& [key, value] : object.items()) {
      if (!value.is_number() && !value.is_null()) continue;  // strings (run names...) are ignored
      std::vector<double>& column = columns[key];
      column.resize(rows, nan_value);  // a key first seen now was missing from earlier lines
      column.push_back(value.is_null() ? nan_value : value.get<double>());
    }
    ++rows;
    for (auto& [key, column] : columns) column.resize(rows, nan_value);
  }
  check(rows > 0, "plot: ", path, ":", line_number + 1, ": no metrics lines (empty file)");
  return columns;
}

std::vector<double> moving_average(const std::vector<double>& values, int window) {
  if (window <= 1) return values;
  std::vector<double> averaged(values.size(), nan_value);
  std::vector<double> recent;  // the last `window` finite values
  double sum = 0;
  std::size_t oldest = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    recent.push_back(values[i]);
    sum += values[i];
    if (recent.size() - oldest > static_cast<std::size_t>(window)) sum -= recent[oldest++];
    averaged[i] = sum / static_cast<double>(recent.size() - oldest);
  }
  return averaged;
}

std::vector<double> nice_ticks(double low, double high, int target_count) {
  check(std::isfinite(low) && std::isfinite(high) && high > low && target_count > 0,
        "plot: bad axis range [", low, ", ", high, "]");
  const double rough = (high - low) / target_count;
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * power;
    if (step >= rough) break;
  }
  std::vector<double> ticks;
  for (double tick = std::ceil(low / step - 1e-9) * step; tick <= high + step * 1e-9;
       tick += step) {
    ticks.push_back(std::fabs(tick) < step * 1e-9 ? 0.0 : tick);
  }
  return ticks;
}

std::string render_svg(const std::vector<PlotPanel>& panels, const std::string& title, int width,
                       int panel_height) {
  const double left = 80, right = 190, top_title = 40, panel_gap = 30, axis_label_space = 45;
  const double plot_width = width - left - right;
  const double plot_height = panel_height - axis_label_space - 30;
  const int height = static_cast<int>(top_title + panels.size() * (panel_height + panel_gap));
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << ' ' << height << "\" font-family=\"sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"26\" text-anchor=\"middle\" font-size=\"18\">"
      << escape_xml(title) << "</text>\n";

  for (std::size_t p = 0; p < panels.size(); ++p) {
    const PlotPanel& panel = panels[p];
    const double top = top_title + p * (panel_height + panel_gap) + 25;
    std::vector<const std::vector<double>*> xs, ys;
    for (const PlotSeries& series : panel.series) {
      xs.push_back(&series.x);
      ys.push_back(&series.y);
    }
    const auto [x_low, x_high] = finite_range(xs);
    auto [y_low, y_high] = panel.unit_interval ? std::pair<double, double>{0, 1} : finite_range(ys);
    if (!panel.unit_interval) {  // a little headroom so curves do not touch the frame
      const double pad = 0.05 * (y_high - y_low);
      y_low -= pad;
      y_high += pad;
    }
    auto to_x = [&](double x) { return left + (x - x_low) / (x_high - x_low) * plot_width; };
    auto to_y = [&](double y) { return top + (1 - (y - y_low) / (y_high - y_low)) * plot_height; };

    svg << "<g class=\"panel\" data-title=\"" << escape_xml(panel.title) << "\">\n"
        << "<text x=\"" << number(left) << "\" y=\"" << number(top - 8)
        << "\" font-size=\"15\" font-weight=\"bold\">" << escape_xml(panel.title) << "</text>\n";
    // Grid and ticks.
    for (double tick : nice_ticks(y_low, y_high, 5)) {
      const double y = to_y(tick);
      svg << "<line x1=\"" << number(left) << "\" y1=\"" << number(y) << "\" x2=\""
          << number(left + plot_width) << "\" y2=\"" << number(y) << "\" stroke=\"#e6e6e6\"/>\n"
          << "<text x=\"" << number(left - 6) << "\" y=\"" << number(y + 4)
          << "\" font-size=\"11\" text-anchor=\"end\">" << tick_label(tick, false) << "</text>\n";
    }
    for (double tick : nice_ticks(x_low, x_high, 8)) {
      const double x = to_x(tick);
      svg << "<line x1=\"" << number(x) << "\" y1=\"" << number(top + plot_height) << "\" x2=\""
          << number(x) << "\" y2=\"" << number(top + plot_height + 5) << "\" stroke=\"black\"/>\n"
          << "<text x=\"" << number(x) << "\" y=\"" << number(top + plot_height + 18)
          << "\" font-size=\"11\" text-anchor=\"middle\">" << tick_label(tick, true) << "</text>\n";
    }
    svg << "<rect x=\"" << number(left) << "\" y=\"" << number(top) << "\" width=\""
        << number(plot_width) << "\" height=\"" << number(plot_height)
        << "\" fill=\"none\" stroke=\"black\"/>\n"
        << "<text x=\"" << number(left + plot_width / 2) << "\" y=\""
        << number(top + plot_height + 36)
        << "\" font-size=\"12\" text-anchor=\"middle\">step</text>\n"
        << "<text transform=\"translate(" << number(left - 55) << ','
        << number(top + plot_height / 2)
        << ") rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">" << escape_xml(panel.y_label)
        << "</text>\n";

    // Curves, clipped to the frame; NaN breaks a curve into separate runs ("M" starts a run).
    svg << "<clipPath id=\"clip" << p << "\"><rect x=\"" << number(left) << "\" y=\"" << number(top)
        << "\" width=\"" << number(plot_width) << "\" height=\"" << number(plot_height)
        << "\"/></clipPath>\n";
    bool any_point = false;
    std::size_t legend_row = 0;
    for (std::size_t s = 0; s < panel.series.size(); ++s) {
      const PlotSeries& series = panel.series[s];
      const bool faint = series.label.ends_with(" (raw)");
      // A raw curve precedes its smoothed twin and shares its colour (the next legend entry's).
      const char* colour = palette[legend_row % std::size(palette)];
      std::string path;
      bool pen_down = false;
      for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
        if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) {
          pen_down = false;
          continue;
        }
        path += (pen_down ? " L" : (path.empty() ? "M" : " M")) + number(to_x(series.x[i])) + ' ' +
                number(to_y(series.y[i]));
        pen_down = true;
        any_point = true;
      }
      svg << "<path class=\"series\" data-label=\"" << escape_xml(series.label) << "\" d=\"" << path
          << "\" fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"" << (faint ? "1" : "1.8")
          << "\"" << (faint ? " stroke-opacity=\"0.3\"" : "") << " clip-path=\"url(#clip" << p
          << ")\"/>\n";
      if (faint) continue;  // the smoothed curve's legend entry stands for both
      const double legend_y = top + 14 + 18 * legend_row++;
      const double legend_x = left + plot_width + 15;
      svg << "<line x1=\"" << number(legend_x) << "\" y1=\"" << number(legend_y - 4) << "\" x2=\""
          << number(legend_x + 22) << "\" y2=\"" << number(legend_y - 4) << "\" stroke=\"" << colour
          << "\" stroke-width=\"2.5\"/>\n"
          << "<text class=\"legend\" x=\"" << number(legend_x + 28) << "\" y=\"" << number(legend_y)
          << "\" font-size=\"12\">" << escape_xml(series.label) << "</text>\n";
    }
    if (!any_point) {
      svg << "<text x=\"" << number(left + plot_width / 2) << "\" y=\""
          << number(top + plot_height / 2)
          << "\" font-size=\"14\" fill=\"#888\" text-anchor=\"middle\">no data</text>\n";
    }
    svg << "</g>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

std::vector<PlotPanel> training_panels(const std::map<std::string, std::vector<double>>& columns,
                                       int smooth) {
  const std::vector<double>& steps = columns.at("step");
  const std::vector<double> missing(steps.size(), nan_value);
  auto series_of = [&](const std::string& key, const std::string& label) {
    std::vector<PlotSeries> result;
    auto found = columns.find(key);
    const std::vector<double>& values = found != columns.end() ? found->second : missing;
    if (smooth > 1) {
      result.push_back({label + " (raw)", steps, values});
      result.push_back({label, steps, moving_average(values, smooth)});
    } else {
      result.push_back({label, steps, values});
    }
    return result;
  };
  auto panel = [&](std::string title, std::string y_label, bool unit_interval,
                   const std::vector<std::pair<std::string, std::string>>& keys) {
    PlotPanel result{std::move(title), std::move(y_label), {}, unit_interval};
    for (const auto& [key, label] : keys) {
      for (PlotSeries& series : series_of(key, label)) result.series.push_back(std::move(series));
    }
    return result;
  };
  // Total = MLM + 50·disc and the MLM loss is ~10× the disc loss: each gets its own axis, or
  // the discriminator curve would be a flat line at the bottom.
  return {
      panel("Total loss", "loss", false, {{"total_loss", "total"}}),
      panel("Generator (MLM) loss", "loss", false, {{"mlm_loss", "mlm (generator)"}}),
      panel("Discriminator loss", "loss", false, {{"disc_loss", "disc (discriminator)"}}),
      panel("Discriminator AUC / accuracy, generator accuracy", "fraction", true,
            {{"disc_auc", "disc AUC"}, {"disc_acc", "disc accuracy"}, {"gen_acc", "gen accuracy"}}),
      // The plain AUC also rewards spotting rare ids; 0.5 here means no judging in context yet.
      panel("Discriminator in context", "AUC", true,
            {{"disc_auc_context", "AUC within token id"},
             {"disc_auc_no_special", "AUC without [CLS]/[SEP]"}})};
}

}  // namespace electra::cli
