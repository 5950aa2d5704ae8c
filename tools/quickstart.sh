#!/usr/bin/env bash
# quickstart.sh — the README's main job, from a fresh clone to a pre-trained ELECTRA:
#   1. install missing Debian packages and build (tools/setup.sh)
#   2. fetch the default corpus and BERT vocabulary (tools/fetch-data.sh → data-cache/)
#   3. tokenise and pack it into shards (electra prepare → data-cache/shards-128/)
#   4. pre-train the `mini` preset with a progress bar: its whole 800-update schedule, about 10
#      minutes on 2 cores, stopped (with a checkpoint) at 15 minutes on a slower machine
#      (electra pretrain → runs/quickstart/: checkpoints, metrics.jsonl, curves.svg)
# Every flag is passed on to `electra pretrain`, so the same command trains `small` or runs long:
#   tools/quickstart.sh --preset small --max-minutes 600
#   tools/quickstart.sh --max-steps 20000 --total-steps 20000
# Re-running resumes nothing by itself: it starts a fresh run unless you pass --resume.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir="${ELECTRA_DATA_DIR:-data-cache}"
run_dir="${ELECTRA_RUN_DIR:-runs/quickstart}"

tools/setup.sh
tools/fetch-data.sh "$data_dir"
electra=build/release/tools/electra
shards="$data_dir/shards-128"
if [ ! -f "$shards/meta.json" ]; then
  "$electra" prepare --corpus "$data_dir/corpus" --vocab "$data_dir/vocab.txt" --seq-len 128 \
    --out "$shards"
fi
"$electra" pretrain --data "$shards" --out "$run_dir" --preset mini --max-minutes 15 "$@"
