#pragma once
// SHA-256 (FIPS 180-4), written out so checkpoints can carry checksums without a crypto library.
// Incremental: feed bytes with update(), read the digest once with hex_digest().
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace electra {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Pads, finishes and returns the 32-byte digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  std::string hex_digest();  // 64 lowercase hex characters

 private:
  void compress(const std::uint8_t* block);  // one 64-byte block into state_

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

std::string sha256_hex(std::string_view bytes);
// Streams the file in chunks; throws electra::Error naming the file if it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace electra
