#!/usr/bin/env bash
# Small seed corpora for the libFuzzer targets, made from committed fixtures at run time (no
# binary corpora in the repository):
#   tools/fuzz/seeds.sh <target> <dir>     e.g. tools/fuzz/seeds.sh fuzz_safetensors build-fuzz/corpus/safetensors
set -euo pipefail
target=$1 dir=$(realpath -m "$2")  # relative to where it is called from
cd "$(dirname "$0")/../.."
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
    # Two sequences of seq_len 8 with u16 ids (layout in data/shard_format.hpp): 64-byte header,
    # 2 records {length, segment_a_end}, padding to byte 128, 2 x 8 ids.
    {
      printf 'ELSHARD\0\x01\0\0\0\x08\0\0\0\x02\0\0\0\0\0\0\0\x02\0\0\0\x64\0\0\0'
      head -c 32 /dev/zero
      printf '\x06\0\x03\0\x08\0\x08\0'
      head -c 56 /dev/zero
      printf '\x02\0\x05\0\x06\0\x03\0\x07\0\x03\0\0\0\0\0'
      printf '\x02\0\x09\0\x0a\0\x0b\0\x0c\0\x0d\0\x0e\0\x03\0'
    } >"$dir/two-sequences"
    ;;
  *) echo "seeds.sh: unknown target '$target'" >&2; exit 1 ;;
esac
