#!/usr/bin/env bash
# Builds tulip (debug preset) and runs the whole test suite through CTest.
# Usage: scripts/test.sh [preset]   (debug by default; asan, tsan, release, clang)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-debug}"
scripts/deps.sh build
if [ "$preset" = clang ] && ! command -v clang++-16 >/dev/null; then
  [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-16 >/dev/null
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
