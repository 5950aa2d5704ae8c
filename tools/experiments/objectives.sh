#!/usr/bin/env bash
# objectives.sh — every registered pre-training objective (and variants given as config files)
# at equal size, data, steps and seed: pre-train each, fine-tune each checkpoint on the same task
# with several seeds, and print one markdown table: the pre-training metrics at the end of the
# run (mean over the metrics.jsonl lines of the last --tail updates: the losses, every extra
# named loss an objective logs as <name>_loss, generator accuracy, discriminator AUC overall and
# within token id, the replaced share) and the dev accuracy / F1 / MCC as mean ± sample std over
# the fine-tuning seeds.
#
#   tools/experiments/objectives.sh [--objectives "electra mlm ..."] [--configs "a.json b.json"]
#       [--preset tiny] [--steps 300] [--seeds "1 2 3"] [--tail 100]
#       [--shards data-cache/shards-128] [--train data-cache/spam/train.tsv]
#       [--dev data-cache/spam/dev.tsv] [--labels ham,spam] [--max-train 2000] [--epochs 3]
#       [--max-seq-length 64] [--lr 1e-3] [--pretrain-seed 42] [--out runs/objectives]
#       [--jobs 1] [--threads N]
# --objectives: default every objective `electra pretrain --help` lists. --configs: variants,
# each a JSON file of config fields over the preset (its name is the file's name without .json;
# the objective is its "objective" field, else electra); default every file in
# tools/experiments/configs/. A variant whose file the binary refuses (a field or an objective
# it does not know yet) is left out with the reason; any other failure stops the script.
# Pre-training runs that ended with a checkpoint in --out are reused, and so are fine-tuning
# runs made with the same arguments, so an interrupted experiment continues where it stopped
# (use a new --out after changing the binary or a pre-training flag). --jobs N runs N
# experiments side by side (e.g. --jobs 2 --threads 1 on 2 cores); they start in the order
# given, so list the slowest first. Progress lines go to stderr.
# ELECTRA=path/to/electra picks the binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
script=objectives.sh
. tools/experiments/common.sh
out=runs/objectives max_train=2000 epochs=3 max_seq_length=64 lr=1e-3 log_every=10 tail_updates=100
parallel_jobs=1
objectives="" configs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --objectives) objectives="$2" ;; --configs) configs="$2" ;; --tail) tail_updates="$2" ;;
    --jobs) parallel_jobs="$2" ;;
    *) common_option "$1" "${2-}" || { echo "$script: unknown option $1" >&2; exit 2; } ;;
  esac
  shift 2
done
require_inputs

