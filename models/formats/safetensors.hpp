#pragma once
// The safetensors format (huggingface/safetensors), read and written exactly:
//   [8 bytes: header length N, u64 little-endian]
//   [N bytes: JSON header, padded with spaces to a multiple of 8]
//       { "<name>": {"dtype": "F32"|"F64"|"I32", "shape": [d0, ...], "data_offsets": [begin, end]},
//         ..., "__metadata__": {"<key>": "<string value>", ...} }
//   [data: each tensor's raw little-endian bytes; offsets are relative to the start of the data]
// Loading is strict, as in the reference implementation: offsets must tile the data buffer
// exactly (no gaps, no overlaps, nothing past the end), sizes must match shape × dtype, and only
// the dtypes electra uses are accepted. Every error names the file and the tensor.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tensor.hpp"

namespace electra {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct SafetensorsContents {
  std::vector<NamedTensor> tensors;  // in data order
  std::map<std::string, std::string> metadata;

  const Tensor* find(const std::string& name) const;  // nullptr if absent
  const Tensor& at(const std::string& name) const;    // throws naming the missing tensor
};

// The complete file as bytes; tensors are written in the given order (CUDA tensors are copied to
// the host first). Names must be unique, non-empty and not "__metadata__".
std::string serialize_safetensors(const std::vector<NamedTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
// Parses bytes produced by any conforming writer; `source` names the file in error messages.
SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source);

// Plain file I/O around the two above (checkpoints add fsync and checksums on top).
void save_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
SafetensorsContents load_safetensors(const std::string& path);

// Reads a whole file into memory; throws naming the file.
std::string read_file_bytes(const std::string& path);

}  // namespace electra
