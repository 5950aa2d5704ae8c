// The life of a run directory through the Trainer: --resume never silently starts over, a damaged
// newest checkpoint falls back to an older one, a new run needs --overwrite, one writer at a time,
// a NaN loss ends the run naming the update without saving NaN weights, a stuck update cannot
// make a stop request hang, and hand-edited or damaged files are refused naming the file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "data/shards.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "helpers/tiny_trainer.hpp"
#include "models/training/trainer.hpp"

using namespace electra;
namespace fs = std::filesystem;
using namespace electra::test;

namespace {

// The tiny trainer on a fixed 8-update schedule, whatever max_steps.
TrainerOptions tiny_options(const std::string& shards, const fs::path& out,
                            std::int64_t max_steps) {
  TrainerOptions options = test::tiny_trainer_options(shards, out, max_steps);
  options.config.num_train_steps = 8;
  return options;
}

void flip_byte(const fs::path& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto offset = static_cast<std::streamoff>(fs::file_size(path) / 2);
  file.seekg(offset);
  char byte = 0;
  file.read(&byte, 1);
  file.seekp(offset);
  file.put(static_cast<char>(byte ^ 0x5A));
}

}  // namespace

TEST_CASE(
    "run directory: --resume without a loadable checkpoint refuses instead of starting over") {
  const fs::path dir = scratch_dir("resume");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  TrainerOptions options = tiny_options(shards, out, 4);
  options.save_every = 2;
  options.keep_last = 0;
  TrainerOptions resume = options;
  resume.resume = true;
  resume.max_steps = 6;

  SUBCASE("no run directory, or one without checkpoints") {
    CHECK(contains(construction_error(resume), "does not exist"));
    fs::create_directories(out);
    const std::string message = construction_error(resume);
    CHECK(contains(message, "holds no checkpoint"));
    CHECK(contains(message, out.string()));
  }
  SUBCASE("the newest is damaged: the older one is used and the newer named as skipped") {
    Trainer(options).run();
    flip_byte(out / "step-000004" / "model.safetensors");
    Trainer trainer(resume);
    CHECK(trainer.step() == 2);
    CHECK(trainer.resumed_from() == (out / "step-000002").string());
    REQUIRE(trainer.skipped_checkpoints().size() == 1);
    CHECK(contains(trainer.skipped_checkpoints()[0], "step-000004"));
    CHECK(contains(trainer.skipped_checkpoints()[0], "sha256"));
    trainer.run();
    CHECK(line_count(out / "metrics.jsonl") == 6);  // 1, 2 kept; 3..6 logged by this run
  }
  SUBCASE("every candidate damaged: refused naming each and why, history untouched") {
    Trainer(options).run();
    flip_byte(out / "step-000004" / "model.safetensors");
    fs::remove(out / "step-000002" / "optimizer.safetensors");
    fs::create_directories(out / "step-000003");  // non-empty and incomplete: not litter
    { std::ofstream(out / "step-000003" / "model.safetensors") << "x"; }
    const std::string message = construction_error(resume);
    CHECK(contains(message, "no checkpoint in " + out.string() + " can be continued"));
    CHECK(contains(message, "step-000004: checkpoint:"));
    CHECK(contains(message, "sha256"));
    CHECK(contains(message, "step-000003: no trainer_state.json"));
    CHECK(contains(message, "step-000002: "));
    CHECK(contains(message, "optimizer.safetensors"));
    CHECK(contains(message, "--overwrite"));
    CHECK(message.find('\n') == std::string::npos);
    CHECK(line_count(out / "metrics.jsonl") == 4);
    CHECK(fs::exists(out / "step-000004"));
  }
  fs::remove_all(dir);
}

