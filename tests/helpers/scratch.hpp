#pragma once
// Files for the tests: a fresh scratch directory per test case, and whole-file reads and writes.
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <source_location>
#include <sstream>
#include <string>

namespace electra::test {

// A fresh, empty directory under the system temp dir, unique to this process, the calling test
// file (its stem, taken from the call site) and `name`: test files of one suite share a process
// when the binary runs whole, and several use the same names ("lock", "resume").
inline std::filesystem::path scratch_dir(
    const std::string& name, const std::source_location where = std::source_location::current()) {
  const std::string file = std::filesystem::path(where.file_name()).stem().string();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("electra_" + file + "_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The whole file, byte for byte ("" if it cannot be opened).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The number of lines of a text file (a last line without '\n' counts).
inline std::size_t line_count(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

}  // namespace electra::test
