#!/usr/bin/env bash
# Installs the Debian packages tulip needs (as root, non-interactive), or says
# which to install. Usage: scripts/deps.sh [build|bench]
set -euo pipefail
want=(g++ cmake ninja-build pkg-config valgrind libgtest-dev googletest clang-format-16 libssl-dev openssl python3
      node-llhttp nlohmann-json3-dev zlib1g-dev libc-ares-dev liburing-dev curl wrk python3-aiohttp chromium nginx-light)
if [ "${1:-build}" = bench ]; then
  # Boost 1.81 (not the default 1.74): its Asio has the io_uring backend (since 1.78).
  want+=(libboost1.81-dev libuv1-dev python3 python3-uvloop libbenchmark-dev wrk nginx-light python3-aiohttp python3-httpx)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "tulip: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "tulip: please install: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
