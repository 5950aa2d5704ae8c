// BatchIterator: shuffled epochs that are a permutation, exact resume from a saved position.
#include "data/batch_iterator.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <set>

#include "data/vocab.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"

using namespace electra;
using namespace electra::test;

namespace {
const std::filesystem::path& prepared_sample() {
  static const std::filesystem::path dir = [] {
    const auto out = scratch_dir("iterator");
    PrepareSettings settings = sample_settings(out, 64);
    settings.sequences_per_shard = 500;  // several shards
    prepare_shards(settings);
    return out;
  }();
  return dir;
}

std::vector<std::int32_t> ids_of(const PackedBatch& batch) {
  const std::int32_t* data = batch.input_ids.data<std::int32_t>();
  return {data, data + batch.input_ids.numel()};
}
}  // namespace

TEST_CASE("batch iterator: each epoch visits every sequence once in a seed-dependent order") {
  BatchIterator iterator(prepared_sample().string(), 7);
  const std::int64_t n = iterator.size();
  REQUIRE(n > 1000);
  std::set<std::int64_t> seen;
  std::int64_t in_place = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    seen.insert(iterator.sequence_at(0, i));
    in_place += iterator.sequence_at(0, i) == i ? 1 : 0;
  }
  CHECK(static_cast<std::int64_t>(seen.size()) == n);
  CHECK(in_place < 10);  // a shuffle, not the identity
  std::int64_t same_next_epoch = 0;
  for (std::int64_t i = 0; i < n; ++i)
    same_next_epoch += iterator.sequence_at(0, i) == iterator.sequence_at(1, i);
  CHECK(same_next_epoch < 10);
  BatchIterator unshuffled(prepared_sample().string(), 7, false);
  CHECK(unshuffled.sequence_at(3, 5) == 5);
}

TEST_CASE("batch iterator: batches have the packed layout") {
  BatchIterator iterator(prepared_sample().string(), 1);
  const PackedBatch batch = iterator.next(16);
  CHECK(batch.input_ids.shape() == Shape{16, 64});
  const SpecialTokens special = Vocab::from_file(sample_vocab).special();
  const std::int32_t* ids = batch.input_ids.data<std::int32_t>();
  const std::int32_t* types = batch.token_type_ids.data<std::int32_t>();
  const std::int32_t* mask = batch.attention_mask.data<std::int32_t>();
  for (std::int64_t row = 0; row < 16; ++row) {
    std::int64_t length = 0;
    while (length < 64 && mask[row * 64 + length] == 1) ++length;
    for (std::int64_t t = length; t < 64; ++t) {
      CHECK(mask[row * 64 + t] == 0);
      CHECK(types[row * 64 + t] == 0);
    }
    // Token types: 0…0 then 1…1 up to the last token, never back to 0 inside the sequence.
    for (std::int64_t t = 1; t < length; ++t) CHECK(types[row * 64 + t] >= types[row * 64 + t - 1]);
    CHECK(types[row * 64] == 0);
    CHECK(ids[row * 64] == special.cls);
    CHECK(ids[row * 64 + length - 1] == special.sep);
  }
}

TEST_CASE("batch iterator: a restored position gives exactly the same next batches") {
  BatchIterator first(prepared_sample().string(), 11);
  const std::int64_t n = first.size();
  // Run past an epoch boundary so the position carries an epoch > 0.
  const std::int64_t batch_size = 48;
  const std::int64_t steps = n / batch_size + 3;
  for (std::int64_t i = 0; i < steps; ++i) first.next(batch_size);
  const DataPosition saved = first.position();
  CHECK(saved.epoch == 1);
  std::vector<std::vector<std::int32_t>> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(ids_of(first.next(batch_size)));

  // Through JSON, as a checkpoint stores it.
  const nlohmann::json stored = saved;
  CHECK(stored.dump() == "{\"epoch\":1,\"offset\":" + std::to_string(saved.offset) + "}");
  BatchIterator resumed(prepared_sample().string(), 11);
  resumed.set_position(stored.get<DataPosition>());
  for (int i = 0; i < 5; ++i) CHECK(ids_of(resumed.next(batch_size)) == expected[i]);
  CHECK(resumed.position() == first.position());

  BatchIterator other_seed(prepared_sample().string(), 12);
  other_seed.set_position(saved);
  CHECK(ids_of(other_seed.next(batch_size)) != expected[0]);
  CHECK_THROWS_AS(resumed.set_position({0, n}), Error);
  CHECK_THROWS_AS(resumed.set_position({-1, 0}), Error);
  // A hand-edited epoch near 2^63 overflowed (UBSan) when that epoch ended; it is refused now.
  CHECK_THROWS_WITH_AS(resumed.set_position({std::numeric_limits<std::int64_t>::max(), n - 1}),
                       doctest::Contains("epoch"), Error);
  resumed.set_position({BatchIterator::max_epoch, n - 1});
  resumed.next(1);  // the last epoch allowed still moves on to the next one without overflow
  CHECK(resumed.position() == DataPosition{BatchIterator::max_epoch + 1, 0});
}

TEST_CASE("batch iterator: a directory without meta.json is an error") {
  const auto dir = scratch_dir("no_meta");
  CHECK_THROWS_WITH_AS(BatchIterator(dir.string(), 1), doctest::Contains("meta.json"), Error);
}
