// safetensors: round trip, a byte-level example built by hand, and corrupt files refused.
#include "models/formats/safetensors.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

using namespace electra;

namespace {

// The 8-byte little-endian length, then the header, then the data: the format by hand.
std::string build_file(const std::string& header, const std::string& data) {
  std::string file;
  const std::uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>(length >> (8 * i)));
  return file + header + data;
}

std::string float_bytes(std::initializer_list<float> values) {
  std::string bytes;
  for (float value : values) bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
  return bytes;
}

}  // namespace

TEST_CASE("safetensors: round trip of f32, f64, i32 and a scalar, with metadata") {
  const Tensor a = Tensor::from_vector<float>({1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f}, {2, 3});
  const Tensor b = Tensor::from_vector<double>({0.1, 0.2, 0.3}, {3});
  const Tensor c =
      Tensor::from_vector<std::int32_t>({7, -8, 2147483647, -2147483647 - 1}, {1, 2, 2});
  const Tensor scalar = Tensor::from_vector<float>({42.0f}, Shape{});
  const Tensor empty = Tensor::zeros({0, 4});
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "ünïcode ✓"}};
  const std::string bytes = serialize_safetensors(
      {{"a", a}, {"b.weight", b}, {"c", c}, {"s", scalar}, {"e", empty}}, metadata);

  // The header starts 8-byte aligned data and is padded with spaces.
  std::uint64_t header_length = 0;
  std::memcpy(&header_length, bytes.data(), 8);
  CHECK(header_length % 8 == 0);
  CHECK(bytes.size() == 8 + header_length + 24 + 24 + 16 + 4);

  const SafetensorsContents loaded = parse_safetensors(bytes, "memory");
  CHECK(loaded.metadata == metadata);
  REQUIRE(loaded.tensors.size() == 5);
  CHECK(loaded.at("a").shape() == a.shape());
  CHECK(loaded.at("a").to_vector() == a.to_vector());
  CHECK(loaded.at("b.weight").dtype() == DType::f64);
  CHECK(loaded.at("b.weight").to_vector() == b.to_vector());
  CHECK(loaded.at("c").dtype() == DType::i32);
  CHECK(loaded.at("c").to_vector() == c.to_vector());
  CHECK(loaded.at("s").rank() == 0);
  CHECK(loaded.at("s").item() == 42.0);
  CHECK(loaded.at("e").numel() == 0);
  CHECK(loaded.find("missing") == nullptr);
  CHECK_THROWS_WITH(loaded.at("missing"), doctest::Contains("missing"));

  // Through a file, and the same inputs always give the same bytes.
  const auto path =
      (std::filesystem::temp_directory_path() / "electra_safetensors_rt.safetensors").string();
  save_safetensors(path, {{"a", a}, {"b.weight", b}, {"c", c}, {"s", scalar}, {"e", empty}},
                   metadata);
  CHECK(read_file_bytes(path) == bytes);
  CHECK(load_safetensors(path).at("c").to_vector() == c.to_vector());
  std::filesystem::remove(path);
}

TEST_CASE("safetensors: a hand-built file parses to the expected tensors") {
  // Header key order, tensor order in the data and the padding are all the writer's choice.
  const std::string header =
      R"({"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
      R"("ids":{"dtype":"I32","shape":[2,1],"data_offsets":[0,8]}}   )";
  std::string data;
  const std::int32_t ids[2] = {5, -1};
  data.append(reinterpret_cast<const char*>(ids), 8);
  data += float_bytes({0.5f, -1.25f});
  const SafetensorsContents loaded =
      parse_safetensors(build_file(header, data), "hand.safetensors");
  CHECK(loaded.metadata.at("k") == "v");
  REQUIRE(loaded.tensors.size() == 2);
  CHECK(loaded.tensors[0].name == "ids");  // data order
  CHECK(loaded.at("ids").shape() == Shape{2, 1});
  CHECK(loaded.at("ids").to_vector() == std::vector<double>{5, -1});
  CHECK(loaded.at("w").to_vector() == std::vector<double>{0.5, -1.25});

  // And our writer produces exactly this layout for one tensor: bytes checked one by one.
  const std::string ours = serialize_safetensors({{"x", Tensor::from_vector<float>({1.0f}, {1})}});
  const std::string expected_header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string padded =
      expected_header + std::string((8 - expected_header.size() % 8) % 8, ' ');
  CHECK(ours == build_file(padded, float_bytes({1.0f})));
  CHECK(static_cast<unsigned char>(ours[0]) == padded.size());
  CHECK(ours[1] == 0);
}

