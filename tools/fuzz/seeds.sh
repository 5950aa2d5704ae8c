#!/usr/bin/env bash
# Small seed corpora for the libFuzzer targets, made from committed fixtures at run time (no
# binary corpora in the repository):
#   tools/fuzz/seeds.sh <target> <dir>     e.g. tools/fuzz/seeds.sh fuzz_safetensors build-fuzz/corpus/safetensors
set -euo pipefail
cd "$(dirname "$0")/../.."
target=$1 dir=$2
mkdir -p "$dir"

# A safetensors file: the 8-byte little-endian header length, the header, the data.
safetensors() {  # <out> <header json> <data bytes, printf format>
  local header=$2 length i bytes=""
  length=${#header}
  for i in 0 1 2 3 4 5 6 7; do bytes+=$(printf '\\x%02x' $(( (length >> (8 * i)) & 255 ))); done
  printf "$bytes" >"$1"
  printf '%s' "$header" >>"$1"
  printf "$3" >>"$1"
}

case $target in
  fuzz_safetensors)
    safetensors "$dir/f32" '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' '\x00\x00\x80\x3f\x00\x00\x00\x40'
    safetensors "$dir/mixed" '{"__metadata__":{"format":"pt"},"b":{"dtype":"I32","shape":[1,1],"data_offsets":[8,12]},"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}' '\x00\x00\x00\x00\x00\x00\xf0\x3f\x07\x00\x00\x00'
    safetensors "$dir/empty" '{"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]}}    ' ''
    # The golden file's real header (names, shapes, metadata), its data cut off: refused, but a
    # mutation away from many accepted files.
    head -c 2048 tests/golden/electra_tiny_f32.safetensors >"$dir/golden-head"
    ;;
  fuzz_trainer_state)
    cat >"$dir/state.json" <<'JSON'
{"format": "electra.cpp checkpoint", "format_version": 1, "step": 12,
 "data_position": {"epoch": 0, "offset": 96, "vocab_path": "/tmp/vocab.txt"},
 "rng": {"seed": 1234, "counters": {}},
 "optimizer": {"file": "optimizer.safetensors", "updates_applied": 12},
 "config": {"model": {"hidden": 64, "layers": 2}, "train": {"lr": 0.0005, "seq_len": 128}},
 "metrics": {"last_total_loss": 7.25},
 "files": {"model.safetensors": {"sha256": "00", "bytes": 10}}}
JSON
    printf '{"format": "electra.cpp checkpoint", "format_version": 2}' >"$dir/version.json"
    ;;
  fuzz_tsv)
    # Byte 0 chooses the options (see fuzz_tsv.cpp); the fixture as a single task with a header,
    # as a pair task, unlabelled, and by column index with custom specs.
    { printf '\x01'; head -n 20 tests/data/labelled_sample.tsv; } >"$dir/single"
    { printf '\x03'; printf 'sentence1\tsentence2\tlabel\n'; head -n 10 tests/data/labelled_sample.tsv |
        tail -n +2 | sed 's/\t/\tand so\t/'; } >"$dir/pair"
    { printf '\x05'; head -n 5 tests/data/labelled_sample.tsv; } >"$dir/unlabelled"
    { printf '\x08'; printf '1\t\t0\n'; tail -n 5 tests/data/labelled_sample.tsv | sed 's/^\(.*\)\t\(.*\)$/\2\t\1\r/'; } >"$dir/indices"
    ;;
  fuzz_tokenizer)
    head -c 4096 tests/data/sample/moby_dick_sample.txt >"$dir/moby"
    printf 'Héllo, wörld! 東京 \xe2\x80\x8b naïve café\n' >"$dir/unicode"
    ;;
  fuzz_shard_reader)
    ;;  # no small committed shard: libFuzzer starts from an empty corpus
  *) echo "seeds.sh: unknown target '$target'" >&2; exit 1 ;;
esac
