// safetensors reader and writer: see safetensors.hpp for the layout.
#include "models/formats/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"

namespace electra {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

// The reference implementation refuses headers over 100 MB; so do we (a corrupt length field
// would otherwise ask for an absurd allocation).
constexpr std::uint64_t max_header_bytes = 100'000'000;
// A valid header nests 3 deep (header → tensor → shape). Deeper nesting is refused while parsing:
// nlohmann's parser is iterative but dump() recurses, so a 1 MB header of '[' once overflowed the
// stack while building an error message (found by tools/fuzz/fuzz_safetensors).
constexpr int max_header_depth = 16;

// A header string (tensor name, dtype, metadata key) as printed in an error message: quoted,
// with control characters escaped, so a name holding "\n" cannot break the one-line message.
std::string printable(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return out + "'";
}

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i32:
      return "I32";
  }
  return "?";
}

DType dtype_from_safetensors(const std::string& name, const std::string& source,
                             const std::string& tensor) {
  if (name == "F32") return DType::f32;
  if (name == "F64") return DType::f64;
  if (name == "I32") return DType::i32;
  throw_error("safetensors: ", source, ": tensor ", printable(tensor), " has dtype ",
              printable(name), " (electra reads F32, F64 and I32)");
}

std::uint64_t read_u64_le(const char* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// A non-negative integer from the header; anything else is a corrupt file.
std::uint64_t header_integer(const nlohmann::json& value, const std::string& source,
                             const std::string& tensor, const char* field) {
  check(value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0),
        "safetensors: ", source, ": tensor ", printable(tensor), " has a ", field,
        " entry that is not a non-negative integer: ", value.dump());
  return value.get<std::uint64_t>();
}

struct HeaderEntry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin, end;
};

}  // namespace

const Tensor* SafetensorsContents::find(const std::string& name) const {
  for (const NamedTensor& entry : tensors) {
    if (entry.name == name) return &entry.tensor;
  }
  return nullptr;
}

const Tensor& SafetensorsContents::at(const std::string& name) const {
  const Tensor* tensor = find(name);
  check(tensor != nullptr, "safetensors: no tensor named '", name, "'");
  return *tensor;
}

