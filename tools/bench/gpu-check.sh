#!/usr/bin/env bash
# The CUDA checks of issue 12 in one call on a lent GPU machine (docs/cuda.md): build with CUDA,
# run every GPU test (tests/cuda/: CUDA vs CPU per kernel, the 20-step training parity, the CUDA
# bench through the CLI), then time ELECTRA-Small at batch 128 in fp32 and TF32. Everything it
# prints goes to stdout and, when $OUT is set (the device tool's output folder), to
# $OUT/gpu-check.log. Exits non-zero when the build or a GPU test fails; a GPU test that reports
# Skipped here (no usable device) counts as a failure, since this script exists to run them.
#
#   bash .deps/install.sh && bash tools/bench/gpu-check.sh          # on the GPU machine
#   GPU_CHECK_BENCH_STEPS=20 bash tools/bench/gpu-check.sh            # longer timing runs
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${GPU_CHECK_BUILD_DIR:-$root/build-cuda}
steps=${GPU_CHECK_BENCH_STEPS:-10}
log=${OUT:+$OUT/gpu-check.log}

section() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

checks() {
  local status=0

  section "machine"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || status=1
  nvcc --version | tail -n 1
  nproc

  section "configure and build (CUDA on)"
  if ! cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DELECTRA_CUDA=ON >/dev/null ||
    ! cmake --build "$build" -j "$(nproc)"; then
    echo "gpu-check: the CUDA build failed"
    return 1
  fi

  section "GPU tests (ctest -R '^cuda/')"
  ctest --test-dir "$build" -R '^cuda/' --output-on-failure --timeout 600 | tee "$build/gpu-ctest.log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  if grep -q 'Skipped' "$build/gpu-ctest.log"; then
    echo "gpu-check: GPU tests were skipped: no usable CUDA device (see the reasons above)"
    status=1
  fi

  electra=$build/tools/electra
  for precision in fp32 tf32; do
    section "electra bench --device cuda --preset small --batch 128 ($precision)"
    flags=()
    [[ $precision == tf32 ]] && flags=(--tf32)
    "$electra" bench --device cuda --preset small --batch 128 --seq-len 128 --steps "$steps" \
      --warmup-steps 3 "${flags[@]}" || status=1
  done

  section "electra bench --device cuda --preset mini (fp32)"
  "$electra" bench --device cuda --preset mini --steps "$steps" --warmup-steps 3 || status=1

  section "done: exit $status"
  return "$status"
}

if [[ -n $log ]]; then
  checks 2>&1 | tee "$log"
  exit "${PIPESTATUS[0]}"
fi
checks
