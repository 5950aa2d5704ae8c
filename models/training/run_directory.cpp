// The run directory: its lock, its litter, its previous run and the metrics rewrite. See
// run_directory.hpp.
#include "models/training/run_directory.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.hpp"
#include "models/training/checkpoint.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

const char* const lock_file = ".lock";
const char* const temporary_prefix = ".tmp-";

}  // namespace

RunDirectoryLock::RunDirectoryLock(const fs::path& run_dir) {
  const fs::path path = run_dir / lock_file;
  descriptor_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  check(descriptor_ >= 0, "pretrain: cannot open the lock file ", path.string(), ": ",
        std::strerror(errno));
  if (::flock(descriptor_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {};
    const ssize_t got = ::pread(descriptor_, holder, sizeof holder - 1, 0);
    ::close(descriptor_);
    descriptor_ = -1;
    check(error == EWOULDBLOCK, "pretrain: cannot lock ", path.string(), ": ",
          std::strerror(error));
    std::string pid = got > 0 ? std::string(holder, static_cast<std::size_t>(got)) : "";
    pid.erase(std::remove_if(pid.begin(), pid.end(), [](char c) { return c < '0' || c > '9'; }),
              pid.end());
    throw_error("pretrain: --out ", run_dir.string(), " is in use by another run (",
                pid.empty() ? std::string("a process") : "pid " + pid, " holds ", path.string(),
                "); wait for it to end or choose another --out");
  }
  // The pid is for the message above only: the flock, not the file's content, is the lock.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(descriptor_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(descriptor_, pid.data(), pid.size(), 0);
  }
}

RunDirectoryLock::~RunDirectoryLock() {
  if (descriptor_ >= 0) ::close(descriptor_);  // closing the last descriptor releases the flock
}

std::vector<std::string> remove_run_directory_litter(const fs::path& run_dir) {
  std::vector<std::string> removed;
  std::error_code error;
  if (!fs::is_directory(run_dir, error)) return removed;
  for (const fs::directory_entry& entry : fs::directory_iterator(run_dir)) {
    const std::string name = entry.path().filename().string();
    const bool temporary = name.rfind(temporary_prefix, 0) == 0;
    const bool empty_step = step_of_directory_name(name) >= 0 && entry.is_directory(error) &&
                            fs::is_empty(entry.path(), error);
    if (!temporary && !empty_step) continue;
    fs::remove_all(entry.path(), error);
    check(!error, "pretrain: cannot remove the leftover ", entry.path().string(), ": ",
          error.message());
    removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::vector<std::string> previous_run_files(const fs::path& run_dir) {
  std::vector<std::string> found;
  std::error_code error;
  if (!fs::is_directory(run_dir, error)) return found;
  for (const fs::directory_entry& entry : fs::directory_iterator(run_dir)) {
    const std::string name = entry.path().filename().string();
    if (step_of_directory_name(name) >= 0 || name == "metrics.jsonl" || name == "curves.svg")
      found.push_back(name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

void remove_previous_run(const fs::path& run_dir) {
  for (const std::string& name : previous_run_files(run_dir)) {
    std::error_code error;
    fs::remove_all(run_dir / name, error);
    check(!error, "pretrain: --overwrite: cannot remove ", (run_dir / name).string(), ": ",
          error.message());
  }
}

void trim_metrics_after(const fs::path& metrics_path, std::int64_t step) {
  std::error_code error;
  if (!fs::exists(metrics_path, error)) return;
  std::ifstream in(metrics_path);
  check(in.good(), "pretrain: cannot read ", metrics_path.string());
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("step").get<std::int64_t>() > step) continue;
    } catch (const nlohmann::json::exception&) {
      continue;  // a line cut by a crash
    }
    kept << line << '\n';
  }
  in.close();
  // The temporary name starts with .tmp-, so a kill before the rename leaves litter that the
  // next start removes, and the original untouched.
  const fs::path temporary = metrics_path.parent_path() /
                             (std::string(temporary_prefix) + metrics_path.filename().string());
  write_file_durably(temporary, kept.str());
  fs::rename(temporary, metrics_path, error);
  check(!error, "pretrain: cannot replace ", metrics_path.string(), ": ", error.message());
  sync_directory(metrics_path.parent_path().empty() ? fs::path(".") : metrics_path.parent_path());
}

}  // namespace electra
