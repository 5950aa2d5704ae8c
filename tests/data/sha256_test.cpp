// SHA-256 (data/sha256.hpp, which checkpoints use for their checksums) against the FIPS 180-4 /
// NIST example vectors.
#include "data/sha256.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

using namespace electra;

TEST_CASE("sha256: standard vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The two-block message (448 bits: the length no longer fits in the first padded block).
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a' (NIST long message).
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: incremental updates equal one update, across block boundaries") {
  std::string message;
  for (int i = 0; i < 300; ++i) message += static_cast<char>(i * 7 + 3);
  const std::string whole = sha256_hex(message);
  for (std::size_t piece : {1u, 3u, 63u, 64u, 65u, 127u}) {
    Sha256 hasher;
    for (std::size_t at = 0; at < message.size(); at += piece) {
      hasher.update(std::string_view(message).substr(at, piece));
    }
    CHECK(hasher.hex_digest() == whole);
  }
  // The million 'a' streamed in 997-byte pieces.
  Sha256 pieces;
  const std::string million(1'000'000, 'a');
  for (std::size_t at = 0; at < million.size(); at += 997) {
    pieces.update(std::string_view(million).substr(at, 997));
  }
  CHECK(pieces.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: file hash equals the hash of its bytes; a missing file is an error") {
  const auto path = std::filesystem::temp_directory_path() / "electra_sha256_test.bin";
  std::string bytes(3 * 1000 * 1000 + 17, 'x');
  for (std::size_t i = 0; i < bytes.size(); i += 101) bytes[i] = static_cast<char>(i);
  {
    std::ofstream file(path, std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  CHECK(sha256_file(path.string()) == sha256_hex(bytes));
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(sha256_file(path.string()), doctest::Contains("electra_sha256_test.bin"));
}