# The registered objectives, from `pretrain --help`: the "  name: summary" lines under
# --objective, else its {a,b} set; else the names the refusal of an unknown one lists.
registered_objectives() {
  local names
  names=$("$electra" pretrain --help | awk '
    /^ *--objective/ { inside = 1; if (match($0, /\{[^}]*\}/)) braces = substr($0, RSTART + 1, RLENGTH - 2); next }
    inside && /^ *-/ { inside = 0 }
    inside && match($0, /^ *[a-z][a-z0-9_]*:/) { row = substr($0, RSTART, RLENGTH - 1); gsub(/ /, "", row); rows = rows " " row }
    END { if (rows != "") print rows; else { gsub(/,/, " ", braces); print braces } }')
  if [ -z "${names// /}" ]; then
    names=$("$electra" pretrain --data "$shards" --out "$out/unused" --objective '?' 2>&1 |
      sed -nE 's/.*registered: ([^)]*)\).*/\1/p; s/.*\{([^}]*)\}.*/\1/p' | tr ',' ' ')
  fi
  [ -n "${names// /}" ] || { echo "$script: no objective listed by $electra pretrain --help" >&2; exit 1; }
  awk '{ $1 = $1; print }' <<<"$names"  # one space between names
}
[ -n "$objectives" ] || objectives=$(registered_objectives)
if [ -z "$configs" ] && compgen -G "tools/experiments/configs/*.json" >/dev/null; then
  configs=$(echo tools/experiments/configs/*.json)
fi
mkdir -p "$out"
started=$(date +%s)

# One objective or variant: pre-train, then fine-tune every seed. A variant the binary refuses
# for an unknown config key or objective leaves $out/NAME.skipped (the reason) and succeeds.
experiment() {  # name pretrain-args...
  local name=$1 reason
  echo "$(date -u +%H:%M:%S) $name: pre-training" >&2
  if ! pretrain "$@" 2>"$out/$name.err"; then
    if grep -q "config: unknown key\|objective = '.*': unknown" "$out/pretrain-$name.log"; then
      reason=$(grep -m 1 'error' "$out/pretrain-$name.log")
      echo "${reason#electra: error: }" >"$out/$name.skipped"
      echo "$(date -u +%H:%M:%S) $name: left out: ${reason#electra: error: }" >&2
      rm -f "$out/$name.err"
      return 0
    fi
    cat "$out/$name.err" >&2
    return 1
  fi
  rm -f "$out/$name.err"
  echo "$(date -u +%H:%M:%S) $name: fine-tuning (seeds $seeds)" >&2
  finetune_seeds "$name" || return 1
  echo "$(date -u +%H:%M:%S) $name: done" >&2
}

# Up to --jobs experiments at once (each electra command with --threads, if given); none is
# started after one failed, and the script fails once the running ones have ended.
names="" failed=0
start_experiment() {  # name pretrain-args...
  while [ "$(jobs -rp | wc -l)" -ge "$parallel_jobs" ]; do wait -n || failed=1; done
  [ "$failed" = 0 ] || return 0  # no new experiment after a failure
  rm -f "$out/$1.skipped"
  names="$names $1"
  experiment "$@" &
}
for objective in $objectives; do start_experiment "$objective" --objective "$objective"; done
for config in $configs; do start_experiment "$(basename "$config" .json)" --config "$config"; done
while [ -n "$(jobs -rp)" ]; do wait -n || failed=1; done
[ "$failed" = 0 ] || { echo "$script: an experiment failed (above)" >&2; exit 1; }
runs="" skipped=""
for name in $names; do
  if [ -e "$out/$name.skipped" ]; then skipped="$skipped"$'\n'"- $name: $(cat "$out/$name.skipped")"
  else runs="$runs $name"; fi
done

# Means over the last $tail_updates updates of a run's metrics.jsonl (nulls skipped): one
# "key value" line per numeric key, "key -" for a key that is null on every line.
pretrain_means() {  # name
  awk -v from="$((steps - tail_updates))" '
    { line = $0; gsub(/[{}"]/, "", line); n = split(line, pairs, ",")
      delete value
      for (i = 1; i <= n; i++) { split(pairs[i], kv, ":"); value[kv[1]] = kv[2]
        if (!(kv[1] in seen)) { seen[kv[1]] = 1; keys[++count] = kv[1] } }
      if (value["step"] + 0 <= from) next
      for (k in value) if (value[k] != "null") { sum[k] += value[k]; defined[k]++ } }
    END { for (i = 1; i <= count; i++) { k = keys[i]
            if (defined[k]) printf "%s %.3f\n", k, sum[k] / defined[k]; else printf "%s -\n", k } }
  ' "$out/pretrain-$1/metrics.jsonl"
}

# Columns: the fixed metrics, then every other *_loss any run logged, in order of appearance.
columns="mlm_loss gen_acc disc_loss disc_auc disc_auc_context replaced_frac"
for name in $runs; do
  for key in $(pretrain_means "$name" | awk '{ print $1 }' | grep '_loss$'); do
    case " total_loss $columns " in *" $key "*) ;; *) columns="$columns $key" ;; esac
  done
done
cell() {  # means key
  local found
  found=$(awk -v key="$2" '$1 == key { print $2 }' <<<"$1")
  echo "${found:--}"
}

task=$(task_name)
echo
echo "preset $preset, $steps pre-training updates (seed $pretrain_seed) on $shards; pre-training"
echo "metrics: means over the metrics lines of the last $tail_updates updates (- : not defined for"
echo "the objective); fine-tuning: seeds $seeds, $max_train $task train examples, $epochs epochs,"
echo "lr $lr, max $max_seq_length tokens, dev $dev (mean ± sample std); binary $electra"
header="| objective |" rule="|---|"
for key in $columns; do header="$header $key |" rule="$rule---|"; done
echo "$header $task dev accuracy | $task dev F1 | $task dev MCC |"
echo "$rule---|---|---|"
for name in $runs; do
  means=$(pretrain_means "$name")
  row="| $name |"
  for key in $columns; do row="$row $(cell "$means" "$key") |"; done
  echo "$row $(summary "$name" accuracy) | $(summary "$name" f1) | $(summary "$name" mcc) |"
done
[ -z "$skipped" ] || echo "Left out (the binary refused the config):$skipped"
echo "wall time: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
