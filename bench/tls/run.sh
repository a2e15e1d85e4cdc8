#!/usr/bin/env bash
# The TLS benchmark (issue 11): builds the TLS servers and the load generator
# (release, in build/bench, if anything changed), makes a throw-away ECDSA
# P-256 certificate, then runs tulip streams, tulip Protocol, Boost.Asio ssl,
# asyncio and uvloop (streams and Protocol each) in one run: servers pinned
# to core 0, the load generator to core 1. Echo at 10 and 100 connections x
# 1 KiB, handshakes/s, a 64 MiB round trip, and 64 MiB one way into a sink
# against `openssl s_server` (and s_client | s_server). 3 passes, medians;
# about 5 minutes. Prints the tables, the ratios and the targets (PASS/MISS).
# Usage: bench/tls/run.sh [--quick] [bench/tls/run.py options: --reps N
#        --servers a,b --conns 10,100 --duration S --hs-conns K --raw FILE ...]
#   --quick: one pass, 1.5 s per measurement (about a minute).
# Environment: RT=0 (normal priority instead of SCHED_FIFO 10; see
# bench/echo/run.py), TULIP_BENCH_BUILD (build directory, default
# build/bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target bench_tls -j"${JOBS:-1}" >/dev/null
args=()
if [ "${RT:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null; then args+=(--rt 10); fi
exec /usr/bin/python3 bench/tls/run.py --bin-dir "$build/bench/tls" "${args[@]}" "$@"
