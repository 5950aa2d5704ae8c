#pragma once
// A small progress reporter for long commands (pretrain, prepare). On a terminal it redraws one
// line of stderr with '\r' (bar, fraction, caller's status, ETA) at most a few times a second;
// when stderr is a file or a pipe (CI logs, nohup) it prints one plain line per interval instead,
// so logs stay readable and are not flooded with carriage returns.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace electra::cli {

// "1h02m03s", "4m05s", "12s" — whole seconds; "?" for negative or non-finite input.
std::string format_duration(double seconds);

// One progress line without the leading '\r', e.g.
//   "prepare [#########...........]  45.0% 450/1000 | 3.2 MB/s | ETA 1m10s"
// total ≤ 0 means "unknown": no bar, no percentage, no ETA. bar_width 0 leaves the bar out.
std::string format_progress_line(const std::string& label, std::int64_t done, std::int64_t total,
                                 double elapsed_seconds, const std::string& status, int bar_width);

class ProgressBar {
 public:
  enum class Mode { automatic, terminal, plain };
  // total: the number of units expected (≤ 0 if unknown). plain_interval_seconds: time between
  // log lines when not on a terminal. `out` defaults to stderr; Mode::automatic picks terminal
  // when isatty(out).
  ProgressBar(std::string label, std::int64_t total, double plain_interval_seconds = 10.0,
              std::FILE* out = stderr, Mode mode = Mode::automatic);
  ~ProgressBar();  // finishes the line if finish() was not called
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Reports `done` units so far with a status string; prints only when due (cheap to call often).
  void update(std::int64_t done, const std::string& status = {});
  // Prints the final state once (always), ending the terminal line with '\n'.
  void finish(const std::string& status = {});
  void set_total(std::int64_t total) { total_ = total; }
  bool is_terminal() const { return terminal_; }

 private:
  void print(std::int64_t done, const std::string& status, bool final_line);
  double seconds_since_start() const;

  std::string label_;
  std::int64_t total_;
  double plain_interval_seconds_;
  std::FILE* out_;
  bool terminal_ = false;
  bool finished_ = false;
  std::int64_t last_done_ = 0;
  std::string last_status_;
  std::size_t last_line_length_ = 0;
  std::chrono::steady_clock::time_point start_;
  double last_print_seconds_ = -1e300;
};

}  // namespace electra::cli
