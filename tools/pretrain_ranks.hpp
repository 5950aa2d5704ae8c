#pragma once
// `electra pretrain` under mpirun: what the ranks of one run check together before training
// (docs/distributed.md). Every rank's startup failure and run identity are gathered in one
// collective, so a rank that cannot read its shards, or was started with other flags, stops
// every rank with one message instead of leaving them waiting in the first sum.
#include <CLI/CLI.hpp>
#include <string>

#include "engine/communicator.hpp"
#include "models/training/trainer.hpp"

namespace electra::cli {

// The run as this rank sees it, one "name=value" per flag given (in the command's order) and
// the resolved model config and shard contents: equal on every rank of one run. --data and
// --vocab are compared by content (the shards' vocabulary digest and size), not by path, so
// each host may keep its own copy.
std::string pretrain_identity(const CLI::App& app, const TrainerOptions& options);

// Collective. Throws CollectiveError on every rank when any rank's `failure` is non-empty
// ("rank R: failure") or when the identities differ (naming the first differing flag and its
// value on each rank).
void check_same_run(Communicator& communicator, const std::string& failure,
                    const std::string& identity);

}  // namespace electra::cli
