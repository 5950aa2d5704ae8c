#pragma once
// Batches from a shard directory (meta.json + mmap'd shard files), in a shuffled order that is a
// pure function of (seed, epoch): epoch e visits every sequence once, in the order of a
// Fisher–Yates shuffle whose draws are Philox words at (seed, stream "SHUF" + e). A batch that
// runs past the end of an epoch continues with the next epoch's order, so every batch is full.
// The position is {epoch, offset}: restoring it in a new iterator over the same shards gives
// exactly the batches the first one would have given next.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/batch.hpp"
#include "data/shard_format.hpp"
#include "data/shards.hpp"

namespace electra {

struct DataPosition {
  std::int64_t epoch = 0;
  std::int64_t offset = 0;  // sequences of this epoch already handed out
  bool operator==(const DataPosition&) const = default;
};
// {"epoch": e, "offset": o} in trainer_state.json.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DataPosition, epoch, offset)

class BatchIterator {
 public:
  BatchIterator(const std::string& shard_dir, std::uint64_t seed, bool shuffle = true);

  // input_ids / token_type_ids / attention_mask, i32 [batch_size, seq_len].
  PackedBatch next(std::int64_t batch_size);
  // Moves past `sequences` sequences without reading them (the batches other ranks of a
  // data-parallel run take): afterwards the iterator is where `next` over them would leave it.
  void skip(std::int64_t sequences);

  static constexpr std::int64_t max_epoch = std::int64_t{1} << 40;
  DataPosition position() const { return position_; }
  // Throws when the offset is outside the epoch (a position from another shard set) or the epoch
  // outside [0, max_epoch].
  void set_position(const DataPosition& position);

  std::int64_t size() const { return static_cast<std::int64_t>(locations_.size()); }
  std::int64_t seq_len() const { return info_.seq_len; }
  const ShardSetInfo& info() const { return info_; }
  // The global sequence index at `offset` of `epoch` (for tests and inspection).
  std::int64_t sequence_at(std::int64_t epoch, std::int64_t offset);

 private:
  void build_order(std::int64_t epoch);

  struct Location {
    std::int32_t shard;
    std::int64_t index;
  };
  ShardSetInfo info_;
  std::uint64_t seed_;
  bool shuffle_;
  std::vector<std::unique_ptr<ShardReader>> shards_;
  std::vector<Location> locations_;
  std::vector<std::int64_t> order_;  // permutation of the current order_epoch_
  std::int64_t order_epoch_ = -1;
  DataPosition position_;
};

}  // namespace electra
