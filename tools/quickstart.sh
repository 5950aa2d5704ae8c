#!/usr/bin/env bash
# quickstart.sh — the README's main job, from a fresh clone to a pre-trained ELECTRA:
#   1. install missing Debian packages and build (tools/setup.sh)
#   2. fetch the default corpus and BERT vocabulary (tools/fetch-data.sh → data-cache/)
#   3. tokenise and pack it into shards (electra prepare → data-cache/shards-128/)
#   4. pre-train the `mini` preset with a progress bar: its whole 800-update schedule, about 10
#      minutes on 2 cores, stopped (with a checkpoint) at 15 minutes on a slower machine
#      (electra pretrain → runs/quickstart/: checkpoints, metrics.jsonl, curves.svg), with the
#      recipe tools/recipes/mini_context.json: the generator samples at temperature 3, under
#      which the discriminator starts judging its replacements in context within the first
#      few million tokens (docs/learning-dynamics.md)
# Every flag is passed on to `electra pretrain` (and replaces the defaults --preset mini,
# --config tools/recipes/mini_context.json and --max-minutes 15), so the same command trains
# `small` or runs long:
#   tools/quickstart.sh --preset small --max-minutes 600 --overwrite
#   tools/quickstart.sh --max-steps 20000 --total-steps 20000 --overwrite
# Re-running continues the run in runs/quickstart when it holds a checkpoint (--resume is added;
# a finished run then just reports that it is finished); --overwrite starts it afresh instead.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir="${ELECTRA_DATA_DIR:-data-cache}"
run_dir="${ELECTRA_RUN_DIR:-runs/quickstart}"

# Whether the flag $1 is among the remaining arguments (as "--flag value" or "--flag=value").
has_flag() {
  local flag=$1 arg
  shift
  for arg in "$@"; do
    case "$arg" in "$flag" | "$flag"=*) return 0 ;; esac
  done
  return 1
}

tools/setup.sh
tools/fetch-data.sh "$data_dir"
electra=build/release/tools/electra
shards="$data_dir/shards-128"
if [ ! -f "$shards/meta.json" ]; then
  "$electra" prepare --corpus "$data_dir/corpus" --vocab "$data_dir/vocab.txt" --seq-len 128 \
    --out "$shards"
fi
# A flag given twice is an error to `electra pretrain`, so a default is added only when absent.
defaults=()
has_flag --preset "$@" || defaults+=(--preset mini)
has_flag --config "$@" || defaults+=(--config tools/recipes/mini_context.json)
has_flag --max-minutes "$@" || defaults+=(--max-minutes 15)
if compgen -G "$run_dir/step-*/trainer_state.json" >/dev/null &&
  ! has_flag --resume "$@" && ! has_flag --overwrite "$@"; then
  echo "quickstart: $run_dir holds a run: continuing it (--resume); pass --overwrite to start afresh"
  defaults+=(--resume)
fi
"$electra" pretrain --data "$shards" --out "$run_dir" ${defaults[@]+"${defaults[@]}"} "$@"
# One logged batch holds few within-id pairs; 16 batches pooled say far more reliably whether the
# discriminator judges tokens in context (0.5: it does not; 64 batches and two seeds for a study).
echo "quickstart: the discriminator over 16 corpus batches (electra inspect --data):"
"$electra" inspect --checkpoint "$run_dir" --data "$shards" --batches 16
