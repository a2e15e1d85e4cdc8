#!/usr/bin/env bash
# Checks docs/conformance/*.md against the build: every file's counts line
# matches its table, every status is ported / n/a / missing, and every tulip
# test a "ported" row names exists in CTest. Prints the totals per module.
# Usage: scripts/conformance.sh [build-dir]   (build/debug by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/debug}"
known=$(mktemp)
trap 'rm -f "$known"' EXIT
ctest --test-dir "$build" -N | sed -n 's/^ *Test *#[0-9]*: //p' | sort -u >"$known"
[ -s "$known" ] || { echo "conformance: no tests listed in $build" >&2; exit 1; }
awk -v known="$known" '
  BEGIN { while ((getline t < known) > 0) have[t] = 1; bad = 0
          printf "%-34s %4s %4s %4s %4s  %6s\n", "module", "appl", "port", "miss", "n/a", "ported" }
  # The number after key in s (-1 when absent).
  function num(s, key,    i) {
    i = index(s, key)
    if (i == 0) return -1
    s = substr(s, i + length(key))
    match(s, /^[0-9]+/)
    return RLENGTH > 0 ? substr(s, 1, RLENGTH) + 0 : -1
  }
  function finish() {
    if (file == "") return
    a = p + m
    if (hdr == "") { printf "%s: no counts line\n", file; bad = 1 }
    else if (num(hdr, "Applicable: ") != a || num(hdr, "ported: ") != p ||
             num(hdr, "missing: ") != m || num(hdr, "not applicable: ") != n) {
      printf "%s: counts line \"%s\" does not match the table (applicable %d, ported %d, missing %d, n/a %d)\n",
             file, hdr, a, p, m, n
      bad = 1
    }
    printf "%-34s %4d %4d %4d %4d  %5.1f%%\n", mod, a, p, m, n, a ? 100.0 * p / a : 100
    ta += a; tp += p; tm += m; tn += n
  }
  FNR == 1 { finish(); file = FILENAME; mod = FILENAME; sub(/^.*\//, "", mod); sub(/\.md$/, "", mod)
             p = m = n = 0; hdr = "" }
  /^CPython:/ { hdr = $0 }
  /^\| `/ {
    split($0, col, "|")
    status = col[4]; gsub(/^ +| +$/, "", status)
    if (status == "ported") {
      p++
      names = col[3]
      if (names !~ /`/) { printf "%s: ported row without a tulip test: %s\n", file, $0; bad = 1 }
      while (match(names, /`[^`]+`/)) {
        t = substr(names, RSTART + 1, RLENGTH - 2); names = substr(names, RSTART + RLENGTH)
        if (!(t in have)) { printf "%s: %s names a test CTest does not know: %s\n", file, col[2], t; bad = 1 }
      }
    } else if (status ~ /^missing/) m++
    else if (status ~ /^n\/a/) n++
    else { printf "%s: unknown status \"%s\" in: %s\n", file, status, $0; bad = 1 }
  }
  END {
    finish()
    printf "%-34s %4d %4d %4d %4d  %5.1f%%\n", "total", ta, tp, tm, tn, ta ? 100.0 * tp / ta : 100
    exit bad
  }' docs/conformance/*.md
