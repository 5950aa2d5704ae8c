// A shard truncated while it is memory-mapped: the reader's process must stop with one line
// naming the shard (SIGBUS handler, data/mapped_file_guard.hpp), never die without a word.
// Each case runs the reader in a forked child and reads its stderr through a pipe.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/mapped_file_guard.hpp"
#include "data/shard_format.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"

using namespace electra;
using namespace electra::test;
namespace fs = std::filesystem;

namespace {

struct ChildResult {
  bool exited = false;  // false: killed by a signal
  int exit_code = -1;
  int signal_number = 0;
  std::string stderr_text;
};

// Runs `body` in a forked child with stderr sent to a pipe; the child _exits with body's value.
template <typename Body>
ChildResult run_in_child(Body body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], STDERR_FILENO);
    // doctest's own fatal-signal handler may run in the child: keep its report out of the log.
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDOUT_FILENO);
    int code = 90;
    try {
      code = body();
    } catch (...) {
      code = 91;
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  ChildResult result;
  char buffer[4096];
  ssize_t got = 0;
  while ((got = ::read(fds[0], buffer, sizeof buffer)) > 0) result.stderr_text.append(buffer, got);
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  result.exited = WIFEXITED(status);
  result.exit_code = result.exited ? WEXITSTATUS(status) : -1;
  result.signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return result;
}

// A shard of `count` sequences of 64 ids (about 130 KB with 16-bit ids).
std::string make_shard(const fs::path& dir, std::int64_t count) {
  std::vector<PackedSequence> sequences(static_cast<std::size_t>(count));
  for (PackedSequence& sequence : sequences) {
    sequence.ids = {2, 10, 11, 3, 12, 3};
    sequence.segment_a_end = 4;
  }
  const std::string path = (dir / "shard_00000.bin").string();
  write_shard(path, sequences, 64, 100, 0);
  return path;
}

}  // namespace

TEST_CASE("shard reliability: truncating a mapped shard stops the reader with one line naming it") {
  const fs::path dir = scratch_dir("sigbus");
  const std::string path = make_shard(dir, 1000);
  const ChildResult child = run_in_child([&] {
    ShardReader reader(path);
    const std::int64_t last = reader.view().size() - 1;
    // Another process shrinks the file in place (not replaced by rename): the mapped pages past
    // the new end vanish and the next read of one raises SIGBUS.
    if (::truncate(path.c_str(), 4096) != 0) return 92;
    std::vector<std::int32_t> row(64);
    reader.view().copy_ids(last, row.data());
    return 0;  // not reached when the read faults
  });
  INFO("stderr: " << child.stderr_text);
  CHECK(child.exited);  // before the handler: killed by SIGBUS, nothing printed
  CHECK(child.exit_code == mapped_file_sigbus_exit_code);
  CHECK(child.stderr_text.find("electra: shard " + path + " was truncated or replaced") !=
        std::string::npos);
  CHECK(child.stderr_text.find("SIGBUS reading byte ") != std::string::npos);
  CHECK(child.stderr_text.find("electra prepare") != std::string::npos);
  CHECK(std::count(child.stderr_text.begin(), child.stderr_text.end(), '\n') == 1);
  fs::remove_all(dir);
}

TEST_CASE(
    "shard reliability: a closed reader's range is forgotten; a SIGBUS elsewhere still kills") {
  const fs::path dir = scratch_dir("sigbus_other");
  const std::string path = make_shard(dir, 10);
  const ChildResult child = run_in_child([&] {
    { ShardReader reader(path); }  // registers the handler, then unregisters its range
    ::raise(SIGBUS);
    return 0;
  });
  INFO("stderr: " << child.stderr_text);
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan the handler found before ours is ASan's: it reports the SIGBUS and exits 1.
  CHECK(child.exited);
  CHECK(child.exit_code == 1);
  CHECK(child.stderr_text.find("AddressSanitizer: BUS") != std::string::npos);
#else
  CHECK_FALSE(child.exited);
  CHECK(child.signal_number == SIGBUS);
#endif
  CHECK(child.stderr_text.find("electra: shard") == std::string::npos);
  fs::remove_all(dir);
}
