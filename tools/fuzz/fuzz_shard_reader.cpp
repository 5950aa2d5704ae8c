// libFuzzer target: arbitrary bytes as a shard file. The reader must either reject them with
// electra::Error or accept them, and then every accessor must stay inside the buffer (ASan checks)
// and return what the validation promised.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "data/shard_format.hpp"
#include "engine/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy sized exactly, so reading one byte past the end is caught.
  std::vector<std::uint8_t> bytes(data, data + size);
  try {
    const electra::ShardView view(bytes.data(), bytes.size(), "fuzz");
    std::vector<std::int32_t> row(static_cast<std::size_t>(view.seq_len()));
    for (std::int64_t i = 0; i < view.size(); ++i) {
      const std::int32_t length = view.length(i), a_end = view.segment_a_end(i);
      if (length < 2 || length > view.seq_len() || a_end < 2 || a_end > length) std::abort();
      view.copy_ids(i, row.data());
      for (std::int32_t id : row) {
        if (id < 0 || id >= view.vocab_size()) std::abort();
      }
    }
  } catch (const electra::Error&) {
    // rejected: fine
  }
  return 0;
}
