// Bad flag values through the binary: one line "electra: error: <command>: --flag: ...", naming
// the rule and the value as typed — no 309-digit DBL_MAX (CLI11's range message), no "not in
// range" for a non-number, no "Could not convert", no wrapped unsigned values.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "helpers/cli_run.hpp"

using namespace electra::test;

namespace {

// The longest run of decimal digits in `text`.
std::size_t longest_digit_run(const std::string& text) {
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = std::isdigit(static_cast<unsigned char>(c)) ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

struct BadFlag {
  std::string arguments;  // after the binary; the required flags are dummies (parsing fails first)
  std::string message;    // the whole line after "electra: error: "
};

void check_refused(const BadFlag& bad) {
  const electra::test::Run run = run_command(electra_binary + " " + bad.arguments);
  INFO("electra ", bad.arguments, "\n", run.output);
  CHECK(run.exit_code != 0);
  CHECK(run.output == "electra: error: " + bad.message + "\n");  // one line, nothing else
  CHECK(longest_digit_run(run.output) <= 20);  // the longest value typed; DBL_MAX has 309
}

}  // namespace

TEST_CASE("cli messages: out-of-range values name the rule and the value") {
  const std::string finetune = "finetune --init i --train t --dev d --out o ";
  const std::string pretrain = "pretrain --data d --out o ";
  const std::vector<BadFlag> cases = {
      {pretrain + "--batch 0", "pretrain: --batch: must be a positive integer, got 0"},
      {pretrain + "--lr -1e-3", "pretrain: --lr: must be a positive number, got -1e-3"},
      {pretrain + "--max-minutes -2",
       "pretrain: --max-minutes: must be a non-negative number, got -2"},
      {pretrain + "--warmup -5", "pretrain: --warmup: must be a non-negative integer, got -5"},
      {pretrain + "--total-steps 0", "pretrain: --total-steps: must be a positive integer, got 0"},
      {pretrain + "--grad-accum 0", "pretrain: --grad-accum: must be a positive integer, got 0"},
      {pretrain + "--log-every -1",
       "pretrain: --log-every: must be a non-negative integer, got -1"},
      {finetune + "--batch 0", "finetune: --batch: must be a positive integer, got 0"},
      {finetune + "--epochs 0", "finetune: --epochs: must be a positive integer, got 0"},
      {finetune + "--lr 0", "finetune: --lr: must be a positive number, got 0"},
      {finetune + "--layer-decay 1.5", "finetune: --layer-decay: must be between 0 and 1, got 1.5"},
      {finetune + "--warmup-fraction -0.1",
       "finetune: --warmup-fraction: must be between 0 and 1, got -0.1"},
      {finetune + "--weight-decay -0.01",
       "finetune: --weight-decay: must be a non-negative number, got -0.01"},
      {finetune + "--patience -1", "finetune: --patience: must be a non-negative integer, got -1"},
      {finetune + "--eval-batch 0", "finetune: --eval-batch: must be a positive integer, got 0"},
      {"evaluate --model m --data d --batch 0",
       "evaluate: --batch: must be a positive integer, got 0"},
      {"plot m.jsonl --smooth 0", "plot: --smooth: must be a positive integer, got 0"},
      {"vocab --corpus c --out o --size 0", "vocab: --size: must be a positive integer, got 0"},
      {"bench --preset tiny --seq-len 0", "bench: --seq-len: must be a positive integer, got 0"},
      {"bench --preset tiny --warmup-steps -1",
       "bench: --warmup-steps: must be a non-negative integer, got -1"},
  };
  for (const BadFlag& bad : cases) check_refused(bad);
}

TEST_CASE("cli messages: values that are no number say so") {
  const std::string finetune = "finetune --init i --train t --dev d --out o ";
  const std::string pretrain = "pretrain --data d --out o ";
  const std::vector<BadFlag> cases = {
      {finetune + "--lr abc", "finetune: --lr: 'abc' is not a number"},
      {pretrain + "--lr abc", "pretrain: --lr: 'abc' is not a number"},
      {pretrain + "--lr nan", "pretrain: --lr: 'nan' is not a finite number"},
      {pretrain + "--lr 1e999", "pretrain: --lr: '1e999' is not a finite number"},
      {pretrain + "--batch 1.5", "pretrain: --batch: '1.5' is not an integer"},
      {pretrain + "--batch 0x10", "pretrain: --batch: '0x10' is not an integer"},
      {pretrain + "--max-steps 99999999999999999999",
       "pretrain: --max-steps: '99999999999999999999' is out of range for an integer"},
      // Options without a range check of their own get their type's syntax check.
      {pretrain + "--keep abc", "pretrain: --keep: 'abc' is not an integer"},
      {finetune + "--seed x1", "finetune: --seed: 'x1' is not an integer"},
      {"bench --preset tiny --steps many", "bench: --steps: 'many' is not an integer"},
      // Fits 64 bits but not the option's int: CLI11's "Could not convert: --smooth = ..."
      // otherwise.
      {"plot m.jsonl --smooth 99999999999", "plot: --smooth: '99999999999' is out of range"},
  };
  for (const BadFlag& bad : cases) check_refused(bad);
}

TEST_CASE("cli messages: an unsigned flag refuses a negative value instead of wrapping it") {
  check_refused({"pretrain --data d --out o --seed -1",
                 "pretrain: --seed: must be a non-negative integer, got -1"});
  check_refused({"inspect --checkpoint c --text t --seed -1",
                 "inspect: --seed: must be a non-negative integer, got -1"});
  check_refused(
      {"--threads -1 plot m.jsonl", "plot: --threads: must be a non-negative integer, got -1"});
}

TEST_CASE("cli messages: inspect reads one sentence or corpus batches, not both or neither") {
  check_refused(
      {"inspect --checkpoint c", "inspect: give --text (one sentence) or --data (corpus batches)"});
  check_refused({"inspect --checkpoint c --text t --data d",
                 "inspect: --text excludes --data (run with --help for the flags)"});
}

TEST_CASE("cli messages: a missing or unknown flag is one line pointing at --help") {
  const electra::test::Run missing = run_command(electra_binary + " evaluate --model m");
  CHECK(missing.exit_code != 0);
  CHECK(missing.output ==
        "electra: error: evaluate: --data is required (run with --help for the flags)\n");
  const electra::test::Run unknown = run_command(electra_binary + " plot m.jsonl --smoth 3");
  CHECK(unknown.exit_code != 0);
  CHECK(contains(unknown.output, "--smoth"));
  CHECK(std::count(unknown.output.begin(), unknown.output.end(), '\n') == 1);
}

TEST_CASE("cli messages: integers are read in decimal, as written") {
  // CLI11 alone reads "010" as octal 8.
  const electra::test::Run run =
      run_command(electra_binary +
                  " bench --preset tiny --batch 010 --seq-len 8 --steps 1 "
                  "--warmup-steps 0 --threads 1");
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  CHECK(contains(run.output, "batch 10,"));
}
