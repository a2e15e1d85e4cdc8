#!/usr/bin/env bash
# Runs tests/stress (the reliability program's parts 4, 6 and 7) at full size
# on a release build, on both pollers, and prints each test's figures:
# 1,000 connections x 100 x 1 KiB echo, one 128 MiB stream, 10,000
# connect/close cycles, 1M timers, 100 subprocesses, run() with 1,000 pending
# tasks, Server.close() with 1,000 connections, 1,000 flooding peers and
# 1,000 slow readers. CI runs the same tests scaled down (TULIP_STRESS_SCALE,
# default 0.02 in tests/stress/stress.hpp).
#
# Usage: scripts/stress.sh [runs] [gtest filter]
#   runs   how many times to run each poller (default 1; figures are printed
#          per run, take the median yourself)
#   TULIP_STRESS_SCALE  overrides the scale (default here: 1, full size)
#   TULIP_STRESS_NO_BUILD=1  skips the build (uses build/release as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1}"
filter="${2:-*}"
export TULIP_STRESS_SCALE="${TULIP_STRESS_SCALE:-1}"

if [ "${TULIP_STRESS_NO_BUILD:-0}" != 1 ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target stress_tests
fi
bin=build/release/tests/stress_tests
[ -x "$bin" ] || { echo "stress.sh: $bin not built" >&2; exit 2; }

# 1,000 connections hold 2,000+ fds in one process; the tests raise the soft
# limit to the hard one themselves and skip (saying why) if it is too low.
echo "stress.sh: scale ${TULIP_STRESS_SCALE}, RLIMIT_NOFILE soft $(ulimit -Sn) hard $(ulimit -Hn), $(nproc) cores, kernel $(uname -r)"

status=0
for poller in epoll io_uring; do
  for ((i = 1; i <= runs; i++)); do
    echo "=== poller ${poller}, run ${i}/${runs}"
    start=$(date +%s%N)
    if ! TULIP_POLLER="$poller" "$bin" --gtest_filter="$filter" --gtest_brief=1; then
      status=1
    fi
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    printf 'stress.sh: poller %s run %d took %d.%03d s\n' "$poller" "$i" $((ms / 1000)) $((ms % 1000))
  done
done
exit $status
