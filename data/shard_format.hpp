#pragma once
// The binary shard file: memory-mappable, little-endian, fixed-size records so sequence i is
// found by arithmetic alone.
//
//   offset 0   header (64 bytes)
//              char[8]  magic "ELSHARD\0"     u32 version (1)      u32 seq_len L
//              u64      sequence count N      u32 id_bytes (2 or 4) u32 vocab_size
//              u64[4]   reserved (0)
//   offset 64  N records of { u16 length, u16 segment_a_end }   (4 bytes each)
//   then, at the next multiple of 64: N × L token ids (u16 when the vocabulary fits, else i32),
//              each row padded with [PAD] after `length` tokens.
// A reader checks everything (magic, version, sizes, lengths, ids < vocab_size) before use, so
// a truncated or corrupt file is one error message, never an out-of-bounds read.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/packing.hpp"

namespace electra {

constexpr std::uint32_t shard_format_version = 1;
constexpr std::int64_t min_seq_len = 8;
constexpr std::int64_t max_seq_len = 512;  // max_position_embeddings of every preset

struct ShardHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t seq_len;
  std::uint64_t sequence_count;
  std::uint32_t id_bytes;
  std::uint32_t vocab_size;
  std::uint64_t reserved[4];
};
static_assert(sizeof(ShardHeader) == 64);

// Writes one shard file (to a temporary name, then renamed). sequences: each ≤ seq_len ids.
void write_shard(const std::string& path, std::span<const PackedSequence> sequences,
                 std::int64_t seq_len, std::int32_t vocab_size, std::int32_t pad_id);

// A validated view over shard bytes (a mapped file, or a buffer in tests and the fuzzer).
class ShardView {
 public:
  ShardView() = default;
  // Throws electra::Error prefixed with `source` when the bytes are not a valid shard.
  ShardView(const std::uint8_t* bytes, std::size_t size, const std::string& source);

  std::int64_t size() const { return count_; }
  std::int64_t seq_len() const { return seq_len_; }
  std::int32_t vocab_size() const { return vocab_size_; }
  std::int32_t length(std::int64_t index) const;
  std::int32_t segment_a_end(std::int64_t index) const;
  // Copies row `index` (L ids, padding included) into out[0, L).
  void copy_ids(std::int64_t index, std::int32_t* out) const;

 private:
  const std::uint8_t* records_ = nullptr;
  const std::uint8_t* ids_ = nullptr;
  std::int64_t count_ = 0;
  std::int64_t seq_len_ = 0;
  std::int32_t id_bytes_ = 2;
  std::int32_t vocab_size_ = 0;
};

// A shard file mapped read-only (mmap); the mapping lives as long as the reader. The mapping is
// registered with data/mapped_file_guard.hpp, so a file truncated while it is read ends the
// process with one line naming it instead of a bare SIGBUS.
class ShardReader {
 public:
  explicit ShardReader(const std::string& path);
  ~ShardReader();
  ShardReader(const ShardReader&) = delete;
  ShardReader& operator=(const ShardReader&) = delete;
  const ShardView& view() const { return view_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* mapping_ = nullptr;
  std::size_t mapped_bytes_ = 0;
  int guard_slot_ = -1;
  ShardView view_;
};

}  // namespace electra
