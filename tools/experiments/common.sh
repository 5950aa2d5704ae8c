# shellcheck shell=bash
# common.sh — the parts the experiment scripts share, sourced by electra_vs_mlm.sh and
# objectives.sh (not run on its own): the common flags and their defaults, the input checks,
# one pre-training run, the fine-tuning seeds of one checkpoint, and the mean ± sample std of a
# fine-tuning metric over those seeds. The caller sets `script` (its name, for messages) and has
# cd'd to the repository root.

script="${script:-experiment}"
electra="${ELECTRA:-build/release/tools/electra}"
preset=tiny steps=300 seeds="1 2 3" shards=data-cache/shards-128 vocab=data-cache/vocab.txt
train=data-cache/spam/train.tsv dev=data-cache/spam/dev.tsv labels=ham,spam
max_train=1000 epochs=2 max_seq_length=128 lr=3e-4 pretrain_seed=42 log_every=25
threads=""  # --threads of every electra command (empty: its default, all cores)

# Takes one "--flag value" pair the experiments share; returns 1 for a flag it does not know.
common_option() {  # flag value
  case "$1" in
    --preset) preset="$2" ;; --steps) steps="$2" ;; --seeds) seeds="$2" ;; --shards) shards="$2" ;;
    --vocab) vocab="$2" ;; --train) train="$2" ;; --dev) dev="$2" ;; --labels) labels="$2" ;;
    --max-train) max_train="$2" ;; --epochs) epochs="$2" ;; --max-seq-length) max_seq_length="$2" ;;
    --lr) lr="$2" ;; --out) out="$2" ;; --pretrain-seed) pretrain_seed="$2" ;; --threads) threads="$2" ;;
    *) return 1 ;;
  esac
}

require_inputs() {
  local needed
  for needed in "$electra" "$shards/meta.json" "$vocab" "$train" "$dev"; do
    [ -e "$needed" ] || { echo "$script: missing $needed (run tools/quickstart.sh first)" >&2; exit 1; }
  done
}

# Pre-trains into $out/pretrain-NAME unless it already holds a checkpoint (a re-run after an
# interruption redoes only what is missing); the log goes to $out/pretrain-NAME.log. The extra
# arguments select the objective (--objective X, --config FILE). A failed run shows the log's
# last lines and returns 1.
pretrain() {  # name pretrain-args...
  local name=$1 run="$out/pretrain-$1"
  shift
  if [ -d "$run" ] && ls "$run"/step-* >/dev/null 2>&1; then return 0; fi
  if ! "$electra" pretrain ${threads:+--threads "$threads"} --data "$shards" --vocab "$vocab" \
    --out "$run" --preset "$preset" "$@" --max-steps "$steps" --seed "$pretrain_seed" --save-every 0 --log-every "$log_every" \
    --overwrite > "$out/pretrain-$name.log" 2>&1; then
    echo "$script: pre-training $name failed; the end of $out/pretrain-$name.log:" >&2
    tail -n 5 "$out/pretrain-$name.log" >&2
    return 1
  fi
}

# Fine-tunes $out/pretrain-NAME once per seed in $seeds into $out/finetune-NAME-seedS; returns 1
# (after the failed run's last log lines) when one fails. A seed whose finished run was made with
# the very same arguments (recorded in finetune-NAME-seedS.args) is reused, not run again.
finetune_seeds() {  # name
  local seed args stamp
  for seed in $seeds; do
    args=(--init "$out/pretrain-$1" --train "$train" --dev "$dev" --labels "$labels"
      --out "$out/finetune-$1-seed$seed" --seed "$seed" --epochs "$epochs" --lr "$lr"
      --max-train-examples "$max_train" --max-seq-length "$max_seq_length" --overwrite)
    stamp="$out/finetune-$1-seed$seed.args"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${args[*]}" ] &&
      grep -q '"best":true' "$out/finetune-$1-seed$seed/metrics.jsonl" 2>/dev/null; then
      continue
    fi
    rm -f "$stamp"
    if ! "$electra" finetune ${threads:+--threads "$threads"} "${args[@]}" \
      > "$out/finetune-$1-seed$seed.log" 2>&1; then
      echo "$script: fine-tuning $1 (seed $seed) failed; the end of $out/finetune-$1-seed$seed.log:" >&2
      tail -n 5 "$out/finetune-$1-seed$seed.log" >&2
      return 1
    fi
    printf '%s\n' "${args[*]}" > "$stamp"
  done
}

# The best epoch's dev metrics are on the last metrics.jsonl line marked "best":true.
best_metric() {  # file key
  grep '"best":true' "$1" | tail -n 1 | sed -E "s/.*\"$2\":([-0-9.eE+]+|null).*/\\1/"
}

# "mean ± std" of a fine-tuning metric over $seeds (sample std, n − 1).
summary() {  # name key
  local seed
  for seed in $seeds; do best_metric "$out/finetune-$1-seed$seed/metrics.jsonl" "$2"; done |
    awk '{ n++; s += $1; q += $1 * $1 } END { m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0;
           if (v < 0) v = 0; printf "%.3f ± %.3f", m, sqrt(v) }'
}

task_name() { basename "$(dirname "$train")"; }
