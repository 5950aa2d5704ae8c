// libFuzzer target: arbitrary bytes as a safetensors file (models/formats/safetensors.hpp), the
// format of every checkpoint and HF model electra loads. The parser must either refuse them with a
// one-line electra::Error or return tensors that are exactly the file's data section, in order,
// with sizes that match shape × dtype; what it accepts must survive a write/read round trip.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "engine/error.hpp"
#include "models/formats/safetensors.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();  // libFuzzer reports the input that got here
}

std::uint64_t read_u64_le(const char* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

void check_round_trip(const electra::SafetensorsContents& contents) {
  // The writer refuses empty names (the reader, like the reference one, accepts them).
  for (const electra::NamedTensor& entry : contents.tensors)
    if (entry.name.empty()) return;
  const std::string again = electra::serialize_safetensors(contents.tensors, contents.metadata);
  const electra::SafetensorsContents reread = electra::parse_safetensors(again, "round trip");
  require(reread.metadata == contents.metadata);
  require(reread.tensors.size() == contents.tensors.size());
  for (std::size_t i = 0; i < reread.tensors.size(); ++i) {
    const electra::Tensor& a = contents.tensors[i].tensor;
    const electra::Tensor& b = reread.tensors[i].tensor;
    require(reread.tensors[i].name == contents.tensors[i].name);
    require(a.shape() == b.shape() && a.dtype() == b.dtype() && a.nbytes() == b.nbytes());
    require(a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A heap copy sized exactly, so reading one byte past the end is caught by ASan.
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  electra::SafetensorsContents contents;
  try {
    contents = electra::parse_safetensors(bytes, "fuzz.safetensors");
  } catch (const electra::Error& error) {
    require(std::strchr(error.what(), '\n') == nullptr);  // refused in one line
    return 0;
  }
  // Accepted: the tensors tile the data section exactly, in data order.
  require(size >= 8);
  const std::uint64_t header_length = read_u64_le(bytes.data());
  require(header_length <= size - 8);
  std::uint64_t offset = 8 + header_length;
  std::set<std::string> names;
  for (const electra::NamedTensor& entry : contents.tensors) {
    const electra::Tensor& tensor = entry.tensor;
    require(entry.name != "__metadata__" && names.insert(entry.name).second);
    require(tensor.defined() && tensor.device() == electra::Device::cpu);
    std::int64_t numel = 1;
    for (std::int64_t dim : tensor.shape().dims()) numel *= dim;
    require(tensor.numel() == numel);
    require(tensor.nbytes() ==
            static_cast<std::size_t>(numel) * electra::dtype_size(tensor.dtype()));
    require(tensor.nbytes() <= size - offset);
    require(tensor.nbytes() == 0 ||
            std::memcmp(tensor.raw(), bytes.data() + offset, tensor.nbytes()) == 0);
    offset += tensor.nbytes();
  }
  require(offset == size);
  check_round_trip(contents);
  return 0;
}
