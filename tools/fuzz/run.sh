#!/usr/bin/env bash
# Builds the libFuzzer targets and fuzzes each for a while; the CI step and the long runs of
# docs/reliability.md both use it.
#   tools/fuzz/run.sh [seconds per target = 60] [build dir = build-fuzz]
# First every committed reproducer (tools/fuzz/regressions/<target>/) is run once, then each
# target is fuzzed, two at a time, from freshly generated seeds (tools/fuzz/seeds.sh) and the
# corpus an earlier run left in <build dir>/corpus/. Exits non-zero
# if any input crashes, hangs (> 10 s) or breaks an invariant; the input is kept as
# <build dir>/artifacts/<target>-crash-*. Exit 2 when clang or its libFuzzer runtime is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60} build=${2:-build-fuzz}
targets=(fuzz_tokenizer fuzz_shard_reader fuzz_safetensors fuzz_trainer_state fuzz_tsv)

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/probe.cpp"
if ! command -v clang++ >/dev/null ||
   ! clang++ -fsanitize=fuzzer "$probe/probe.cpp" -o "$probe/probe" 2>/dev/null; then
  echo "fuzz: skipped: clang++ with the libFuzzer runtime is not installed (Debian: apt-get install clang libclang-rt-14-dev)"
  exit 2
fi

# -O1, as libFuzzer's documentation suggests (the libraries the targets link also build faster).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 \
  -DELECTRA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DELECTRA_CUDA=OFF -DELECTRA_BUILD_TESTS=OFF \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
cmake --build "$build" --target "${targets[@]}"

fuzz() {  # <target>: fuzz it for $seconds, log to $build/logs/<target>.log
  local target=$1 dict=()
  [[ $target == fuzz_safetensors || $target == fuzz_trainer_state ]] && dict=(-dict=tools/fuzz/json.dict)
  rm -rf "$build/seeds/$target"
  tools/fuzz/seeds.sh "$target" "$build/seeds/$target"
  mkdir -p "$build/corpus/$target" "$build/artifacts" "$build/logs"
  "$build/tools/fuzz/$target" -max_total_time="$seconds" -timeout=10 -max_len=4096 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$build/artifacts/$target-" \
    "$build/corpus/$target" "$build/seeds/$target" >"$build/logs/$target.log" 2>&1
}

failed=()
for target in "${targets[@]}"; do
  shopt -s nullglob
  reproducers=(tools/fuzz/regressions/"$target"/*)
  shopt -u nullglob
  if [ ${#reproducers[@]} -gt 0 ] &&
     ! "$build/tools/fuzz/$target" "${reproducers[@]}" >"$build/regressions-$target.log" 2>&1; then
    echo "fuzz: $target fails on a committed reproducer:"; tail -n 30 "$build/regressions-$target.log"
    failed+=("$target")
  fi
done
# Two at a time (the CI machine has two cores).
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=() names=()
  for target in "${targets[@]:i:2}"; do fuzz "$target" & pids+=($!) names+=("$target"); done
  for j in "${!pids[@]}"; do
    target=${names[j]} log="$build/logs/${names[j]}.log"
    if wait "${pids[j]}"; then
      echo "fuzz: $target: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)"
    else
      echo "fuzz: $target FAILED (input kept in $build/artifacts/):"; tail -n 40 "$log"
      failed+=("$target")
    fi
  done
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, no crash"
