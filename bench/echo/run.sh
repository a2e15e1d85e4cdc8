#!/usr/bin/env bash
# The echo benchmark: builds the servers and the load generator (release, in
# build/bench, if anything changed), then runs raw epoll, tulip streams, tulip
# Protocol, Boost.Asio, libuv, asyncio and uvloop (streams and Protocol each)
# in one run: servers pinned to core 0, the load generator to core 1; 1, 10
# and 100 connections x 64 B, 1 KiB and 16 KiB, 3 s per cell; then 10,000
# idle connections per server. About 6 minutes. Prints the tables and the
# targets (PASS/MISS).
# Usage: bench/echo/run.sh [bench/echo/run.py options: --reps N --servers a,b
#        --conns 1,10 --sizes 1024 --duration S --idle N --raw FILE ...]
# Environment: QUICK=1 (only 10 and 100 connections at 1 KiB, 2 s per cell),
# RT=0 (normal priority instead of SCHED_FIFO 10, which takes ~95% of both cores while it runs),
# TULIP_BENCH_BUILD (build directory, default build/bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target bench_echo -j"${JOBS:-1}" >/dev/null
args=()
# SCHED_FIFO when we may (root, chrt): on a busy shared machine it is what makes
# the numbers mean something (see bench/echo/run.py). RT=0: normal priority.
if [ "${RT:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null; then args+=(--rt 10); fi
if [ "${QUICK:-0}" = 1 ]; then args+=(--quick); fi
exec /usr/bin/python3 bench/echo/run.py --bin-dir "$build/bench/echo" "${args[@]}" "$@"
