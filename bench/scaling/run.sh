#!/usr/bin/env bash
# The scaling benchmark (issue 8, finding 14): builds scaling_tulip (release,
# in build/bench, if anything changed), then runs every row at 1k, 100k and
# 1M elements in tulip and, up to 100k, in asyncio, and prints the time per
# element: a flat column means linear cost. A few minutes (asyncio's 100k rows
# take seconds each; tulip's 1M rows need ~1 GB of memory).
# Usage: bench/scaling/run.sh [bench/scaling/run.py options: --sizes a,b --py-max N --rows a,b --reps N --raw FILE]
# Environment: TULIP_BENCH_BUILD (build directory, default build/bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target scaling_tulip -j"${JOBS:-1}" >/dev/null
exec /usr/bin/python3 bench/scaling/run.py --bin-dir "$build/bench/scaling" "$@"
