#!/usr/bin/env bash
# Fails when a "..." #include crosses the layering (docs/architecture.md):
#   engine <- autograd <- models;  data depends on engine only;  tools and tests on top;
#   inside models/: networks + objectives <- formats <- training <- finetuning.
# Every .hpp/.cpp/.cu/.cuh/.h under engine/ autograd/ models/ data/ tools/ tests/ is read; each
# quoted include of a project path (engine/ autograd/ models/ data/ tools/ tests/) must name a
# folder its own folder may depend on. One line per violation (file:line, the include, the rule),
# exit 1; otherwise one OK line. Usage: tools/check_layering.sh [repo root] (default: this repo).
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"

# Layer -> the layers its files may include; a layer is a top-level folder, or models/<folder>
# inside models/ (where one layer of another folder counts as all of models/ for those outside).
# networks and objectives are one layer in two folders: a model hands its networks to its
# objective's forward, and config validation reads the objective table.
pretraining="engine autograd data models/networks models/objectives"
declare -A allowed=(
  [engine]="engine"
  [autograd]="engine autograd"
  [data]="engine data"
  [models/networks]="$pretraining"
  [models/objectives]="$pretraining"
  [models/formats]="$pretraining models/formats"
  [models/training]="$pretraining models/formats models/training"
  [models/finetuning]="$pretraining models/formats models/training models/finetuning"
  [tools]="engine autograd data models tools tests"
  [tests]="engine autograd data models tools tests"
)
# The layer of a path: its top-level folder, or models/<folder> for a path under models/.
layer_of() {
  local path=$1 top=${1%%/*}
  if [[ $top == models ]]; then
    local rest=${path#models/}
    echo "models/${rest%%/*}"
  else
    echo "$top"
  fi
}
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
  from=$(layer_of "$file")
  to=$(layer_of "$included")
  includes=$((includes + 1))
  # Outside models/, "models" in a list allows every models/<folder>.
  [[ -v allowed[$from] ]] || { echo "$file: in no known layer ($from): add it to tools/check_layering.sh"; violations=$((violations + 1)); continue; }
  if [[ " ${allowed[$from]} " != *" $to "* && " ${allowed[$from]} " != *" ${to%%/*} "* ]]; then
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
