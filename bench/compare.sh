#!/usr/bin/env bash
# Before/after: builds tulip's benchmarks at BASE (a git revision, e.g. main
# before a change) and at the working tree, then runs both in one run:
# the foundation rows (bench_tulip), the sync rows (sync_tulip) and the echo
# servers (tulip streams and Protocol, at 10 and 100 connections x 1 KiB).
# Prints medians and the ratio new/base per row (below 1: the change is faster).
# Usage: bench/compare.sh BASE [--reps N] [--no-echo]
# Environment: JOBS (build parallelism, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/compare.sh BASE [--reps N] [--no-echo]" >&2; exit 2; }
base_rev="$1"; shift
scripts/deps.sh bench
root="$PWD"
base_src="$root/build/compare-src"
base_build="$root/build/compare-base"
rm -rf "$base_src"
mkdir -p "$base_src"
git archive "$base_rev" | tar -x -C "$base_src"
configure() {  # src build
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
    -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
  cmake --build "$2" --target bench_tulip sync_tulip echo_tulip_streams echo_tulip_protocol echo_client \
    -j"${JOBS:-1}" >/dev/null
}
configure "$base_src" "$base_build"
configure "$root" "$root/build/bench"
exec /usr/bin/python3 bench/compare.py --base "$base_build/bench" --new "$root/build/bench/bench" \
  --base-rev "$(git rev-parse --short "$base_rev")" "$@"
