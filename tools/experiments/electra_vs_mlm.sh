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
# Shards: `electra prepare` output (made with the BERT vocab by tools/quickstart.sh); the task:
# the spam/ham split of tools/fetch-data.sh. ELECTRA=path/to/electra picks the binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
electra="${ELECTRA:-build/release/tools/electra}"
preset=tiny steps=300 seeds="1 2 3" shards=data-cache/shards-128 vocab=data-cache/vocab.txt
train=data-cache/spam/train.tsv dev=data-cache/spam/dev.tsv labels=ham,spam
max_train=1000 epochs=2 max_seq_length=128 lr=3e-4 out=runs/electra_vs_mlm pretrain_seed=42
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset="$2" ;; --steps) steps="$2" ;; --seeds) seeds="$2" ;; --shards) shards="$2" ;;
    --vocab) vocab="$2" ;; --train) train="$2" ;; --dev) dev="$2" ;; --labels) labels="$2" ;;
    --max-train) max_train="$2" ;; --epochs) epochs="$2" ;; --max-seq-length) max_seq_length="$2" ;;
    --lr) lr="$2" ;; --out) out="$2" ;; --pretrain-seed) pretrain_seed="$2" ;;
    *) echo "electra_vs_mlm.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
for needed in "$electra" "$shards/meta.json" "$vocab" "$train" "$dev"; do
  [ -e "$needed" ] || { echo "electra_vs_mlm.sh: missing $needed (run tools/quickstart.sh first)" >&2; exit 1; }
done
mkdir -p "$out"

for objective in electra mlm; do
  run="$out/pretrain-$objective"
  if [ ! -d "$run" ] || ! ls "$run"/step-* >/dev/null 2>&1; then
    "$electra" pretrain --data "$shards" --vocab "$vocab" --out "$run" --preset "$preset" \
      --objective "$objective" --max-steps "$steps" --seed "$pretrain_seed" --save-every 0 --log-every 25 \
      > "$out/pretrain-$objective.log" 2>&1
  fi
  for seed in $seeds; do
    "$electra" finetune --init "$run" --train "$train" --dev "$dev" --labels "$labels" \
      --out "$out/finetune-$objective-seed$seed" --seed "$seed" --epochs "$epochs" --lr "$lr" \
      --max-train-examples "$max_train" --max-seq-length "$max_seq_length" --overwrite \
      > "$out/finetune-$objective-seed$seed.log" 2>&1
  done
done

# The best epoch's dev metrics are on the last metrics.jsonl line marked "best":true.
best_metric() {  # file key
  grep '"best":true' "$1" | tail -n 1 | sed -E "s/.*\"$2\":([-0-9.eE+]+|null).*/\\1/"
}
summary() {  # objective key → "mean ± std"
  for seed in $seeds; do best_metric "$out/finetune-$1-seed$seed/metrics.jsonl" "$2"; done |
    awk '{ n++; s += $1; q += $1 * $1 } END { m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0;
           if (v < 0) v = 0; printf "%.3f ± %.3f", m, sqrt(v) }'
}
task_name="$(basename "$(dirname "$train")")"
echo
echo "preset $preset, $steps pre-training steps (seed $pretrain_seed), fine-tuning seeds: $seeds"
echo "task $task_name: $max_train train examples, $epochs epochs, lr $lr, dev $dev"
printf '| objective | %s dev accuracy | %s dev F1 | %s dev MCC |\n' "$task_name" "$task_name" "$task_name"
printf '|---|---|---|---|\n'
for objective in electra mlm; do
  printf '| %s | %s | %s | %s |\n' "$objective" "$(summary $objective accuracy)" "$(summary $objective f1)" \
    "$(summary $objective mcc)"
done
