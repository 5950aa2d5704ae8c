#pragma once
// Where `electra prepare` writes: a staging directory next to --out, swapped into place only once
// the new shard set (shards + meta.json) is complete. A kill at any moment leaves --out holding
// either the old complete set or the new one, plus at worst the staging directory, which the
// next prepare removes.
//
//   parent/.NAME.prepare-tmp   the set being built (or, just after the swap, the old set)
//   parent/.NAME.prepare-old   the old set, only while a swap without RENAME_EXCHANGE runs
//   parent/.NAME.prepare-lock  flock'ed while a prepare writes NAME: a second one is refused
//
// The swap is renameat2(RENAME_EXCHANGE), one atomic step. Where the file system lacks it, two
// renames (out → old, tmp → out); a kill between them leaves the old set at .prepare-old, and
// the next prepare moves it back before anything else.
#include <cstdint>
#include <string>

namespace electra {

class ShardSetStaging {
 public:
  // Refuses (one line) an --out that is not a directory, holds files other than a shard set,
  // or holds shards of another vocabulary or seq_len unless `overwrite`; takes the lock, cleans
  // up after an interrupted prepare, and creates an empty staging directory.
  ShardSetStaging(const std::string& out_dir, bool overwrite, const std::string& vocab_sha256,
                  std::int64_t seq_len);
  // Removes the staging directory unless commit() ran; releases the lock.
  ~ShardSetStaging();
  ShardSetStaging(const ShardSetStaging&) = delete;
  ShardSetStaging& operator=(const ShardSetStaging&) = delete;

  // The directory to write shards and meta.json into.
  const std::string& dir() const { return staging_; }
  // Puts the staged set at --out and removes the old one.
  void commit();

  // The staging directory prepare would use for `out_dir` (tests look for leftovers).
  static std::string staging_path(const std::string& out_dir);

 private:
  std::string out_;
  std::string staging_;
  std::string old_;
  int lock_fd_ = -1;
  bool committed_ = false;
};

}  // namespace electra