TEST_CASE("run directory: a new run needs --overwrite to replace a previous one; litter is swept") {
  const fs::path dir = scratch_dir("overwrite");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path out = dir / "run";
  TrainerOptions options = tiny_options(shards, out, 3);
  Trainer(options).run();
  REQUIRE(line_count(out / "metrics.jsonl") == 3);

  const std::string refused = construction_error(options);
  CHECK(contains(refused, "already holds a run"));
  CHECK(contains(refused, "metrics.jsonl"));
  CHECK(contains(refused, "step-000003"));
  CHECK(contains(refused, "--overwrite"));

  TrainerOptions both = options;
  both.overwrite = both.resume = true;
  CHECK(contains(construction_error(both), "pass one of them"));

  fs::create_directories(out / "step-000009");         // emptied by a kill while deleting
  fs::create_directories(out / ".tmp-step-000004-1");  // a save that died
  { std::ofstream(out / "notes.txt") << "mine"; }
  TrainerOptions overwrite = options;
  overwrite.overwrite = true;
  overwrite.max_steps = 1;
  Trainer trainer(overwrite);
  CHECK(trainer.removed_litter() == std::vector<std::string>{".tmp-step-000004-1", "step-000009"});
  CHECK(trainer.overwritten() == std::vector<std::string>{"metrics.jsonl", "step-000003"});
  CHECK(fs::exists(out / "step-000003"));  // nothing is deleted until the run starts
  trainer.run();
  CHECK(line_count(out / "metrics.jsonl") == 1);
  CHECK(!fs::exists(out / "step-000003"));
  CHECK(fs::exists(out / "step-000001"));
  CHECK(fs::exists(out / "notes.txt"));
  fs::remove_all(dir);
}

TEST_CASE("run directory: a second Trainer on the same --out is refused while the first lives") {
  const fs::path dir = scratch_dir("lock");
  const std::string shards = prepare_sample_shards(dir, 32);
  TrainerOptions options = tiny_options(shards, dir / "run", 1);
  {
    Trainer first(options);
    TrainerOptions second = options;
    second.overwrite = true;
    const std::string message = construction_error(second);
    CHECK(contains(message, "in use by another run"));
    CHECK(contains(message, "pid " + std::to_string(::getpid())));
    first.run();
  }
  TrainerOptions again = options;
  again.resume = true;
  again.max_steps = 2;
  CHECK(construction_error(again).empty());
  fs::remove_all(dir);
}

TEST_CASE(
    "run directory: a NaN loss ends the run naming the update, and no NaN checkpoint is saved") {
  const fs::path dir = scratch_dir("nan");
  const std::string shards = prepare_sample_shards(dir, 32);
  TrainerOptions options = tiny_options(shards, dir / "run", 30);
  options.config.num_train_steps = 30;
  options.config.learning_rate = 1e3;  // diverges within a few updates
  options.config.warmup_steps = 0;
  options.save_every = 1;
  Trainer trainer(options);
  std::string message;
  try {
    trainer.run();  // before: hung in roc_auc on the first NaN logit
  } catch (const Error& error) {
    message = error.what();
  }
  MESSAGE(message);
  CHECK(contains(message, "pretrain: update "));
  CHECK((contains(message, "the loss is nan") || contains(message, "the loss is inf") ||
         contains(message, "gradient norm is")));
  CHECK(message.find('\n') == std::string::npos);
  // The update that failed applied nothing and saved nothing: the newest checkpoint is the one
  // before it, and its parameters are finite.
  const std::int64_t failed = std::stoll(message.substr(message.find("update ") + 7));
  const auto newest = latest_checkpoint(dir / "run");
  REQUIRE(newest.has_value());
  CHECK(read_trainer_state(*newest).step == failed - 1);
  std::size_t non_finite = 0;
  for (const Parameter& parameter : trainer.parameters().parameters())
    for (const double value : parameter.var.value().to_vector())
      non_finite += !std::isfinite(value);
  CHECK(non_finite == 0);
  fs::remove_all(dir);
}

