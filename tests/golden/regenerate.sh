#!/bin/sh
# Regenerates the golden fixtures of tests/models/golden_test.cpp (docs/audit.md):
#   1. electra dumps one update + a 10-update trajectory of the tiny golden config (dropout 0),
#      in float64 and float32, from the same f32-initialised weights (seed 7);
#   2. the independent PyTorch reference recomputes them on CPU from the dump's parameters,
#      batch, masked positions and sampled ids, checks our dump, and writes the fixture
#      (inputs + the REFERENCE's losses, gradients and final parameters).
# Usage: tests/golden/regenerate.sh [path/to/electra]   (needs /usr/bin/python3 with torch)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
electra=${1:-$root/build/tools/electra}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for dtype in f64 f32; do
  "$electra" audit --dump "$scratch/$dtype" --preset tiny --config "$root/tests/golden/golden_config.json" \
    --seed 7 --dtype "$dtype" --steps 10
  /usr/bin/python3 "$root/tools/reference/electra_reference.py" --dump "$scratch/$dtype" \
    --write-golden "$root/tests/golden/electra_tiny_$dtype.safetensors" \
    --command "tests/golden/regenerate.sh"
done
