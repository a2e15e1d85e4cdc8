#!/usr/bin/env bash
# Builds the benchmarks (release, in build/bench, if anything changed) and runs
# tulip, Boost.Asio, asyncio and asyncio+uvloop on every row, then prints the
# table of medians, ratios and targets. Takes a few minutes (Python is slow).
# Usage: bench/run.sh [bench/run.py options: --reps N --py-reps N --rows a,b --impls a,b --raw FILE]
# Warnings do not fail this build (GCC 12 at -O3 warns where -O0 does not);
# the debug and clang builds keep -Werror.
# Environment: TULIP_BENCH_BUILD (build directory, default build/bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target bench_tulip bench_asio -j"${JOBS:-1}" >/dev/null
exec /usr/bin/python3 bench/run.py --bin-dir "$build/bench" "$@"
