#!/usr/bin/env bash
# The synchronisation and subprocess benchmarks: builds sync_tulip (release,
# in build/bench, if anything changed), then runs tulip, asyncio and
# asyncio+uvloop on every row (Queue bounded and unbounded, Lock under
# contention, 1,000 `true` subprocesses sequential and 10 at a time), 5 runs
# each, pinned to core 1, and prints medians, ratios and targets (PASS/MISS).
# About 2 minutes.
# Usage: bench/sync/run.sh [bench/sync/run.py options: --reps N --rows a,b --impls a,b --raw FILE]
# Environment: QUICK=1 (one run per cell instead of 5), RT=0 (normal priority
# instead of SCHED_FIFO 10), TULIP_BENCH_BUILD (build directory, default build/bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target sync_tulip -j"${JOBS:-1}" >/dev/null
args=()
# SCHED_FIFO when we may (root, chrt): on a busy shared machine it is what makes
# the numbers mean something (see bench/sync/run.py). RT=0: normal priority.
if [ "${RT:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null; then args+=(--rt 10); fi
if [ "${QUICK:-0}" = 1 ]; then args+=(--reps 1); fi
exec /usr/bin/python3 bench/sync/run.py --bin-dir "$build/bench/sync" "${args[@]}" "$@"
