#!/usr/bin/env bash
# The HTTP client benchmark (issue 13): builds bench/http/client_tulip.cpp
# (release, in build/bench), then runs tulip's ClientSession, aiohttp's
# (asyncio and uvloop), httpx and wrk against one local nginx: 100,000 GETs
# over 100 pooled keep-alive connections, nginx pinned to core 0, the client
# to core 1; 3 passes, medians; then a pooled idle connection's memory.
# Usage: bench/http/client_run.sh [bench/http/client_run.py options:
#        --clients a,b --requests N --conns C --reps N --idle N --raw FILE]
# Environment: RT=0 (normal priority instead of SCHED_FIFO 10),
# TULIP_BENCH_BUILD (build directory, default build/bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target http_client_tulip -j"${JOBS:-1}" >/dev/null
args=()
if [ "${RT:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null; then args+=(--rt 10); fi
exec /usr/bin/python3 bench/http/client_run.py --bin-dir "$build/bench/http" "${args[@]}" "$@"
