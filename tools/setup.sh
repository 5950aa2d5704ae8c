#!/usr/bin/env bash
# setup.sh — install the Debian packages electra.cpp builds from, then configure and build.
#
#   tools/setup.sh            # install what is missing (as root), build the release preset
#   tools/setup.sh --deps     # only install / report the packages
#
# As root, missing packages are installed with apt-get; otherwise the exact apt-get line is
# printed and the script stops. Open MPI (openmpi-bin, libopenmpi-dev) is for data-parallel
# runs under mpirun (docs/distributed.md); the build works without it (ELECTRA_MPI=AUTO).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config libeigen3-dev libopenblas-dev
          libopenblas-pthread-dev libtbb-dev doctest-dev nlohmann-json3-dev libcli11-dev
          libutf8proc-dev openmpi-bin libopenmpi-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  else
    echo "setup: missing packages; run as root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "setup: all build dependencies present"
[ "${1:-}" = "--deps" ] && exit 0

cmake --preset release >/dev/null
cmake --build --preset release
echo "setup: built build/release/tools/electra"
