#!/usr/bin/env bash
# What including tulip costs a user's translation unit: times
# `-fsyntax-only -std=c++20` on a trivial program that includes
# <tulip/tulip.hpp> against one that includes only the standard headers
# tulip's public API legitimately needs, with g++-12 and clang++-16, runs
# interleaved (tulip, std, tulip, std, ...) so load drifts hit both alike.
# Prints the median CPU time (user + system) of each and the ratio tulip/std.
# Usage: bench/compile_time.sh [runs]      (default 7)
# Environment: INC=path/to/include (default: this tree's include/), to
# compare another tree before/after; CXXS="g++-12 clang++-16".
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
inc="$(realpath "${INC:-include}")"
cxxs="${CXXS:-g++-12 clang++-16}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/tulip_tu.cpp" <<'EOF'
#include <tulip/tulip.hpp>
tulip::Coro<int> amain() {
    co_await tulip::sleep(std::chrono::milliseconds(1));
    co_return 0;
}
int main() { return tulip::run(amain()); }
EOF

# The standard headers a user of tulip's public API cannot avoid, one reason
# each. What is not here (<thread>, <mutex>, <condition_variable>,
# <unordered_map>, <unordered_set>, <algorithm>, <iostream>) is an
# implementation detail and belongs in src/.
cat >"$tmp/std_tu.cpp" <<'EOF'
#include <any>              // Transport::get_extra_info returns std::any
#include <atomic>           // Handle cancel flags, call_soon_threadsafe wake-ups
#include <chrono>           // sleep, call_later, timeouts take durations
#include <coroutine>        // Coro, Task, every awaiter
#include <cstddef>          // std::size_t in buffer and queue sizes
#include <cstdint>          // fixed-width ports, ids, counters
#include <cstdio>           // print_call_graph writes to a FILE*
#include <deque>            // Queue<T> is a template; its storage is asyncio's deque
#include <exception>        // std::exception_ptr: a stored error is rethrown as itself
#include <functional>       // std::function callbacks: exception handler, factories
#include <map>              // subprocess environment
#include <memory>           // shared_ptr/unique_ptr for transports, servers, executors
#include <optional>         // results that may be absent (returncode, get_nowait)
#include <source_location>  // coroutine frames record where they were created
#include <span>             // buffered protocols and writes lend byte spans
#include <stdexcept>        // ValueError/RuntimeError map to std::invalid_argument/runtime_error
#include <string>           // owned bytes (asyncio's bytes), names
#include <string_view>      // lent bytes
#include <system_error>     // OSError maps to std::system_error carrying errno
#include <tuple>            // gather(a, b) returns a tuple
#include <type_traits>      // constraints on awaitables and callables
#include <utility>          // move, forward, exchange
#include <variant>          // gather with return_exceptions holds value-or-error
#include <vector>           // lists of results, addresses, tasks
#include <netdb.h>          // getaddrinfo flags in the DNS API
#include <sys/socket.h>     // sockaddr_storage in Address
int main() { return 0; }
EOF

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
cpu() {  # cxx file -> user+sys seconds
    local TIMEFORMAT='%U %S' t
    t=$( { time "$1" -std=c++20 -fsyntax-only -I"$inc" "$2" >/dev/null 2>"$tmp/err"; } 2>&1 ) ||
        { cat "$tmp/err" >&2; exit 1; }
    awk '{printf "%.3f\n", $1 + $2}' <<<"$t"
}

echo "include: $inc   runs: $runs   (CPU s, user+sys, median)"
printf '%-12s %10s %10s %8s\n' compiler tulip std ratio
for cxx in $cxxs; do
    : >"$tmp/t" ; : >"$tmp/s"
    for _ in $(seq "$runs"); do
        cpu "$cxx" "$tmp/tulip_tu.cpp" >>"$tmp/t"
        cpu "$cxx" "$tmp/std_tu.cpp" >>"$tmp/s"
    done
    t=$(median <"$tmp/t"); s=$(median <"$tmp/s")
    printf '%-12s %10s %10s %8s\n' "$cxx" "$t" "$s" "$(awk -v t="$t" -v s="$s" 'BEGIN{printf "%.2fx", t/s}')"
done
