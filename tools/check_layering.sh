#!/usr/bin/env bash
# Fails when a "..." #include crosses the layering (docs/architecture.md):
#   engine <- autograd <- models;  data depends on engine only;  tools and tests on top.
# Every .hpp/.cpp/.cu/.cuh/.h under engine/ autograd/ models/ data/ tools/ tests/ is read; each
# quoted include of a project path (engine/ autograd/ models/ data/ tools/ tests/) must name a
# folder its own folder may depend on. One line per violation (file:line, the include, the rule),
# exit 1; otherwise one OK line. Usage: tools/check_layering.sh [repo root] (default: this repo).
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"

# Folder -> the top-level folders its files may include. tools and tests may include anything.
declare -A allowed=(
  [engine]="engine"
  [autograd]="engine autograd"
  [data]="engine data"
  [models]="engine autograd data models"
  [tools]="engine autograd data models tools tests"
  [tests]="engine autograd data models tools tests"
)
folders=(engine autograd models data tools tests)

mapfile -t files < <(find "${folders[@]}" -type f \
  \( -name '*.hpp' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' -o -name '*.h' \) | sort)
((${#files[@]} > 0)) || { echo "check_layering: no source files under $PWD"; exit 1; }

violations=0
includes=0
# grep prints file:line:text for each quoted include of a project path.
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  text=${rest#*:}
  [[ $text =~ \"([^\"]+)\" ]]
  included=${BASH_REMATCH[1]}
  from=${file%%/*}
  to=${included%%/*}
  includes=$((includes + 1))
  if [[ " ${allowed[$from]} " != *" $to "* ]]; then
    echo "$file:$line: #include \"$included\": $from/ may include only: ${allowed[$from]// /, }"
    violations=$((violations + 1))
  fi
done < <(grep -nHE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(engine|autograd|models|data|tools|tests)/' \
  "${files[@]}" || true)

if ((violations > 0)); then
  echo "check_layering: $violations forbidden include(s) in ${#files[@]} files"
  exit 1
fi
echo "check_layering: OK, ${#files[@]} files, $includes project includes, none crosses the layering"
