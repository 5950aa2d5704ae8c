#!/usr/bin/env bash
# electra_vs_mlm.sh — the paper's central comparison at a size this machine affords:
# pre-train objective=electra and objective=mlm (BERT-style masked LM at the discriminator's
# size) with the same preset, data, steps and seed; fine-tune both on the same task with several
# fine-tuning seeds; print dev accuracy / F1 / MCC as mean ± std (sample std over the seeds).
#
#   tools/experiments/electra_vs_mlm.sh [--preset tiny] [--steps 300] [--seeds "1 2 3"]
#       [--shards data-cache/shards-128] [--train data-cache/spam/train.tsv]
#       [--dev data-cache/spam/dev.tsv] [--labels ham,spam] [--max-train 1000] [--epochs 2]
#       [--max-seq-length 128] [--lr 3e-4] [--out runs/electra_vs_mlm]
#       [--electra-run DIR] [--mlm-run DIR]
# --electra-run / --mlm-run fine-tune an existing pre-training run (its latest checkpoint) or one
# checkpoint (step-N/) instead of pre-training: long runs made with other flags, compared at
# several fine-tuning settings.
# Shards: `electra prepare` output (made with the BERT vocab by tools/quickstart.sh); the task:
# the spam/ham split of tools/fetch-data.sh. ELECTRA=path/to/electra picks the binary. The shared
# parts (flags, one pre-training run, the fine-tuning seeds, mean ± std) are in common.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
script=electra_vs_mlm.sh
. tools/experiments/common.sh
out=runs/electra_vs_mlm
declare -A given_run=()
while [ $# -gt 0 ]; do
  case "$1" in
    --electra-run) given_run[electra]="$2" ;;
    --mlm-run) given_run[mlm]="$2" ;;
    *) common_option "$1" "${2-}" || { echo "$script: unknown option $1" >&2; exit 2; } ;;
  esac
  shift 2
done
require_inputs
mkdir -p "$out"

for objective in electra mlm; do
  if [ -n "${given_run[$objective]-}" ]; then
    compgen -G "${given_run[$objective]}/step-*" >/dev/null ||
      [ -f "${given_run[$objective]}/trainer_state.json" ] ||
      { echo "$script: ${given_run[$objective]} is neither a run nor a checkpoint" >&2; exit 1; }
    if [ -e "$out/pretrain-$objective" ] && [ ! -L "$out/pretrain-$objective" ]; then
      echo "$script: $out/pretrain-$objective holds a run of its own; use another --out" >&2
      exit 1
    fi
    ln -sfn "$(cd "${given_run[$objective]}" && pwd)" "$out/pretrain-$objective"
  else
    pretrain "$objective" --objective "$objective" || exit 1
  fi
  finetune_seeds "$objective" || exit 1
done

echo
if ((${#given_run[@]} > 0)); then
  for objective in electra mlm; do
    echo "$objective: pre-trained in $(readlink -f "$out/pretrain-$objective")"
  done
  echo "fine-tuning seeds: $seeds"
else
  echo "preset $preset, $steps pre-training steps (seed $pretrain_seed), fine-tuning seeds: $seeds"
fi
echo "task $(task_name): $max_train train examples, $epochs epochs, lr $lr, dev $dev"
printf '| objective | %s dev accuracy | %s dev F1 | %s dev MCC |\n' "$(task_name)" "$(task_name)" "$(task_name)"
printf '|---|---|---|---|\n'
for objective in electra mlm; do
  printf '| %s | %s | %s | %s |\n' "$objective" "$(summary $objective accuracy)" "$(summary $objective f1)" \
    "$(summary $objective mcc)"
done
