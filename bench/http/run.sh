#!/usr/bin/env bash
# The HTTP benchmark (issue 12): builds the C++ servers (release, in
# build/bench, if anything changed), then runs tulip, nginx, aiohttp (asyncio
# and uvloop), Boost.Beast and raw epoll against wrk in one run: servers
# pinned to core 0, wrk to core 1. GET / (hello) and a 64 KiB static file at
# 10 and 100 connections; requests/s, p99, requests per server CPU-second;
# idle keep-alive memory. 3 passes, medians; about 5 minutes. Prints the
# tables, the ratios and the targets (PASS/MISS).
# Usage: bench/http/run.sh [--quick] [bench/http/run.py options: --reps N
#        --servers a,b --paths hello,file --conns 10,100 --duration S
#        --idle N --raw FILE ...]
#   --quick: one pass, 2 s per measurement (about a minute and a half).
# Environment: RT=0 (normal priority instead of SCHED_FIFO 10; see
# bench/echo/run.py), TULIP_BENCH_BUILD (build directory, default
# build/bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target bench_http -j"${JOBS:-1}" >/dev/null
args=()
if [ "${RT:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null; then args+=(--rt 10); fi
exec /usr/bin/python3 bench/http/run.py --bin-dir "$build/bench/http" "${args[@]}" "$@"
