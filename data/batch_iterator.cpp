#include "data/batch_iterator.hpp"

#include <numeric>

#include "engine/error.hpp"
#include "engine/philox.hpp"

namespace electra {
namespace {
constexpr std::uint32_t shuffle_stream = 0x53485546u;  // "SHUF"; + epoch (mod 2^32)
}

BatchIterator::BatchIterator(const std::string& shard_dir, std::uint64_t seed, bool shuffle)
    : info_(read_shard_set_info(shard_dir)), seed_(seed), shuffle_(shuffle) {
  for (std::size_t s = 0; s < info_.shard_files.size(); ++s) {
    auto reader = std::make_unique<ShardReader>(info_.shard_files[s]);
    const ShardView& view = reader->view();
    check(view.seq_len() == info_.seq_len, info_.shard_files[s], ": seq_len ", view.seq_len(),
          " but meta.json says ", info_.seq_len);
    check(view.vocab_size() == info_.vocab_size, info_.shard_files[s], ": vocab_size ",
          view.vocab_size(), " but meta.json says ", info_.vocab_size);
    for (std::int64_t i = 0; i < view.size(); ++i) {
      locations_.push_back({static_cast<std::int32_t>(s), i});
    }
    shards_.push_back(std::move(reader));
  }
  check(size() == info_.sequences, shard_dir, ": shards hold ", size(),
        " sequences, meta.json says ", info_.sequences);
  check(size() > 0, shard_dir, ": no sequences");
}

void BatchIterator::build_order(std::int64_t epoch) {
  if (order_epoch_ == epoch) return;
  order_.resize(locations_.size());
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
  if (shuffle_) {
    // Fisher–Yates from the back: swap i with a uniform j in [0, i]. 64-bit draws from two words
    // keep the modulo bias below 2^-32 for any realistic corpus.
    const auto stream =
        static_cast<std::uint32_t>(shuffle_stream + static_cast<std::uint64_t>(epoch));
    for (std::int64_t i = size() - 1; i > 0; --i) {
      const std::uint64_t draw = (std::uint64_t{philox::uniform_word(seed_, stream, 2 * i)} << 32) |
                                 philox::uniform_word(seed_, stream, 2 * i + 1);
      const auto j = static_cast<std::int64_t>(draw % static_cast<std::uint64_t>(i + 1));
      std::swap(order_[i], order_[j]);
    }
  }
  order_epoch_ = epoch;
}

std::int64_t BatchIterator::sequence_at(std::int64_t epoch, std::int64_t offset) {
  check(offset >= 0 && offset < size(), "BatchIterator: offset ", offset, " outside [0, ", size(),
        ")");
  build_order(epoch);
  return order_[offset];
}

void BatchIterator::set_position(const DataPosition& position) {
  // The epoch is bounded so that moving to the next one can never overflow (a hand-edited
  // trainer_state.json may hold anything); 2^40 epochs is far beyond any run.
  check(position.epoch >= 0 && position.epoch <= max_epoch && position.offset >= 0 &&
            position.offset < size(),
        "BatchIterator: position {epoch ", position.epoch, ", offset ", position.offset,
        "} is outside epochs [0, ", max_epoch, "] of ", size(), " sequences (another shard set?)");
  position_ = position;
}

void BatchIterator::skip(std::int64_t sequences) {
  check(sequences >= 0, "BatchIterator::skip: ", sequences, " sequences must be ≥ 0");
  // Epoch by epoch, like next(): the same arithmetic, without building any epoch's order.
  const std::int64_t total = position_.offset + sequences % size();
  position_ = {position_.epoch + sequences / size() + total / size(), total % size()};
}

PackedBatch BatchIterator::next(std::int64_t batch_size) {
  check(batch_size > 0, "BatchIterator::next: batch size ", batch_size, " must be positive");
  const std::int64_t seq_len = info_.seq_len;
  PackedBatch batch;
  batch.input_ids = Tensor::empty({batch_size, seq_len}, DType::i32);
  batch.token_type_ids = Tensor::empty({batch_size, seq_len}, DType::i32);
  batch.attention_mask = Tensor::empty({batch_size, seq_len}, DType::i32);
  std::int32_t* ids = batch.input_ids.data<std::int32_t>();
  std::int32_t* types = batch.token_type_ids.data<std::int32_t>();
  std::int32_t* mask = batch.attention_mask.data<std::int32_t>();
  for (std::int64_t row = 0; row < batch_size; ++row) {
    const Location where = locations_[sequence_at(position_.epoch, position_.offset)];
    const ShardView& view = shards_[where.shard]->view();
    view.copy_ids(where.index, ids + row * seq_len);
    const std::int32_t length = view.length(where.index);
    const std::int32_t a_end = view.segment_a_end(where.index);
    for (std::int64_t t = 0; t < seq_len; ++t) {
      types[row * seq_len + t] = (t >= a_end && t < length) ? 1 : 0;
      mask[row * seq_len + t] = t < length ? 1 : 0;
    }
    if (++position_.offset == size()) position_ = {position_.epoch + 1, 0};
  }
  return batch;
}

}  // namespace electra
