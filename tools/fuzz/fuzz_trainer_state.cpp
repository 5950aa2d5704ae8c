// libFuzzer target: arbitrary bytes as a checkpoint's trainer_state.json, read by
// read_trainer_state (models/training/checkpoint.hpp) on every --resume, `finetune --init` and
// audit. It is the one checkpoint file a user may edit by hand: the safetensors files next to it
// are covered by their SHA-256 recorded here and by fuzz_safetensors, so this target fuzzes the
// JSON side only. The reader must either refuse the bytes with a one-line electra::Error or return
// a state with a step in [0, max_checkpoint_step], without undefined behaviour on the way (e.g. a
// float seed converted to an integer). Each input is written to a file in a private temporary
// directory, as the real reader takes a checkpoint directory.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "models/training/checkpoint.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();  // libFuzzer reports the input that got here
}

// <tmp>/fuzz-trainer-state-<pid>/. libFuzzer ends a run with _Exit (and kills fork-mode
// children), so no exit handler would remove it: each process removes those of dead processes.
const std::filesystem::path& checkpoint_dir() {
  static const std::filesystem::path dir = [] {
    namespace fs = std::filesystem;
    const std::string prefix = "fuzz-trainer-state-";
    std::error_code ignored;
    for (const fs::directory_entry& entry : fs::directory_iterator(fs::temp_directory_path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      char* end = nullptr;
      const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
      if (*end == '\0' && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
        fs::remove_all(entry.path(), ignored);
    }
    const fs::path path = fs::temp_directory_path() / (prefix + std::to_string(::getpid()));
    fs::create_directories(path);
    return path;
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