std::string serialize_safetensors(const std::vector<NamedTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps our tensor order in the header, so equal inputs give equal bytes.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> host_tensors;
  std::uint64_t offset = 0;
  for (const NamedTensor& entry : tensors) {
    check(!entry.name.empty() && entry.name != "__metadata__", "safetensors: invalid tensor name '",
          entry.name, "'");
    check(!header.contains(entry.name), "safetensors: duplicate tensor name '", entry.name, "'");
    check(entry.tensor.defined(), "safetensors: tensor '", entry.name, "' is undefined");
    const Tensor host =
        entry.tensor.device() == Device::cpu ? entry.tensor : entry.tensor.to(Device::cpu);
    const std::uint64_t bytes = host.nbytes();
    header[entry.name] = {{"dtype", safetensors_dtype(host.dtype())},
                          {"shape", host.shape().dims()},
                          {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    host_tensors.push_back(host);
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string file;
  file.reserve(8 + header_text.size() + offset);
  const std::uint64_t header_length = header_text.size();
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>(header_length >> (8 * i)));
  file += header_text;
  for (const Tensor& host : host_tensors) {
    file.append(static_cast<const char*>(host.raw()), host.nbytes());
  }
  return file;
}

SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source) {
  check(bytes.size() >= 8, "safetensors: ", source, ": file is ", bytes.size(),
        " bytes, too short for the 8-byte header length");
  const std::uint64_t header_length = read_u64_le(bytes.data());
  check(header_length <= max_header_bytes, "safetensors: ", source, ": header length ",
        header_length, " is implausible (corrupt file?)");
  check(header_length <= bytes.size() - 8, "safetensors: ", source, ": truncated: header of ",
        header_length, " bytes but only ", bytes.size() - 8, " bytes follow");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, header_length),
                                   [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                     check(depth <= max_header_depth, "safetensors: ", source,
                                           ": header nests deeper than ", max_header_depth,
                                           " levels (corrupt file?)");
                                     return true;
                                   });
  } catch (const nlohmann::json::exception& error) {
    throw_error("safetensors: ", source, ": header is not valid JSON: ", error.what());
  }
  check(header.is_object(), "safetensors: ", source, ": header is not a JSON object");

  SafetensorsContents contents;
  std::vector<HeaderEntry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      check(info.is_object(), "safetensors: ", source, ": __metadata__ is not an object");
      for (const auto& [key, value] : info.items()) {
        check(value.is_string(), "safetensors: ", source, ": metadata ", printable(key),
              " is not a string");
        contents.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string shown = printable(name);
    check(info.is_object() && info.contains("dtype") && info.contains("shape") &&
              info.contains("data_offsets"),
          "safetensors: ", source, ": tensor ", shown, " needs dtype, shape and data_offsets");
    check(info["dtype"].is_string(), "safetensors: ", source, ": tensor ", shown,
          " has a non-string dtype");
    const DType dtype = dtype_from_safetensors(info["dtype"].get<std::string>(), source, name);
    const nlohmann::json& shape_json = info["shape"];
    check(shape_json.is_array() && shape_json.size() <= Shape::max_rank, "safetensors: ", source,
          ": tensor ", shown, " has shape ", shape_json.dump(), " (electra supports rank ≤ ",
          Shape::max_rank, ")");
    std::vector<std::int64_t> dims;
    std::uint64_t numel = 1;
    for (const nlohmann::json& dim : shape_json) {
      const std::uint64_t size = header_integer(dim, source, name, "shape");
      check(size < (std::uint64_t{1} << 40) &&
                numel * std::max<std::uint64_t>(size, 1) < (std::uint64_t{1} << 48),
            "safetensors: ", source, ": tensor ", shown, " shape ", shape_json.dump(),
            " is implausibly large");
      numel *= size;
      dims.push_back(static_cast<std::int64_t>(size));
    }
    const nlohmann::json& offsets = info["data_offsets"];
    check(offsets.is_array() && offsets.size() == 2, "safetensors: ", source, ": tensor ", shown,
          " data_offsets must be [begin, end]");
    const std::uint64_t begin = header_integer(offsets[0], source, name, "data_offsets");
    const std::uint64_t end = header_integer(offsets[1], source, name, "data_offsets");
    check(begin <= end, "safetensors: ", source, ": tensor ", shown, " has data_offsets [", begin,
          ", ", end, "] with end before begin");
    const std::uint64_t expected_bytes = numel * dtype_size(dtype);
    check(end - begin == expected_bytes, "safetensors: ", source, ": tensor ", shown, " ",
          safetensors_dtype(dtype), shape_json.dump(), " needs ", expected_bytes,
          " bytes but data_offsets [", begin, ", ", end, "] span ", end - begin);
    entries.push_back({name, dtype, Shape(dims), begin, end});
  }

  // The offsets must tile [0, data size) exactly: sorted by begin, each starts where the last
  // ended. This catches overlaps, gaps and truncation with one rule.
  std::sort(entries.begin(), entries.end(), [](const HeaderEntry& a, const HeaderEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const std::uint64_t data_size = bytes.size() - 8 - header_length;
  std::uint64_t expected_begin = 0;
  for (const HeaderEntry& entry : entries) {
    check(entry.begin >= expected_begin, "safetensors: ", source, ": tensor ",
          printable(entry.name), " data_offsets [", entry.begin, ", ", entry.end,
          "] overlap the previous tensor (which ends at ", expected_begin, ")");
    check(entry.begin == expected_begin, "safetensors: ", source, ": tensor ",
          printable(entry.name), " starts at ", entry.begin, ", leaving a gap after byte ",
          expected_begin);
    check(entry.end <= data_size, "safetensors: ", source, ": truncated: tensor ",
          printable(entry.name), " ends at data byte ", entry.end, " but the file holds ",
          data_size, " data bytes");
    expected_begin = entry.end;
  }
  check(expected_begin == data_size, "safetensors: ", source, ": ", data_size - expected_begin,
        " trailing bytes after the last tensor (corrupt header?)");

  const char* data = bytes.data() + 8 + header_length;
  for (const HeaderEntry& entry : entries) {
    Tensor tensor = Tensor::empty(entry.shape, entry.dtype);
    if (entry.end > entry.begin)
      std::memcpy(tensor.raw(), data + entry.begin, entry.end - entry.begin);
    contents.tensors.push_back({entry.name, std::move(tensor)});
  }
  return contents;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  check(file.good(), "cannot open ", path);
  const std::streamoff size = file.tellg();
  check(size >= 0, "cannot determine the size of ", path);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  file.seekg(0);
  file.read(bytes.data(), size);
  check(file.gcount() == size, "read error in ", path);
  return bytes;
}

void save_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string bytes = serialize_safetensors(tensors, metadata);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  check(file.good(), "safetensors: cannot create ", path);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  check(!file.fail(), "safetensors: write error in ", path);
}

SafetensorsContents load_safetensors(const std::string& path) {
  return parse_safetensors(read_file_bytes(path), path);
}

}  // namespace electra
