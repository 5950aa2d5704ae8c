// libFuzzer target: arbitrary bytes as a checkpoint's trainer_state.json, read by
// read_trainer_state (models/checkpoint.hpp) on every --resume, `finetune --init` and audit.
// It is the one checkpoint file a user may edit by hand: the safetensors files next to it are
// covered by their SHA-256 recorded here and by fuzz_safetensors, so this target fuzzes the JSON
// side only. The reader must either refuse the bytes with a one-line electra::Error or return a
// state with a step in [0, max_checkpoint_step], without undefined behaviour on the way (e.g. a
// float seed converted to an integer). Each input is written to a file in a private temporary
// directory, as the real reader takes a checkpoint directory.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "models/checkpoint.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();  // libFuzzer reports the input that got here
}

const std::filesystem::path& checkpoint_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "fuzz-trainer-state-XXXXXX").string();
    require(::mkdtemp(pattern.data()) != nullptr);
    std::atexit([] { std::filesystem::remove_all(checkpoint_dir()); });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream file(checkpoint_dir() / "trainer_state.json", std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    require(file.good());
  }
  try {
    // Accepted: the step is one a checkpoint directory can be named after and the trainer can
    // count from (a float, negative or huge step once got through, as did a float seed).
    const electra::TrainerState state = electra::read_trainer_state(checkpoint_dir());
    require(state.step >= 0 && state.step <= electra::max_checkpoint_step);
  } catch (const electra::Error& error) {
    require(std::strchr(error.what(), '\n') == nullptr);  // refused in one line
  }
  return 0;
}