TEST_CASE("safetensors: corrupt files are refused naming the file and the tensor") {
  const std::string good =
      serialize_safetensors({{"alpha", Tensor::from_vector<float>({1, 2, 3, 4}, {4})},
                             {"beta", Tensor::from_vector<float>({5, 6}, {2})}});
  const std::string source = "broken.safetensors";

  SUBCASE("truncated data") {
    CHECK_THROWS_WITH(parse_safetensors(good.substr(0, good.size() - 3), source),
                      doctest::Contains("broken.safetensors: truncated: tensor 'beta'"));
  }
  SUBCASE("truncated header") {
    CHECK_THROWS_WITH(parse_safetensors(good.substr(0, 20), source),
                      doctest::Contains("broken.safetensors: truncated"));
    CHECK_THROWS_WITH(parse_safetensors(good.substr(0, 5), source), doctest::Contains("too short"));
  }
  SUBCASE("trailing bytes") {
    CHECK_THROWS_WITH(parse_safetensors(good + "junk", source), doctest::Contains("trailing"));
  }
  SUBCASE("bad JSON") {
    CHECK_THROWS_WITH(parse_safetensors(build_file(R"({"a": {"dtype": )", ""), source),
                      doctest::Contains("broken.safetensors: header is not valid JSON"));
    CHECK_THROWS_WITH(parse_safetensors(build_file("[1, 2]", ""), source),
                      doctest::Contains("not a JSON object"));
  }
  SUBCASE("implausible header length") {
    std::string huge = good;
    huge[7] = 0x7f;
    CHECK_THROWS_WITH(parse_safetensors(huge, source), doctest::Contains("implausible"));
  }
  SUBCASE("overlapping offsets") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    CHECK_THROWS_WITH(parse_safetensors(build_file(header, float_bytes({1, 2, 3})), source),
                      doctest::Contains("tensor 'b' data_offsets [4, 12] overlap"));
  }
  SUBCASE("a gap between tensors") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    CHECK_THROWS_WITH(parse_safetensors(build_file(header, float_bytes({1, 2, 3})), source),
                      doctest::Contains("tensor 'b' starts at 8, leaving a gap"));
  }
  SUBCASE("size that does not match the shape") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
    CHECK_THROWS_WITH(parse_safetensors(build_file(header, float_bytes({1, 2})), source),
                      doctest::Contains("tensor 'a' F32[3] needs 12 bytes"));
  }
  SUBCASE("unsupported dtype, bad shape, missing fields, non-string metadata") {
    CHECK_THROWS_WITH(
        parse_safetensors(
            build_file(R"({"h":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})", "ab"), source),
        doctest::Contains("tensor 'h' has dtype 'BF16'"));
    CHECK_THROWS_WITH(
        parse_safetensors(
            build_file(R"({"h":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd"),
            source),
        doctest::Contains("tensor 'h'"));
    CHECK_THROWS_WITH(
        parse_safetensors(
            build_file(R"({"h":{"dtype":"F32","shape":[1,1,1,1,1],"data_offsets":[0,4]}})", "abcd"),
            source),
        doctest::Contains("rank"));
    CHECK_THROWS_WITH(
        parse_safetensors(build_file(R"({"h":{"dtype":"F32","shape":[1]}})", "abcd"), source),
        doctest::Contains("tensor 'h' needs dtype, shape and data_offsets"));
    CHECK_THROWS_WITH(
        parse_safetensors(
            build_file(R"({"h":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "abcd"),
            source),
        doctest::Contains("end before begin"));
    CHECK_THROWS_WITH(parse_safetensors(build_file(R"({"__metadata__":{"n":1}})", ""), source),
                      doctest::Contains("metadata 'n' is not a string"));
  }
  SUBCASE("missing file") {
    CHECK_THROWS_WITH(load_safetensors("/nonexistent/dir/x.safetensors"),
                      doctest::Contains("/nonexistent/dir/x.safetensors"));
  }
  SUBCASE("the writer refuses duplicate and reserved names") {
    const Tensor t = Tensor::zeros({1});
    CHECK_THROWS_WITH(serialize_safetensors({{"a", t}, {"a", t}}),
                      doctest::Contains("duplicate tensor name 'a'"));
    CHECK_THROWS(serialize_safetensors({{"__metadata__", t}}));
  }
}

// Found by tools/fuzz/fuzz_safetensors (docs/reliability.md): a header nested a million levels
// deep overflowed the stack while the error message was built (nlohmann's dump() recurses), and
// names holding control characters broke the one-line error message.
TEST_CASE("safetensors: hostile headers are refused in one line") {
  const std::string source = "hostile.safetensors";
  SUBCASE("deep nesting") {
    const std::size_t depth = 1'000'000;
    const std::string nested = std::string(depth, '[') + std::string(depth, ']');
    CHECK_THROWS_WITH(parse_safetensors(build_file(R"({"a":{"dtype":"F32","shape":)" + nested +
                                                       R"(,"data_offsets":[0,0]}})",
                                                   ""),
                                        source),
                      doctest::Contains("hostile.safetensors: header nests deeper than 16 levels"));
    CHECK_THROWS_WITH(
        parse_safetensors(build_file(R"({"__metadata__":{"k":)" + nested + "}}", ""), source),
        doctest::Contains("nests deeper"));
  }
  SUBCASE("control characters in names") {
    const auto message = [&](const std::string& header) {
      try {
        parse_safetensors(build_file(header, ""), source);
      } catch (const Error& error) {
        return std::string(error.what());
      }
      return std::string("accepted");
    };
    const std::string bad_dtype =
        message(R"({"a\nb":{"dtype":"F\r32","shape":[],"data_offsets":[0,0]}})");
    CHECK(bad_dtype.find_first_of("\r\n") == std::string::npos);
    CHECK(bad_dtype.find(R"(tensor 'a\x0ab' has dtype 'F\x0d32')") != std::string::npos);
    const std::string bad_metadata = message(R"({"__metadata__":{"line\none":1}})");
    CHECK(bad_metadata.find('\n') == std::string::npos);
    CHECK(bad_metadata.find(R"(metadata 'line\x0aone' is not a string)") != std::string::npos);
  }
}
