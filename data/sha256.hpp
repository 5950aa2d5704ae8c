#pragma once
// SHA-256 (FIPS 180-4) for the fingerprints in meta.json: the vocabulary and every corpus file.
// A shard directory records them so a run can tell which text and vocabulary it was built from.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace electra {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  std::string hex_digest();  // 64 lower-case hex digits; finishes the hash

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

std::string sha256_hex(std::string_view bytes);
// Reads the file in blocks; throws electra::Error naming the path when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace electra
