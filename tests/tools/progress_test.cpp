// The progress reporter: line formatting, ETA, and both output modes written to a file.
#include "tools/progress.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>

using namespace electra::cli;

namespace {

std::string contents_of(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;) text += static_cast<char>(c);
  return text;
}

}  // namespace

TEST_CASE("progress: durations and lines") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(65) == "1m05s");
  CHECK(format_duration(3723) == "1h02m03s");
  CHECK(format_duration(-1) == "?");
  // A quarter done in 10 s: 30 s to go.
  CHECK(format_progress_line("prepare", 25, 100, 10.0, "3 MB/s", 8) ==
        "prepare [##......]  25.0% 25/100 | 3 MB/s | ETA 30s");
  CHECK(format_progress_line("train", 100, 100, 75.0, "", 4) ==
        "train [####] 100.0% 100/100 | took 1m15s");
  CHECK(format_progress_line("scan", 42, 0, 3.0, "x", 10) == "scan 42 | x");
}

TEST_CASE("progress: plain mode prints whole lines; terminal mode redraws with carriage returns") {
  std::FILE* log = std::tmpfile();
  REQUIRE(log != nullptr);
  {
    ProgressBar bar("steps", 10, 3600.0, log, ProgressBar::Mode::plain);
    CHECK_FALSE(bar.is_terminal());
    for (int i = 1; i <= 10; ++i) bar.update(i, "loss 1.0");  // only the first is due
    bar.finish("done");
  }
  const std::string plain = contents_of(log);
  CHECK(plain.find('\r') == std::string::npos);
  CHECK(plain.find("steps  10.0% 1/10 | loss 1.0") != std::string::npos);
  CHECK(plain.find("steps 100.0% 10/10 | done") != std::string::npos);
  CHECK(std::count(plain.begin(), plain.end(), '\n') == 2);
  std::fclose(log);

  std::FILE* terminal = std::tmpfile();
  REQUIRE(terminal != nullptr);
  {
    ProgressBar bar("steps", 4, 10.0, terminal, ProgressBar::Mode::terminal);
    bar.update(1, "a much longer status text");
  }  // the destructor finishes the line
  const std::string redrawn = contents_of(terminal);
  CHECK(redrawn.rfind("\rsteps [", 0) == 0);
  CHECK(std::count(redrawn.begin(), redrawn.end(), '\r') == 2);
  CHECK(redrawn.back() == '\n');
  std::fclose(terminal);
}
