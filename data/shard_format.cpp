#include "data/shard_format.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "data/mapped_file_guard.hpp"
#include "engine/error.hpp"

namespace electra {
namespace {
static_assert(std::endian::native == std::endian::little,
              "shard files are little-endian; a big-endian host needs byte swapping here");

constexpr char shard_magic[8] = {'E', 'L', 'S', 'H', 'A', 'R', 'D', '\0'};
constexpr std::size_t record_bytes = 4;

std::size_t align64(std::size_t offset) { return (offset + 63) / 64 * 64; }

template <typename T>
T load(const std::uint8_t* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}
}  // namespace

void write_shard(const std::string& path, std::span<const PackedSequence> sequences,
                 std::int64_t seq_len, std::int32_t vocab_size, std::int32_t pad_id) {
  const std::uint32_t id_bytes = vocab_size <= 65536 ? 2 : 4;
  ShardHeader header{};
  std::memcpy(header.magic, shard_magic, sizeof(shard_magic));
  header.version = shard_format_version;
  header.seq_len = static_cast<std::uint32_t>(seq_len);
  header.sequence_count = sequences.size();
  header.id_bytes = id_bytes;
  header.vocab_size = static_cast<std::uint32_t>(vocab_size);

  const std::size_t ids_offset = align64(sizeof(ShardHeader) + sequences.size() * record_bytes);
  std::vector<std::uint8_t> bytes(ids_offset + sequences.size() * seq_len * id_bytes, 0);
  std::memcpy(bytes.data(), &header, sizeof(header));
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const PackedSequence& sequence = sequences[i];
    check(static_cast<std::int64_t>(sequence.ids.size()) <= seq_len, "write_shard: sequence ", i,
          " has ", sequence.ids.size(), " ids, more than seq_len ", seq_len);
    const std::uint16_t record[2] = {static_cast<std::uint16_t>(sequence.ids.size()),
                                     static_cast<std::uint16_t>(sequence.segment_a_end)};
    std::memcpy(bytes.data() + sizeof(ShardHeader) + i * record_bytes, record, record_bytes);
    std::uint8_t* row = bytes.data() + ids_offset + i * seq_len * id_bytes;
    for (std::int64_t t = 0; t < seq_len; ++t) {
      const std::int32_t id =
          t < static_cast<std::int64_t>(sequence.ids.size()) ? sequence.ids[t] : pad_id;
      if (id_bytes == 2) {
        const auto narrow = static_cast<std::uint16_t>(id);
        std::memcpy(row + t * 2, &narrow, 2);
      } else {
        std::memcpy(row + t * 4, &id, 4);
      }
    }
  }
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  check(file != nullptr, "write_shard: cannot create ", temporary);
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  const bool closed = std::fclose(file) == 0;
  check(written && closed, "write_shard: write error in ", temporary, " (disk full?)");
  std::filesystem::rename(temporary, path);
}

