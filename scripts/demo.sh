#!/usr/bin/env bash
# Builds tulip (release preset) and runs the demo: a short tour of the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake --preset release -DTULIP_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target tulip_demo
./build/release/examples/tulip_demo
