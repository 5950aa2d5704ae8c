// Progress reporting for the CLI: see progress.hpp.
#include "tools/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace electra::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<std::int64_t>(std::llround(seconds));
  const std::int64_t hours = total / 3600, minutes = total / 60 % 60, secs = total % 60;
  char text[64];
  if (hours > 0) {
    std::snprintf(text, sizeof text, "%lldh%02lldm%02llds", static_cast<long long>(hours),
                  static_cast<long long>(minutes), static_cast<long long>(secs));
  } else if (minutes > 0) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(minutes),
                  static_cast<long long>(secs));
  } else {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(secs));
  }
  return text;
}

std::string format_progress_line(const std::string& label, std::int64_t done, std::int64_t total,
                                 double elapsed_seconds, const std::string& status, int bar_width) {
  std::string line = label;
  char number[96];
  if (total > 0) {
    const double fraction =
        std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
    if (bar_width > 0) {
      const int filled = static_cast<int>(fraction * bar_width);
      line += " [" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "]";
    }
    std::snprintf(number, sizeof number, " %5.1f%% %lld/%lld", 100.0 * fraction,
                  static_cast<long long>(done), static_cast<long long>(total));
    line += number;
  } else {
    std::snprintf(number, sizeof number, " %lld", static_cast<long long>(done));
    line += number;
  }
  if (!status.empty()) line += " | " + status;
  if (total > 0 && done > 0 && done < total) {
    // A linear extrapolation: good enough once the first units (warm-up, caches) are behind us.
    const double remaining =
        elapsed_seconds * static_cast<double>(total - done) / static_cast<double>(done);
    line += " | ETA " + format_duration(remaining);
  } else if (total > 0 && done >= total) {
    line += " | took " + format_duration(elapsed_seconds);
  }
  return line;
}

ProgressBar::ProgressBar(std::string label, std::int64_t total, double plain_interval_seconds,
                         std::FILE* out, Mode mode)
    : label_(std::move(label)),
      total_(total),
      plain_interval_seconds_(plain_interval_seconds),
      out_(out),
      start_(std::chrono::steady_clock::now()) {
  terminal_ = mode == Mode::terminal || (mode == Mode::automatic && isatty(fileno(out_)));
}

ProgressBar::~ProgressBar() {
  if (!finished_) finish(last_status_);
}

double ProgressBar::seconds_since_start() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(std::int64_t done, const std::string& status) {
  last_done_ = done;
  last_status_ = status;
  const double now = seconds_since_start();
  // A terminal is redrawn ~8 times a second (more only flickers); a log gets one line an interval.
  const double interval = terminal_ ? 0.125 : plain_interval_seconds_;
  if (now - last_print_seconds_ < interval) return;
  last_print_seconds_ = now;
  print(done, status, false);
}

void ProgressBar::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  print(last_done_, status.empty() ? last_status_ : status, true);
}

void ProgressBar::print(std::int64_t done, const std::string& status, bool final_line) {
  const std::string line =
      format_progress_line(label_, done, total_, seconds_since_start(), status, terminal_ ? 30 : 0);
  if (terminal_) {
    // Pad with spaces so a shorter line fully covers the previous one.
    const std::size_t padding =
        last_line_length_ > line.size() ? last_line_length_ - line.size() : 0;
    std::fprintf(out_, "\r%s%s%s", line.c_str(), std::string(padding, ' ').c_str(),
                 final_line ? "\n" : "");
    last_line_length_ = line.size();
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace electra::cli
