#!/usr/bin/env bash
# test.sh — build and run every test suite: the release preset, then the ASan + UBSan debug preset.
#   tools/test.sh                 # both presets
#   tools/test.sh release         # one preset
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --deps
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release debug-asan)
for preset in "${presets[@]}"; do
  echo "=== $preset: configure + build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  echo "=== $preset: ctest"
  ctest --preset "$preset"
done
echo "test.sh: all suites passed (${presets[*]})"
