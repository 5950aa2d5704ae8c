#pragma once
// Checkpoints (DESIGN §3): one directory per step,
//   <run_dir>/step-000123/
//       model.safetensors      parameters by internal name (ParameterStore order)
//       optimizer.safetensors  AdamW moments ("<name>/adam_m", "<name>/adam_v")
//       trainer_state.json     step, data position, RNG, config, metrics summary, checksums
// written atomically: everything goes into <run_dir>/.tmp-step-000123-<pid>/, each file and the
// directory are fsync'd, the directory is renamed into place and the parent fsync'd. A crash at
// any point leaves either the previous checkpoints or the complete new one, never half of one.
// Only after the new checkpoint is in place are older ones beyond `keep_last` deleted, each first
// renamed to a .tmp- name, so a kill during a deletion leaves litter (removed on the next start),
// never a half-deleted step-* directory.
//
// Loading verifies the format version, the SHA-256 of each safetensors file, that the stored
// config equals the run's config, and that every parameter exists with the same shape and dtype
// (and no unknown tensor is present), before any parameter or moment is overwritten.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/parameter_store.hpp"
#include "models/training/optimizer.hpp"

namespace electra {

constexpr int checkpoint_format_version = 1;
// A step (or an epoch of the data position) beyond this is a hand-edited or damaged file: 2^40
// updates is millennia of training, and the bound keeps step · grad_accumulation within int64.
constexpr std::int64_t max_checkpoint_step = std::int64_t{1} << 40;

// What trainer_state.json holds besides the checksums.
struct TrainerState {
  std::int64_t step = 0;                                    // updates applied
  nlohmann::json data_position = nlohmann::json::object();  // opaque: the data iterator's cursor
  std::uint64_t seed = 0;                                   // the run's RNG seed
  nlohmann::json rng_counters = nlohmann::json::object();   // any extra RNG counters of the run
  nlohmann::json config = nlohmann::json::object();         // model + training config
  nlohmann::json metrics = nlohmann::json::object();        // metrics-so-far summary
};

// "step-000123" (six digits at least, more when the step needs them, so names sort by length
// then text; latest_checkpoint compares numbers anyway).
std::string checkpoint_directory_name(std::int64_t step);

// Writes <run_dir>/step-<step>/ atomically and returns its path. keep_last > 0 deletes the oldest
// complete checkpoints beyond that count afterwards (never the one just written); ≤ 0 keeps all.
// Re-saving an existing step replaces it atomically.
std::filesystem::path save_checkpoint(const std::filesystem::path& run_dir,
                                      const ParameterStore& parameters, const AdamW& optimizer,
                                      const TrainerState& state, int keep_last = 3);

// Every step-<digits> directory in run_dir, by step; `complete` when it holds trainer_state.json.
struct CheckpointDirectory {
  std::int64_t step = 0;
  std::filesystem::path path;
  bool complete = false;
};
std::vector<CheckpointDirectory> checkpoint_directories(const std::filesystem::path& run_dir);

// The complete checkpoint with the highest step in run_dir (one holding trainer_state.json), or
// nullopt when there is none (or run_dir does not exist). Temporary directories are ignored.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& run_dir);

// Loads a checkpoint directory into `parameters` (and `optimizer`, if given: moments and update
// count). `expected_config` must equal the stored config unless it is null (then it is not
// checked). Returns the stored state. Nothing is modified when any check fails.
TrainerState load_checkpoint(const std::filesystem::path& checkpoint_dir,
                             ParameterStore& parameters, AdamW* optimizer,
                             const nlohmann::json& expected_config);

// The step of a directory named "step-<digits>" (at most 18 digits), or -1 for any other name.
std::int64_t step_of_directory_name(const std::string& name);

// object[key] if it is an integer in [0, max], else nullopt. Checked before get<>, which would
// convert a float or an out-of-range integer silently (a hand-edited trainer_state.json).
std::optional<std::int64_t> bounded_integer(const nlohmann::json& object, const char* key,
                                            std::int64_t max);

// Reads and validates trainer_state.json alone (format version, fields, 0 ≤ step ≤
// max_checkpoint_step), for inspection.
TrainerState read_trainer_state(const std::filesystem::path& checkpoint_dir);

// Writes bytes to a file and fsyncs it (errors name the file).
void write_file_durably(const std::filesystem::path& path, std::string_view bytes);
// fsync on a directory makes the entries in it (new files, renames) durable.
void sync_directory(const std::filesystem::path& directory);

}  // namespace electra
