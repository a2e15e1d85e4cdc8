#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, the fuzz preset: clang 16, ASan+UBSan),
# replays the committed corpus through each, then fuzzes each target for
# SECONDS (two at a time: the machine has two cores) and prints a table of
# what ran. A crash fails the run; its input is left in build/fuzz/crashes/
# (add it to fuzz/corpus/<target>/ once fixed: the regression input).
# New inputs the fuzzer finds go to build/fuzz/found/<target>/, not to the
# committed corpus; `scripts/fuzz.sh --merge` folds the ones that add
# coverage into fuzz/corpus/.
# Usage: scripts/fuzz.sh [SECONDS] [target...]   (CI: 30; docs: 600; FUZZ_JOBS=1: one at a time)
#        scripts/fuzz.sh --merge [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
merge=0
if [ "${1:-}" = --merge ]; then
  merge=1
  shift
fi
seconds="${1:-30}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(stream_framing address subprocess_args url http_request http_response http_chunked tls_records)

scripts/deps.sh build
need=()
for p in clang-16 libfuzzer-16-dev libclang-rt-16-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz.sh: please install: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
ctest --preset fuzz  # the committed corpus, every target

out=build/fuzz
mkdir -p "$out/crashes" "$out/logs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1"

if [ $merge -eq 1 ]; then
  for t in "${targets[@]}"; do
    mkdir -p "$out/found/$t"
    "$out/fuzz/fuzz_$t" -merge=1 "fuzz/corpus/$t" "$out/found/$t" >"$out/logs/$t.merge.log" 2>&1
    echo "$t: $(ls "fuzz/corpus/$t" | wc -l) inputs in fuzz/corpus/$t"
  done
  exit 0
fi

run_one() {
  local t="$1" s="$2" o="$3"
  mkdir -p "$o/found/$t"
  # -rss_limit_mb: the TLS target's loop and OpenSSL stay under 2 GiB; a
  # target that grows past it leaks.
  if "$o/fuzz/fuzz_$t" -max_total_time="$s" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
       -artifact_prefix="$o/crashes/$t-" "$o/found/$t" "fuzz/corpus/$t" >"$o/logs/$t.log" 2>&1; then
    echo "$t ok"
  else
    echo "$t FAILED"
  fi
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_JOBS:-2}" -I{} bash -c "run_one {} $seconds $out" | tee "$out/status"

printf '\n| target | seconds | runs | execs/s | coverage (cov) | features (ft) | corpus (committed + found) | result |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for t in "${targets[@]}"; do
  log="$out/logs/$t.log"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  committed=$(ls "fuzz/corpus/$t" | wc -l)
  found=$(ls "$out/found/$t" | wc -l)
  result=$(grep "^$t " "$out/status" | awk '{print $2}')
  printf '| %s | %s | %s | %s | %s | %s | %s + %s | %s |\n' "$t" "$seconds" "${runs:-?}" "${speed:-?}" "${cov:-?}" \
    "${ft:-?}" "$committed" "$found" "$result"
done
if grep -q FAILED "$out/status"; then
  for t in $(grep FAILED "$out/status" | awk '{print $1}'); do
    echo "---- $t: the end of its log ($out/logs/$t.log)"
    tail -40 "$out/logs/$t.log"
  done
  ls -l "$out/crashes"
  exit 1
fi
