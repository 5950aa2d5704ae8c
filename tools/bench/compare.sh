#!/usr/bin/env bash
# electra.cpp against PyTorch on the same ELECTRA training step, run interleaved: in each round
# `electra bench --preset P` runs, then tools/reference/bench_torch.py at the same preset, batch,
# sequence length, step counts and thread count, so that both see the same machine load. One
# line per round (both tokens/s, both peak RSS, the ratios), then the medians.
# docs/performance.md explains the columns. Needs /usr/bin/python3 with torch (Debian:
# python3-torch); nothing in the build or CI runs this.
#
#   tools/bench/compare.sh --preset mini --threads 2 --rounds 3
#   tools/bench/compare.sh --preset small --batch 32 --seq-len 128 --threads 1 --steps 5
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
usage() {
  cat <<EOF
usage: $0 [options]
  --preset P         tiny | mini | small (default small)
  --batch B          sequences per step (default: the preset's, tiny 8, mini/small 32)
  --seq-len L        sequence length (default: the preset's, tiny 64, mini/small 128)
  --threads T        threads for both programs (default: all cores, $(nproc))
  --rounds R         interleaved rounds, at least 3 (default 3)
  --steps N          timed steps per run (default 10)
  --warmup-steps W   untimed first steps per run (default 2)
  --electra PATH     the electra binary (default \$ELECTRA or build/release/tools/electra)
  --python PATH      a Python with torch (default /usr/bin/python3)
  --log-dir DIR      keep every run's full output there (default: a temporary directory, removed)
  --glibc-malloc-defaults  leave glibc's malloc untuned (torch then page-faults its activations in
                     again in every step; docs/performance.md)
EOF
}
die() { echo "compare.sh: $*" >&2; exit 1; }

preset=small batch="" seq_len="" threads=$(nproc) rounds=3 steps=10 warmup=2
electra=${ELECTRA:-$root/build/release/tools/electra} python=/usr/bin/python3 log_dir="" tune_malloc=1
while [[ $# -gt 0 ]]; do
  [[ $1 == -h || $1 == --help ]] && { usage; exit 0; }
  [[ $1 == --glibc-malloc-defaults ]] && { tune_malloc=0; shift; continue; }
  [[ $# -ge 2 ]] || die "$1 needs a value (--help lists the options)"
  case $1 in
    --preset) preset=$2 ;;
    --batch) batch=$2 ;;
    --seq-len) seq_len=$2 ;;
    --threads) threads=$2 ;;
    --rounds) rounds=$2 ;;
    --steps) steps=$2 ;;
    --warmup-steps) warmup=$2 ;;
    --electra) electra=$2 ;;
    --python) python=$2 ;;
    --log-dir) log_dir=$2 ;;
    *) die "unknown option '$1' (--help lists the options)" ;;
  esac
  shift 2
done

case $preset in
  tiny) : "${batch:=8}" "${seq_len:=64}" ;;
  mini | small) : "${batch:=32}" "${seq_len:=128}" ;;
  *) die "--preset: '$preset' is not tiny, mini or small" ;;
