// prepare's output directory: checks on the old set, a lock, a staging directory, the swap.
#include "data/shard_set_staging.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

// --out made absolute, without a trailing slash or dots ("shards/" and "." name a directory),
// symbolic links resolved: a link to a directory on another disk keeps its shards there.
fs::path normalised(const std::string& out_dir) {
  fs::path path = fs::weakly_canonical(fs::absolute(out_dir));
  if (path.filename().empty() && path.has_parent_path()) path = path.parent_path();
  return path;
}

fs::path sibling(const std::string& out_dir, const char* suffix) {
  const fs::path out = normalised(out_dir);
  std::string name = ".";  // appended step by step: GCC 12 warns (-Wrestrict) on "." + a + b
  name += out.filename().string();
  name += suffix;
  return out.parent_path() / name;
}

// What prepare itself writes into a shard directory; anything else there is the user's.
bool is_shard_set_file(const fs::path& path) {
  const std::string name = path.filename().string();
  if (name == "meta.json" || name == "meta.json.tmp") return true;
  return name.rfind("shard_", 0) == 0 && (name.ends_with(".bin") || name.ends_with(".bin.tmp"));
}

nlohmann::json read_meta(const fs::path& path) {
  std::ifstream in(path);
  check(in.good(), "prepare: cannot read ", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw_error(path.string(), ": not valid JSON (", error.what(),
                "); pass --overwrite to replace it");
  }
}

// The old set may be replaced: same vocabulary and seq_len, or --overwrite. Foreign files never
// are, since the whole directory is swapped out.
void check_old_set(const fs::path& out, const std::string& given, bool overwrite,
                   const std::string& vocab_sha256, std::int64_t seq_len) {
  check(fs::is_directory(out), "prepare: --out ", given, " is not a directory");
  bool has_shards = false;
  for (const auto& entry : fs::directory_iterator(out)) {
    check(is_shard_set_file(entry.path()), "prepare: --out ", given, " holds ",
          entry.path().filename().string(), ", which is not part of a shard set; prepare replaces ",
          "the whole directory, so choose an empty or new --out");
    has_shards |= entry.path().filename().string() != "meta.json";
  }
  if (overwrite) return;
  const fs::path meta_path = out / "meta.json";
  if (fs::exists(meta_path)) {
    const nlohmann::json meta = read_meta(meta_path);
    const std::string old_vocab = meta.value("vocab_sha256", std::string("?"));
    const std::int64_t old_seq_len = meta.value("seq_len", std::int64_t{-1});
    check(old_vocab == vocab_sha256, "prepare: --out ", given,
          " holds shards built with another vocabulary (sha256 ", old_vocab.substr(0, 12),
          "…, this one ", vocab_sha256.substr(0, 12), "…); pass --overwrite to replace them");
    check(old_seq_len == seq_len, "prepare: --out ", given, " holds shards of seq_len ",
          old_seq_len, ", not ", seq_len, "; pass --overwrite to replace them");
  } else {
    check(!has_shards, "prepare: --out ", given,
          " holds shard files without meta.json; pass --overwrite to replace them");
  }
}

void remove_tree(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);
  check(!error, "prepare: cannot remove ", path.string(), " (", error.message(), ")");
}

}  // namespace

std::string ShardSetStaging::staging_path(const std::string& out_dir) {
  return sibling(out_dir, ".prepare-tmp").string();
}

ShardSetStaging::ShardSetStaging(const std::string& out_dir, bool overwrite,
                                 const std::string& vocab_sha256, std::int64_t seq_len) {
  check(!out_dir.empty(), "prepare: --out is required");
  const fs::path out = normalised(out_dir);
  out_ = out.string();
  staging_ = staging_path(out_dir);
  old_ = sibling(out_dir, ".prepare-old").string();
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path());

  const std::string lock_path = sibling(out_dir, ".prepare-lock").string();
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  check(lock_fd_ >= 0, "prepare: cannot create the lock file ", lock_path, " (",
        std::strerror(errno), ")");
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw_error("prepare: another `electra prepare` is writing --out ", out_dir, " (it holds ",
                lock_path, "); wait for it to finish");
  }
  try {
    // A kill between the two renames of a fallback swap: the old set goes back first.
    if (!fs::exists(out) && fs::exists(old_)) fs::rename(old_, out);
    remove_tree(old_);
    remove_tree(staging_);  // an interrupted build, or an old set whose removal was cut short
    if (fs::exists(out)) check_old_set(out, out_dir, overwrite, vocab_sha256, seq_len);
    fs::create_directory(staging_);
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
}

ShardSetStaging::~ShardSetStaging() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove_all(staging_, ignored);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void ShardSetStaging::commit() {
  if (!fs::exists(out_)) {
    fs::rename(staging_, out_);
  } else if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, out_.c_str(), RENAME_EXCHANGE) !=
             0) {
    check(errno == EINVAL || errno == ENOSYS || errno == ENOTSUP, "prepare: cannot move ", staging_,
          " to ", out_, " (", std::strerror(errno), ")");
    fs::rename(out_, old_);
    fs::rename(staging_, out_);
    staging_ = old_;  // what is left to remove
  }
  committed_ = true;
  // Now the old set. The new one is in place whatever happens here: a failure (or a kill) only
  // leaves the old set behind for the next prepare to remove.
  std::error_code ignored;
  fs::remove_all(staging_, ignored);
}

}  // namespace electra
