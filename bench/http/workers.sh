#!/usr/bin/env bash
# One loop per core (issue 14): the tulip hello server with 1..nproc loops
# (http::run_app workers) against wrk; see bench/http/workers.py. About a
# minute on 2 cores.
# Usage: bench/http/workers.sh [--reps N --duration S --max N --poller epoll|io_uring]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
build="${TULIP_BENCH_BUILD:-build/bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTULIP_BUILD_BENCH=ON \
  -DTULIP_BUILD_TESTS=OFF -DTULIP_BUILD_EXAMPLES=OFF -DTULIP_WERROR=OFF >/dev/null
cmake --build "$build" --target bench_http -j"${JOBS:-1}" >/dev/null
exec /usr/bin/python3 bench/http/workers.py --bin "$build/bench/http/http_tulip" "$@"