esac
for pair in "--batch:$batch" "--seq-len:$seq_len" "--threads:$threads" "--rounds:$rounds" "--steps:$steps"; do
  [[ ${pair#*:} =~ ^[1-9][0-9]*$ ]] || die "${pair%%:*}: must be a positive integer, got '${pair#*:}'"
done
[[ $warmup =~ ^[0-9]+$ ]] || die "--warmup-steps: must be an integer ≥ 0, got '$warmup'"
((rounds >= 3)) || die "--rounds: at least 3 (one round says nothing on a shared machine), got $rounds"
[[ -x $electra ]] || die "--electra: '$electra' is not an executable (build it, or pass --electra / set ELECTRA)"
"$python" -c 'import torch' 2>/dev/null ||
  die "--python: '$python' cannot import torch (Debian: apt-get install python3-torch)"

keep_logs=$log_dir
if [[ -z $log_dir ]]; then
  log_dir=$(mktemp -d)
  trap 'rm -rf "$log_dir"' EXIT
else
  mkdir -p "$log_dir"
fi

# Both programs get the same thread count: ours through --threads (oneTBB; OpenBLAS runs
# single-threaded inside it), torch through torch.set_num_threads and OpenMP's variable. A passive
# wait policy stops torch's idle OpenMP workers from spinning on the cores the other one needs.
export OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE
# glibc's malloc returns freed blocks above its mmap threshold (at most 32 MiB, adapted at run
# time) and the top of its heap to the kernel, so a torch step, which frees its activations and
# allocates them again in the next step, takes every page fault again in every step: tiny ran at
# ~1 500 tokens/s that way against ~5 200 with freed memory kept in the process (same peak RSS).
# Our engine caches its own blocks and runs the same either way. Keeping freed memory is what a
# tuned PyTorch CPU setup does (jemalloc, tcmalloc); both programs get the same variables.
malloc_note="glibc malloc defaults"
if ((tune_malloc)); then
  export MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=4294967295
  malloc_note="MALLOC_MMAP_THRESHOLD_=1 GiB, MALLOC_TRIM_THRESHOLD_=4 GiB"
fi
shape=(--preset "$preset" --batch "$batch" --seq-len "$seq_len" --steps "$steps" --warmup-steps "$warmup")

# run NAME ROUND COMMAND...: the command's output goes to LOG_DIR/NAME-ROUND.txt; a failure stops all.
run() {
  local log="$log_dir/$1-$2.txt"
  shift 2
  if ! "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "failed: $* (its last lines above)"
  fi
  echo "$log"
}
# field LOG WHAT: tokens/s of the "step" line, MB of the "peak RSS" line, the parameter count, or
# torch's RSS before it built the model.
field() {
  case $2 in
    tokens) awk '$1 == "step" && $5 == "tokens/s" { print $4 }' "$1" ;;
    rss) awk '$1 == "peak" && $2 == "RSS" { print $3 }' "$1" ;;
    parameters) grep -o '[0-9]* parameters' "$1" | head -n 1 | cut -d' ' -f1 ;;
    baseline) awk '$1 == "at" && $2 == "start" { print $3 }' "$1" ;;
  esac
}
median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "electra.cpp vs PyTorch: preset $preset, batch $batch, seq_len $seq_len, $threads thread(s)," \
  "$steps timed steps after $warmup per run, $rounds rounds (electra first in each)"
echo "  electra: $electra"
echo "  torch:   $("$python" -c 'import torch; print(torch.__version__)') ($python)"
echo "  both:    OMP_NUM_THREADS=$threads, OMP_WAIT_POLICY=PASSIVE, $malloc_note"
printf '%-6s %14s %14s %7s %14s %14s %7s\n' round "electra tok/s" "torch tok/s" speed \
  "electra RSS MB" "torch RSS MB" memory
speed_ratios=() memory_ratios=()
for ((round = 1; round <= rounds; ++round)); do
  ours=$(run electra "$round" "$electra" --threads "$threads" bench "${shape[@]}")
  theirs=$(run torch "$round" "$python" "$root/tools/reference/bench_torch.py" "${shape[@]}" \
    --threads "$threads")
  if ((round == 1)); then
    # The same parameter count is the check that both built the same model.
    [[ $(field "$ours" parameters) == $(field "$theirs" parameters) ]] ||
      die "the two models differ: electra has $(field "$ours" parameters) parameters, torch" \
        "$(field "$theirs" parameters) (tools/reference/bench_torch.py PRESETS vs models/networks/config.cpp)"
    baseline=$(field "$theirs" baseline)
  fi
  ours_tokens=$(field "$ours" tokens) theirs_tokens=$(field "$theirs" tokens)
  ours_rss=$(field "$ours" rss) theirs_rss=$(field "$theirs" rss)
  [[ -n $ours_tokens && -n $theirs_tokens && -n $ours_rss && -n $theirs_rss ]] ||
    die "round $round: no 'step … tokens/s' or 'peak RSS' line in $ours or $theirs"
  speed=$(awk -v a="$ours_tokens" -v b="$theirs_tokens" 'BEGIN { printf "%.2f", a / b }')
  memory=$(awk -v a="$ours_rss" -v b="$theirs_rss" 'BEGIN { printf "%.2f", a / b }')
  speed_ratios+=("$speed") memory_ratios+=("$memory")
  printf '%-6s %14s %14s %6sx %14s %14s %6sx\n' "$round" "$ours_tokens" "$theirs_tokens" "$speed" \
    "$ours_rss" "$theirs_rss" "$memory"
done
echo "median speed ratio (electra tokens/s ÷ torch tokens/s): $(printf '%s\n' "${speed_ratios[@]}" | median)x;" \
  "median memory ratio (electra peak RSS ÷ torch peak RSS): $(printf '%s\n' "${memory_ratios[@]}" | median)x"
echo "torch's peak RSS includes the ${baseline:-?} MB it held before building the model" \
  "(Python and the torch libraries)"
if [[ -n $keep_logs ]]; then echo "full outputs: $log_dir/{electra,torch}-ROUND.txt"; fi
