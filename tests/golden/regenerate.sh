#!/bin/sh
# Regenerates the golden fixtures of tests/models/golden_test.cpp (docs/audit.md), one pair
# tests/golden/<variant>_tiny_{f64,f32}.safetensors per variant below:
#   1. electra dumps one update + a 10-update trajectory of the tiny golden config (dropout 0)
#      with the variant's config keys on top, in float64 and float32, from the same
#      f32-initialised weights (seed 7);
#   2. the independent PyTorch reference recomputes them on CPU, in float64 for both dumps (the
#      f32 dump's inputs are f32-rounded already), from the dump's parameters, batch, masked
#      positions and sampled ids, checks our dump at the dump's tolerances, and writes the
#      fixture (inputs + the REFERENCE's named losses, gradients and final parameters, rounded
#      to the dump's dtype). Why f64 for f32 too: over 10 Adam updates a torch-f32 trajectory
#      drifts from the exact one as far as ours does (electra15: torch f32 1.6e-4 of max|p|,
#      ours 4.9e-5), so an f32 target would test torch's rounding as much as ours.
# Usage: tests/golden/regenerate.sh [path/to/electra] [variant ...]   (default: every variant;
# needs /usr/bin/python3 with torch). A variant whose reference check fails writes no fixture.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
electra=${1:-$root/build/tools/electra}
[ $# -gt 0 ] && shift
# variant: the config keys it sets on top of golden_config.json (a variant named after a
# registered objective is that objective; golden_test.cpp requires one per registered row).
# focal: Hao et al.'s focal-loss generator (γ 2); replace_mlm_focal: γ must not reach the main
# network's loss; gdes: DeBERTaV3's E_D = sg(E_G) + E_Δ; curriculum: both ramps over 6 of the
# 10 updates, on electra_hp, the one row whose step (its importance weights) reads T when the
# samples are given.
keys_of() {
  case $1 in
    electra) echo '{}' ;;
    mlm | electra15 | replace_mlm | all_tokens_mlm | electra_hp) echo "{\"objective\": \"$1\"}" ;;
    focal) echo '{"generator_focal_gamma": 2.0}' ;;
    replace_mlm_focal) echo '{"objective": "replace_mlm", "generator_focal_gamma": 2.0}' ;;
    gdes) echo '{"embedding_sharing": "gdes"}' ;;
    curriculum) echo '{"objective": "electra_hp", "disc_weight_start": 5.0,
      "disc_weight_ramp_updates": 6, "temperature_start": 2.0, "temperature_ramp_updates": 6}' ;;
    *) echo "regenerate.sh: unknown variant '$1'" >&2; exit 2 ;;
  esac
}
variants=${*:-electra mlm electra15 replace_mlm all_tokens_mlm electra_hp focal replace_mlm_focal gdes curriculum}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for variant in $variants; do
  keys=$(keys_of "$variant")
  /usr/bin/python3 -c 'import json, sys
config = json.load(open(sys.argv[1])); config.update(json.loads(sys.argv[2]))
json.dump(config, open(sys.argv[3], "w"), indent=2)' \
    "$root/tests/golden/golden_config.json" "$keys" "$scratch/$variant.json"
  for dtype in f64 f32; do
    "$electra" audit --dump "$scratch/$variant-$dtype" --preset tiny --config "$scratch/$variant.json" \
      --seed 7 --dtype "$dtype" --steps 10
    /usr/bin/python3 "$root/tools/reference/electra_reference.py" --dump "$scratch/$variant-$dtype" \
      --precision f64 --write-golden "$scratch/$variant-$dtype.safetensors" \
      --command "tests/golden/regenerate.sh"
    mv "$scratch/$variant-$dtype.safetensors" "$root/tests/golden/${variant}_tiny_$dtype.safetensors"
  done
done
