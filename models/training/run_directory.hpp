#pragma once
// The run directory of `electra pretrain` (--out) as a whole:
//   .lock           an exclusive flock held by the one run writing here, holding its pid
//   step-*/         checkpoints (models/training/checkpoint.hpp)
//   metrics.jsonl   one line per logged update
//   curves.svg      drawn from metrics.jsonl at the end of a run
//   .tmp-*          a save or rewrite in progress; litter once its writer died
// Every function below except the lock itself assumes the caller holds the lock, so nothing it
// removes or rewrites can belong to a live writer.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace electra {

// An exclusive advisory lock (flock) on <run_dir>/.lock for the lifetime of the object. A second
// holder, in this or another process, is refused with one line naming the holder's pid. The lock
// goes with the process however it ends (kill -9 included); the file stays, empty of meaning.
class RunDirectoryLock {
 public:
  explicit RunDirectoryLock(const std::filesystem::path& run_dir);
  ~RunDirectoryLock();
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

 private:
  int descriptor_ = -1;
};

// Removes what interrupted runs leave behind: every .tmp-* entry (a save or rewrite whose writer
// died: disk full, kill -9) and every empty step-* directory (a kill while an old checkpoint was
// being deleted). Returns the names removed, for the log.
std::vector<std::string> remove_run_directory_litter(const std::filesystem::path& run_dir);

// The names of what a previous run left in run_dir (step-* directories, metrics.jsonl,
// curves.svg), sorted; empty when a new run may start there.
std::vector<std::string> previous_run_files(const std::filesystem::path& run_dir);
// Deletes exactly those (never anything else in the directory): `--overwrite`.
void remove_previous_run(const std::filesystem::path& run_dir);

// Keeps the lines of metrics.jsonl with step ≤ `step` (and drops lines cut by a crash), writing
// the result to a temporary file that is fsync'd and renamed over the original: a kill at any
// moment leaves either the old or the new file, never an empty one.
void trim_metrics_after(const std::filesystem::path& metrics_path, std::int64_t step);

}  // namespace electra
