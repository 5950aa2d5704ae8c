// The startup checks of a data-parallel `electra pretrain`: see pretrain_ranks.hpp.
#include "tools/pretrain_ranks.hpp"

#include <nlohmann/json.hpp>

#include "data/shards.hpp"
#include "engine/error.hpp"

namespace electra::cli {

std::string pretrain_identity(const CLI::App& app, const TrainerOptions& options) {
  nlohmann::ordered_json identity = nlohmann::ordered_json::object();
  std::vector<const CLI::Option*> given = app.get_options();
  if (const CLI::Option* threads = app.get_parent()->get_option_no_throw("--threads"))
    given.push_back(threads);
  for (const CLI::Option* option : given) {
    if (option->count() == 0 || option->get_lnames().empty()) continue;
    const std::string name = "--" + option->get_lnames().front();
    if (name == "--data" || name == "--vocab" || name == "--help") continue;
    std::string value;
    for (const std::string& result : option->results())
      value += (value.empty() ? "" : " ") + result;
    identity[name] = value;
  }
  const ShardSetInfo shards = read_shard_set_info(options.shards_dir);
  identity["shards (vocabulary sha256, sequences)"] =
      shards.vocab_sha256 + ", " + std::to_string(shards.sequences);
  identity["model config"] = to_json(options.config).dump();
  return identity.dump();
}

void check_same_run(Communicator& communicator, const std::string& failure,
                    const std::string& identity) {
  // One gather: "!" + a failure, or "=" + the identity.
  const std::vector<std::string> answers =
      communicator.gather_strings(failure.empty() ? "=" + identity : "!" + failure);
  std::string failures;
  for (std::size_t rank = 0; rank < answers.size(); ++rank)
    if (answers[rank].rfind('!', 0) == 0)
      failures += (failures.empty() ? "" : "; ") + std::string("rank ") + std::to_string(rank) +
                  ": " + answers[rank].substr(1);
  if (!failures.empty()) throw CollectiveError(failures);

  const auto root = nlohmann::ordered_json::parse(answers[0].substr(1));
  for (std::size_t rank = 1; rank < answers.size(); ++rank) {
    const auto other = nlohmann::ordered_json::parse(answers[rank].substr(1));
    if (other == root) continue;
    // The first key (in rank 0's order, then the other's) whose values differ.
    auto value_of = [](const nlohmann::ordered_json& json, const std::string& key) {
      return json.contains(key) ? json[key].get<std::string>() : std::string("(not given)");
    };
    std::string key;
    for (const auto& [name, value] : root.items())
      if (key.empty() && value_of(other, name) != value.get<std::string>()) key = name;
    for (const auto& [name, value] : other.items())
      if (key.empty() && value_of(root, name) != value.get<std::string>()) key = name;
    throw CollectiveError("pretrain: the ranks of one run were started with different " + key +
                          ": " + value_of(root, key) + " on rank 0, " + value_of(other, key) +
                          " on rank " + std::to_string(rank) +
                          " (every rank needs the same flags, config and shards)");
  }
}

}  // namespace electra::cli