TEST_CASE("run directory: a stop request while an update is stuck is ended by the watchdog") {
  const fs::path dir = scratch_dir("watchdog");
  const std::string shards = prepare_sample_shards(dir, 32);
  TrainerOptions options = tiny_options(shards, dir / "run", 8);
  options.stop_grace_seconds = 0.2;
  std::atomic<bool> expired{false};
  std::string expiry_message;
  options.on_stop_timeout = [&](const std::string& message) {
    expiry_message = message;
    expired = true;
  };
  clear_stop_request();
  Trainer trainer(options);
  trainer.run([&](const StepReport& report) {
    if (report.step != 1) return;
    request_stop();
    // Stuck inside the update: only the watchdog can end this. The bound is a hang guard only.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!expired && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  clear_stop_request();
  REQUIRE(expired);
  CHECK(contains(expiry_message, "stop requested"));
  CHECK(contains(expiry_message, "update 1 has not ended"));
  CHECK(contains(expiry_message, "no checkpoint was saved"));
  fs::remove_all(dir);
}

TEST_CASE("run directory: the watchdog stays quiet when the run ends in time, and without a stop") {
  std::atomic<int> expiries{0};
  clear_stop_request();
  {
    StopWatchdog watchdog([] { return 0.05; }, [&](double) { ++expiries; });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // no stop requested
  }
  CHECK(expiries == 0);
  request_stop();
  {
    StopWatchdog watchdog([] { return 60.0; }, [&](double) { ++expiries; });
  }  // ended in time
  CHECK(expiries == 0);
  {
    StopWatchdog watchdog([] { return 0.05; },
                          [&](double waited) {
                            CHECK(waited >= 0.05);
                            ++expiries;
                          });
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // hang guard
    while (expiries == 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  clear_stop_request();
  CHECK(expiries == 1);
}

TEST_CASE(
    "run directory: hand-edited special tokens and trainer state are refused naming the file") {
  const fs::path dir = scratch_dir("values");
  const std::string shards = prepare_sample_shards(dir, 32);
  const fs::path meta_path = fs::path(shards) / "meta.json";
  nlohmann::json meta = nlohmann::json::parse(std::ifstream(meta_path));
  const nlohmann::json original = meta;
  auto special_tokens_error = [&](const nlohmann::json& edited) {
    std::ofstream(meta_path) << edited.dump(2);
    try {
      read_shard_special_tokens(shards);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  meta["special_tokens"]["mask"] = 99999;
  std::string message = special_tokens_error(meta);
  CHECK(contains(message, meta_path.string()));
  CHECK(contains(message, "special_tokens.mask"));
  CHECK(contains(message, "99999"));
  meta = original;
  meta["special_tokens"]["sep"] = meta["special_tokens"]["cls"];
  CHECK(contains(special_tokens_error(meta), "special_tokens.sep and cls"));
  meta = original;
  meta["special_tokens"]["pad"] = -1;
  CHECK(contains(special_tokens_error(meta), "special_tokens.pad"));
  CHECK(special_tokens_error(original).empty());

  const fs::path out = dir / "run";
  TrainerOptions options = tiny_options(shards, out, 2);
  Trainer(options).run();
  const fs::path state_path = out / "step-000002" / "trainer_state.json";
  const nlohmann::json state = nlohmann::json::parse(std::ifstream(state_path));
  TrainerOptions resume = options;
  resume.resume = true;
  resume.max_steps = 4;
  for (const auto& [field, value] :
       {std::pair{"/data_position/epoch", nlohmann::json(std::int64_t{9223372036854775807})},
        std::pair{"/data_position/offset", nlohmann::json(-3)},
        std::pair{"/data_position/epoch", nlohmann::json(1.5)},
        std::pair{"/step", nlohmann::json(std::int64_t{1} << 62)}}) {
    nlohmann::json edited = state;
    edited[nlohmann::json::json_pointer(field)] = value;
    std::ofstream(state_path) << edited.dump(2);
    message = construction_error(resume);
    CHECK_MESSAGE(contains(message, state_path.string()), field, ": ", message);
    CHECK_MESSAGE(contains(message, std::string(field).substr(std::string(field).rfind('/') + 1)),
                  message);
  }
  fs::remove_all(dir);
}
