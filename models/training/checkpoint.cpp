// Atomic, checksummed checkpoints: see checkpoint.hpp.
#include "models/training/checkpoint.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "data/sha256.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/formats/safetensors.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

const char* const model_file = "model.safetensors";
const char* const optimizer_file = "optimizer.safetensors";
const char* const state_file = "trainer_state.json";
const char* const temporary_prefix = ".tmp-";

// Complete checkpoints in run_dir, sorted by step.
std::vector<std::pair<std::int64_t, fs::path>> complete_checkpoints(const fs::path& run_dir) {
  std::vector<std::pair<std::int64_t, fs::path>> found;
  for (const CheckpointDirectory& directory : checkpoint_directories(run_dir))
    if (directory.complete) found.emplace_back(directory.step, directory.path);
  return found;
}

// Removes temporary directories left by writers that died mid-save (their pid is gone). A live
// writer's directory is left alone.
void remove_abandoned_temporaries(const fs::path& run_dir) {
  for (const fs::directory_entry& entry : fs::directory_iterator(run_dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(temporary_prefix, 0) != 0 || !entry.is_directory()) continue;
    const std::size_t dash = name.rfind('-');
    const long pid = std::strtol(name.c_str() + dash + 1, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
}

std::vector<NamedTensor> parameter_tensors(const ParameterStore& parameters) {
  std::vector<NamedTensor> tensors;
  for (const Parameter& parameter : parameters.parameters()) {
    tensors.push_back({parameter.name, parameter.var.value()});
  }
  return tensors;
}

// "at /hidden_size: checkpoint has 256, this run has 128" for the first difference.
std::string describe_config_difference(const nlohmann::json& stored,
                                       const nlohmann::json& expected) {
  const nlohmann::json patch = nlohmann::json::diff(stored, expected);
  if (patch.empty()) return "";
  const nlohmann::json& first = patch.front();
  const std::string path = first.value("path", std::string("/"));
  const nlohmann::json::json_pointer pointer(path);
  const std::string in_checkpoint =
      stored.contains(pointer) ? stored.at(pointer).dump() : "nothing";
  const std::string in_run = expected.contains(pointer) ? expected.at(pointer).dump() : "nothing";
  return "at " + (path.empty() ? std::string("/") : path) + ": checkpoint has " + in_checkpoint +
         ", this run has " + in_run +
         (patch.size() > 1 ? " (and " + std::to_string(patch.size() - 1) + " more differences)"
                           : "");
}

}  // namespace

void write_file_durably(const fs::path& path, std::string_view bytes) {
  const int descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check(descriptor >= 0, "cannot create ", path.string(), ": ", std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t result = ::write(descriptor, bytes.data() + written, bytes.size() - written);
    if (result < 0 && errno == EINTR) continue;
    if (result <= 0) {
      const int error = errno;
      ::close(descriptor);
      throw_error("write error in ", path.string(), ": ", std::strerror(error));
    }
    written += static_cast<std::size_t>(result);
  }
  const bool synced = ::fsync(descriptor) == 0;
  const int error = errno;
  ::close(descriptor);
  check(synced, "fsync failed for ", path.string(), ": ", std::strerror(error));
}

void sync_directory(const fs::path& directory) {
  const int descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check(descriptor >= 0, "cannot open directory ", directory.string(), ": ", std::strerror(errno));
  const bool synced = ::fsync(descriptor) == 0;
  const int error = errno;
  ::close(descriptor);
  check(synced, "fsync failed for directory ", directory.string(), ": ", std::strerror(error));
}

std::vector<CheckpointDirectory> checkpoint_directories(const fs::path& run_dir) {
  std::vector<CheckpointDirectory> found;
  std::error_code error;
  if (!fs::is_directory(run_dir, error)) return found;
  for (const fs::directory_entry& entry : fs::directory_iterator(run_dir)) {
    const std::int64_t step = step_of_directory_name(entry.path().filename().string());
    if (step >= 0 && entry.is_directory(error))
      found.push_back({step, entry.path(), fs::exists(entry.path() / state_file, error)});
  }
  std::sort(
      found.begin(), found.end(),
      [](const CheckpointDirectory& a, const CheckpointDirectory& b) { return a.step < b.step; });
  return found;
}

std::int64_t step_of_directory_name(const std::string& name) {
  if (name.size() <= 5 || name.compare(0, 5, "step-") != 0 || name.size() > 5 + 18) return -1;
  std::int64_t step = 0;
  for (std::size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

std::optional<std::int64_t> bounded_integer(const nlohmann::json& object, const char* key,
                                            std::int64_t max) {
  if (!object.is_object() || !object.contains(key)) return std::nullopt;
  const nlohmann::json& value = object[key];
  if (value.is_number_unsigned())
    return value.get<std::uint64_t>() <= static_cast<std::uint64_t>(max)
               ? std::optional(value.get<std::int64_t>())
               : std::nullopt;
  if (!value.is_number_integer()) return std::nullopt;
  const auto integer = value.get<std::int64_t>();
  return integer >= 0 && integer <= max ? std::optional(integer) : std::nullopt;
}

std::string checkpoint_directory_name(std::int64_t step) {
  check(step >= 0, "checkpoint: step must be ≥ 0, got ", step);
  char name[32];
  std::snprintf(name, sizeof name, "step-%06lld", static_cast<long long>(step));
  return name;
}

fs::path save_checkpoint(const fs::path& run_dir, const ParameterStore& parameters,
                         const AdamW& optimizer, const TrainerState& state, int keep_last) {
  check(state.data_position.is_object(), "checkpoint: data_position must be a JSON object");
  const std::string name = checkpoint_directory_name(state.step);
  fs::create_directories(run_dir);
  remove_abandoned_temporaries(run_dir);
  const fs::path temporary = run_dir / (temporary_prefix + name + "-" + std::to_string(::getpid()));
  const fs::path final_path = run_dir / name;
  fs::remove_all(temporary);
  fs::create_directory(temporary);

  const std::string model_bytes =
      serialize_safetensors(parameter_tensors(parameters),
                            {{"format", "electra.cpp"}, {"step", std::to_string(state.step)}});
  const std::string optimizer_bytes =
      serialize_safetensors(optimizer.state_tensors(), optimizer.state_metadata());
  nlohmann::json json = {
      {"format", "electra.cpp checkpoint"},
      {"format_version", checkpoint_format_version},
      {"step", state.step},
      {"data_position", state.data_position},
      {"rng", {{"seed", state.seed}, {"counters", state.rng_counters}}},
      {"optimizer", {{"file", optimizer_file}, {"updates_applied", optimizer.updates_applied()}}},
      {"config", state.config},
      {"metrics", state.metrics},
      {"files",
       {{model_file, {{"sha256", sha256_hex(model_bytes)}, {"bytes", model_bytes.size()}}},
        {optimizer_file,
         {{"sha256", sha256_hex(optimizer_bytes)}, {"bytes", optimizer_bytes.size()}}}}},
  };
  try {
    write_file_durably(temporary / model_file, model_bytes);
    write_file_durably(temporary / optimizer_file, optimizer_bytes);
    write_file_durably(temporary / state_file, json.dump(2) + "\n");
    sync_directory(temporary);
  } catch (const Error& error) {
    // A full disk must not also leave a half-written directory taking the space.
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    throw_error("checkpoint: ", error.what());
  }

  // rename() cannot replace a non-empty directory: move an existing one of the same step aside
  // first, so there is never a moment without a complete checkpoint of this step on disk.
  fs::path replaced;
  if (fs::exists(final_path)) {
    replaced = run_dir /
               (std::string(temporary_prefix) + "old-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(replaced);
    fs::rename(final_path, replaced);
  }
  fs::rename(temporary, final_path);
  sync_directory(run_dir);
  if (!replaced.empty()) fs::remove_all(replaced);

  if (keep_last > 0) {
    auto checkpoints = complete_checkpoints(run_dir);
    std::erase_if(checkpoints, [&](const auto& entry) { return entry.second == final_path; });
    // The new checkpoint counts as one of the kept; the oldest others go first.
    const std::size_t keep_others = static_cast<std::size_t>(keep_last - 1);
    if (checkpoints.size() > keep_others) {
      for (std::size_t i = 0; i < checkpoints.size() - keep_others; ++i) {
        // Renamed first: remove_all is not atomic, and a kill in the middle of it must not leave
        // a step-* directory without its trainer_state.json (or an empty one).
        const fs::path doomed = run_dir / (std::string(temporary_prefix) + "old-" +
                                           checkpoints[i].second.filename().string() + "-" +
                                           std::to_string(::getpid()));
        fs::remove_all(doomed);
        fs::rename(checkpoints[i].second, doomed);
        fs::remove_all(doomed);
      }
      sync_directory(run_dir);
    }
  }
  return final_path;
}

std::optional<fs::path> latest_checkpoint(const fs::path& run_dir) {
  const auto checkpoints = complete_checkpoints(run_dir);
  if (checkpoints.empty()) return std::nullopt;
  return checkpoints.back().second;
}

TrainerState read_trainer_state(const fs::path& checkpoint_dir) {
  const fs::path path = checkpoint_dir / state_file;
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(read_file_bytes(path.string()));
  } catch (const nlohmann::json::exception& error) {
    throw_error("checkpoint: ", path.string(), " is not valid JSON: ", error.what());
  }
  // Fields are type-checked before they are read or printed: a hand-edited file may hold anything
  // there (json::value throws on a non-string, dump() of a deeply nested value recurses).
  check(json.is_object() && json.contains("format") && json["format"].is_string() &&
            json["format"] == "electra.cpp checkpoint",
        "checkpoint: ", path.string(), " is not an electra.cpp trainer state");
  check(json.contains("format_version") && json["format_version"] == checkpoint_format_version,
        "checkpoint: ", path.string(), " has format_version ",
        !json.contains("format_version") ? std::string("(none)")
        : json["format_version"].is_number_integer()
            ? json["format_version"].dump()
            : std::string("of type ") + json["format_version"].type_name(),
        ", this build reads ", checkpoint_format_version);
  TrainerState state;
  try {
    const nlohmann::json& step = json.at("step");
    const std::optional<std::int64_t> valid_step =
        bounded_integer(json, "step", max_checkpoint_step);
    check(valid_step.has_value(), "checkpoint: ", path.string(), ": step ",
          step.is_number() ? step.dump() : std::string("of type ") + step.type_name(),
          " is not an integer in [0, ", max_checkpoint_step, "]");
    state.step = *valid_step;
    state.data_position = json.at("data_position");
    // get<uint64_t> of a float out of range (1e300) or a negative integer would be undefined
    // or wrap.
    const nlohmann::json& seed = json.at("rng").at("seed");
    check(seed.is_number_unsigned() || (seed.is_number_integer() && seed.get<std::int64_t>() >= 0),
          "checkpoint: ", path.string(), ": rng.seed ",
          seed.is_number() ? seed.dump() : std::string("of type ") + seed.type_name(),
          " is not an integer in [0, 2^64)");
    state.seed = seed.get<std::uint64_t>();
    state.rng_counters = json.at("rng").at("counters");
    state.config = json.at("config");
    state.metrics = json.at("metrics");
  } catch (const nlohmann::json::exception& error) {
    throw_error("checkpoint: ", path.string(), ": missing or mistyped field: ", error.what());
  }
  return state;
}

TrainerState load_checkpoint(const fs::path& checkpoint_dir, ParameterStore& parameters,
                             AdamW* optimizer, const nlohmann::json& expected_config) {
  TrainerState state = read_trainer_state(checkpoint_dir);
  const nlohmann::json json =
      nlohmann::json::parse(read_file_bytes((checkpoint_dir / state_file).string()));
  // Reads a safetensors file of the checkpoint and checks it against the recorded checksum.
  auto load_verified = [&](const char* file) {
    const fs::path path = checkpoint_dir / file;
    const std::string bytes = read_file_bytes(path.string());
    const nlohmann::json* recorded = nullptr;
    if (json.contains("files") && json["files"].contains(file)) recorded = &json["files"][file];
    check(recorded != nullptr && recorded->contains("sha256"),
          "checkpoint: ", (checkpoint_dir / state_file).string(), " records no checksum for ",
          file);
    const std::string actual = sha256_hex(bytes);
    check(actual == (*recorded)["sha256"].get<std::string>(), "checkpoint: ", path.string(),
          ": sha256 ", actual, " does not match the recorded ",
          (*recorded)["sha256"].get<std::string>(), " (corrupt or modified file)");
    return parse_safetensors(bytes, path.string());
  };

  // Integrity first (a corrupt file is reported as such), then compatibility with this run.
  const fs::path model_path = checkpoint_dir / model_file;
  const SafetensorsContents model = load_verified(model_file);
  std::optional<SafetensorsContents> optimizer_state;
  if (optimizer != nullptr) optimizer_state = load_verified(optimizer_file);
  if (!expected_config.is_null()) {
    const std::string difference = describe_config_difference(state.config, expected_config);
    check(difference.empty(), "checkpoint: ", checkpoint_dir.string(),
          ": config differs from this run's ", difference);
  }
  for (const Parameter& parameter : parameters.parameters()) {
    const Tensor* stored = model.find(parameter.name);
    check(stored != nullptr, "checkpoint: ", model_path.string(), ": missing parameter '",
          parameter.name, "'");
    const Tensor& value = parameter.var.value();
    check(stored->shape() == value.shape() && stored->dtype() == value.dtype(),
          "checkpoint: ", model_path.string(), ": parameter '", parameter.name, "' is ",
          dtype_name(stored->dtype()), stored->shape().str(), " in the checkpoint but ",
          dtype_name(value.dtype()), value.shape().str(), " in the model");
  }
  for (const NamedTensor& entry : model.tensors) {
    check(parameters.contains(entry.name), "checkpoint: ", model_path.string(), ": tensor '",
          entry.name, "' is not a parameter of this model");
  }
  if (optimizer != nullptr) {
    // Validates every moment before changing any; throws leaving the optimizer as it was.
    optimizer->load_state(*optimizer_state, (checkpoint_dir / optimizer_file).string());
  }
  for (const Parameter& parameter : parameters.parameters()) {
    Var var = parameter.var;
    const Tensor& stored = model.at(parameter.name);
    kernels::copy(
        stored.device() == var.value().device() ? stored : stored.to(var.value().device()),
        var.value());
  }
  return state;
}

}  // namespace electra
