#!/usr/bin/env bash
# Fails when a C++/CUDA file git knows is not as clang-format 14 would write it (.clang-format:
# Google style, 100 columns). Another clang-format major version formats some constructs
# differently, so the check insists on 14 (Debian 12's and Ubuntu 22.04's clang-format-14);
# .ci/run installs it. Prints each file that differs and how to fix it; exit 1 if any.
# Usage: tools/check_format.sh [repo root] (default: this repo).
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"

formatter=""
for candidate in clang-format-14 clang-format; do
  if command -v "$candidate" >/dev/null && "$candidate" --version | grep -q 'version 14\.'; then
    formatter=$candidate
    break
  fi
done
[ -n "$formatter" ] || { echo "check_format: clang-format 14 not found (apt-get install clang-format-14)"; exit 1; }

mapfile -t files < <(git ls-files -co --exclude-standard -- '*.hpp' '*.cpp' '*.cu' '*.cuh' '*.h')
unformatted=()
for file in "${files[@]}"; do
  [ -f "$file" ] || continue
  "$formatter" --dry-run --Werror "$file" >/dev/null 2>&1 || unformatted+=("$file")
done
if ((${#unformatted[@]} > 0)); then
  printf 'check_format: not clang-formatted: %s\n' "${unformatted[@]}"
  echo "check_format: ${#unformatted[@]} of ${#files[@]} files differ; run: $formatter -i <file>"
  exit 1
fi
echo "check_format: OK, ${#files[@]} files as $formatter writes them"
