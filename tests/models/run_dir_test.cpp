// The run directory as a whole: one writer at a time (flock, also across processes), litter of
// interrupted runs removed, a previous run found and deleted only on request, and metrics.jsonl
// trimmed by writing a new file rather than cutting the old one.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/error.hpp"
#include "helpers/scratch.hpp"
#include "models/training/run_directory.hpp"

using namespace electra;
namespace fs = std::filesystem;
using namespace electra::test;

namespace {

std::string lock_error(const fs::path& dir) {
  try {
    RunDirectoryLock lock(dir);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("run directory: a second lock is refused naming the holder's pid, and freed with it") {
  const fs::path dir = scratch_dir("lock");
  {
    RunDirectoryLock first(dir);
    const std::string error = lock_error(dir);
    CHECK(error.find("in use") != std::string::npos);
    CHECK(error.find("pid " + std::to_string(::getpid())) != std::string::npos);
    CHECK(error.find((dir / ".lock").string()) != std::string::npos);
  }
  CHECK(lock_error(dir).empty());  // released with the object

  // Another process: a child holds the lock until killed (as kill -9 would end a run).
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      RunDirectoryLock held(dir);
      [[maybe_unused]] const ssize_t written = ::write(ready[1], "1", 1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  const std::string error = lock_error(dir);
  CHECK_MESSAGE(error.find("pid " + std::to_string(child)) != std::string::npos, error);
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(lock_error(dir).empty());  // the lock died with its holder
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove_all(dir);
}

TEST_CASE(
    "run directory: leftovers of interrupted runs are removed, checkpoints and other files kept") {
  const fs::path dir = scratch_dir("litter");
  fs::create_directories(dir / ".tmp-step-000004-99999");  // a save that died (disk full, kill)
  write_file(dir / ".tmp-step-000004-99999" / "model.safetensors", "partial");
  write_file(dir / ".tmp-metrics.jsonl", "{}\n");  // a metrics rewrite that died
  fs::create_directories(dir / "step-000002");     // a kill while deleting an old checkpoint
  fs::create_directories(dir / "step-000006");     // a real checkpoint
  write_file(dir / "step-000006" / "trainer_state.json", "{}");
  write_file(dir / "notes.txt", "mine");

  const std::vector<std::string> removed = remove_run_directory_litter(dir);
  CHECK(removed ==
        std::vector<std::string>{".tmp-metrics.jsonl", ".tmp-step-000004-99999", "step-000002"});
  CHECK(fs::exists(dir / "step-000006" / "trainer_state.json"));
  CHECK(fs::exists(dir / "notes.txt"));
  CHECK(!fs::exists(dir / "step-000002"));
  CHECK(remove_run_directory_litter(dir).empty());
  fs::remove_all(dir);
}

TEST_CASE("run directory: a previous run is found, and --overwrite deletes only its files") {
  const fs::path dir = scratch_dir("previous");
  write_file(dir / "notes.txt", "mine");
  CHECK(previous_run_files(dir).empty());
  fs::create_directories(dir / "step-000002");
  write_file(dir / "metrics.jsonl", "{\"step\":1}\n");
  write_file(dir / "curves.svg", "<svg/>");
  CHECK(previous_run_files(dir) ==
        std::vector<std::string>{"curves.svg", "metrics.jsonl", "step-000002"});
  remove_previous_run(dir);
  CHECK(previous_run_files(dir).empty());
  CHECK(read_text(dir / "notes.txt") == "mine");
  CHECK(previous_run_files(dir / "absent").empty());
  fs::remove_all(dir);
}

TEST_CASE("run directory: trimming metrics.jsonl writes a new file, the old one is never cut") {
  const fs::path dir = scratch_dir("trim");
  const fs::path metrics = dir / "metrics.jsonl";
  const std::string original = "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n{\"step\":4,\"lo";
  write_file(metrics, original);
  // A second name for the original file: an in-place truncation (the old code) would cut it too,
  // which is exactly what a kill in the middle of the rewrite left behind as 0 bytes.
  fs::create_hard_link(metrics, dir / "before.jsonl");
  trim_metrics_after(metrics, 2);
  CHECK(read_text(metrics) == "{\"step\":1}\n{\"step\":2}\n");
  CHECK(read_text(dir / "before.jsonl") == original);
  CHECK(!fs::exists(dir / ".tmp-metrics.jsonl"));
  trim_metrics_after(dir / "absent.jsonl", 2);  // nothing to trim is fine
  CHECK(!fs::exists(dir / "absent.jsonl"));
  fs::remove_all(dir);
}