ShardView::ShardView(const std::uint8_t* bytes, std::size_t size, const std::string& source) {
  check(size >= sizeof(ShardHeader), source, ": not a shard (", size, " bytes, header needs 64)");
  ShardHeader header;
  std::memcpy(&header, bytes, sizeof(header));
  check(std::memcmp(header.magic, shard_magic, sizeof(shard_magic)) == 0, source,
        ": not a shard (bad magic)");
  check(header.version == shard_format_version, source, ": shard format version ", header.version,
        ", this build reads ", shard_format_version);
  check(header.seq_len >= min_seq_len && header.seq_len <= max_seq_len, source, ": seq_len ",
        header.seq_len, " outside [", min_seq_len, ", ", max_seq_len, "]");
  check(header.id_bytes == 2 || header.id_bytes == 4, source, ": id_bytes ", header.id_bytes,
        " (expected 2 or 4)");
  check(header.vocab_size >= 5 && header.vocab_size <= (1u << 30), source, ": vocab_size ",
        header.vocab_size, " is implausible");
  check(header.id_bytes == 4 || header.vocab_size <= 65536, source, ": vocab_size ",
        header.vocab_size, " does not fit 16-bit ids");
  // Sizes are checked against the file before any multiplication can overflow.
  const std::uint64_t max_count = size / record_bytes;
  check(header.sequence_count <= max_count, source, ": sequence count ", header.sequence_count,
        " does not fit in ", size, " bytes");
  const std::size_t count = header.sequence_count;
  const std::size_t ids_offset = align64(sizeof(ShardHeader) + count * record_bytes);
  const std::size_t row_bytes = std::size_t{header.seq_len} * header.id_bytes;
  check(ids_offset <= size && (size - ids_offset) / row_bytes >= count &&
            ids_offset + count * row_bytes == size,
        source, ": file has ", size, " bytes, expected ", ids_offset + count * row_bytes, " for ",
        count, " sequences");

  records_ = bytes + sizeof(ShardHeader);
  ids_ = bytes + ids_offset;
  count_ = static_cast<std::int64_t>(count);
  seq_len_ = header.seq_len;
  id_bytes_ = static_cast<std::int32_t>(header.id_bytes);
  vocab_size_ = static_cast<std::int32_t>(header.vocab_size);
  std::vector<std::int32_t> row(seq_len_);
  for (std::int64_t i = 0; i < count_; ++i) {
    const std::int32_t sequence_length = length(i), a_end = segment_a_end(i);
    check(sequence_length >= 2 && sequence_length <= seq_len_, source, ": sequence ", i,
          " has length ", sequence_length, " (seq_len ", seq_len_, ")");
    check(a_end >= 2 && a_end <= sequence_length, source, ": sequence ", i, " has segment A end ",
          a_end, " outside [2, ", sequence_length, "]");
    copy_ids(i, row.data());
    for (std::int64_t t = 0; t < seq_len_; ++t) {
      check(row[t] >= 0 && row[t] < vocab_size_, source, ": sequence ", i, " position ", t,
            " has id ", row[t], " outside the vocabulary of ", vocab_size_);
    }
  }
}

std::int32_t ShardView::length(std::int64_t index) const {
  return load<std::uint16_t>(records_ + index * record_bytes);
}

std::int32_t ShardView::segment_a_end(std::int64_t index) const {
  return load<std::uint16_t>(records_ + index * record_bytes + 2);
}

void ShardView::copy_ids(std::int64_t index, std::int32_t* out) const {
  const std::uint8_t* row = ids_ + index * seq_len_ * id_bytes_;
  if (id_bytes_ == 2) {
    for (std::int64_t t = 0; t < seq_len_; ++t) out[t] = load<std::uint16_t>(row + 2 * t);
  } else {
    for (std::int64_t t = 0; t < seq_len_; ++t) out[t] = load<std::int32_t>(row + 4 * t);
  }
}

ShardReader::ShardReader(const std::string& path) : path_(path) {
  const int descriptor = ::open(path.c_str(), O_RDONLY);
  check(descriptor >= 0, "shard: cannot open ", path);
  struct stat info {};
  if (::fstat(descriptor, &info) != 0) {
    ::close(descriptor);
    throw_error("shard: cannot stat ", path);
  }
  mapped_bytes_ = static_cast<std::size_t>(info.st_size);
  if (mapped_bytes_ > 0) {
    mapping_ = ::mmap(nullptr, mapped_bytes_, PROT_READ, MAP_PRIVATE, descriptor, 0);
  }
  ::close(descriptor);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw_error("shard: cannot map ", path);
  }
  // Registered before validation: that reads every page, and the file may shrink meanwhile.
  if (mapping_ != nullptr) guard_slot_ = register_mapped_file(mapping_, mapped_bytes_, path);
  try {
    view_ = ShardView(static_cast<const std::uint8_t*>(mapping_), mapped_bytes_, path);
  } catch (...) {
    unregister_mapped_file(guard_slot_);
    if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
    throw;
  }
}

ShardReader::~ShardReader() {
  unregister_mapped_file(guard_slot_);
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
}

}  // namespace electra
