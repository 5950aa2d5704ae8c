#!/usr/bin/env bash
# Installs a configured and built electra tree into a temporary prefix, then configures, builds and
# runs this consumer project against that install (find_package(electra)); .ci/run calls it after
# the tests with the release build. Only the consumer's one file compiles.
#   tools/consumer/run.sh [build dir]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:-build/release}
work=$(mktemp -d "${TMPDIR:-/tmp}/electra_consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
cmake --install "$build_dir" --prefix "$work/install" >/dev/null
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S tools/consumer -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/install" >/dev/null
cmake --build "$work/build"  # its errors (stdout) stay visible
"$work/install/bin/electra" --version >/dev/null
"$work/build/electra_consumer"
echo "consumer: install of $build_dir, find_package(electra), build and run in $(( $(date +%s) - start )) s"
