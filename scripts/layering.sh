#!/usr/bin/env bash
# Checks the layering of docs/DESIGN "Layers": a header or source of one layer
# includes nothing of a higher one. Order, bottom first:
#   core < loop < task < sync < net < tls < streams < process < http
# Looks at include/tulip/<layer>/ and src/<layer>/, at #include <tulip/<layer>/...>,
# <tulip/<layer>.hpp> (the umbrellas) and "../<layer>/..." includes.
# Also fails if include/tulip/detail/ exists again (internal pieces live in
# the layer they belong to), or if a test file built in a unity batch
# (tests/<layer>/*_test.cpp, tests/CMakeLists.txt) does not keep its body in
# its own namespace, <layer>_<file stem>. Run by CTest as build.layering.
# Usage: scripts/layering.sh
set -euo pipefail
cd "$(dirname "$0")/.."
layers=(core loop task sync net tls streams process http)
declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done
bad=0
if [ -e include/tulip/detail ]; then
    echo "layering: include/tulip/detail/ exists; put internal headers in their layer" >&2
    bad=1
fi
for dir in include/tulip src; do
    for layer in "${layers[@]}"; do
        [ -d "$dir/$layer" ] || continue
        while IFS= read -r f; do
            while IFS=: read -r line target; do
                [ -n "$target" ] || continue
                if [ -z "${rank[$target]+x}" ]; then
                    echo "$f:$line: includes from unknown layer '$target'" >&2
                    bad=1
                elif [ "${rank[$target]}" -gt "${rank[$layer]}" ]; then
                    echo "$f:$line: $layer includes $target (a higher layer)" >&2
                    bad=1
                fi
            done < <(awk 'match($0, /^[ \t]*#[ \t]*include[ \t]*(<tulip\/[a-z_]+[\/.]|"\.\.\/[a-z_]+\/)/) {
                              t = substr($0, RSTART, RLENGTH); sub(/.*(<tulip\/|"\.\.\/)/, "", t); sub(/[\/.]$/, "", t)
                              print FNR ":" t }' "$f")
        done < <(find "$dir/$layer" -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) | sort)
    done
done
# Unity batches: files that share a batch must not share names at file scope.
for f in tests/*/*_test.cpp; do
    case "$f" in tests/support/* | tests/loop/loop_only_test.cpp) continue ;; esac
    ns="$(basename "$(dirname "$f")")_$(basename "$f" .cpp)"
    if ! grep -q "^namespace $ns {" "$f"; then
        echo "$f: its body is not in 'namespace $ns {' (tests build in unity batches)" >&2
        bad=1
    fi
done
# tulip.hpp is the top: it may include anything. Nothing in a layer may include it.
if grep -rlE '#[[:space:]]*include[[:space:]]*<tulip/tulip\.hpp>' include/tulip/*/ src >/dev/null 2>&1; then
    grep -rnE '#[[:space:]]*include[[:space:]]*<tulip/tulip\.hpp>' include/tulip/*/ src | sed 's/$/  (includes the top-level tulip.hpp)/' >&2
    bad=1
fi
[ "$bad" = 0 ] && echo "layering: ok"
exit "$bad"
