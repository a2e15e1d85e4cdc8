// bench/bench_common.hpp — what the C++ benchmark programs share: a stopwatch,
// the resident set size, the sizes of the workloads and the result line format
// that bench/run.py parses:
//
//   RESULT <row> <impl> <value> <unit> [cpu=<seconds>]
//
// where unit is "s" (seconds of wall time; cpu= adds the CPU time, user +
// system, of the same section) or "B" (bytes per task).
#pragma once

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

// The workloads, identical in every peer (bench/asyncio_bench.py mirrors them).
inline constexpr int kTasks = 1'000'000;       // rows tasks_seq, tasks_batch
inline constexpr int kCallbacks = 1'000'000;   // row callbacks
inline constexpr int kTimers = 1'000'000;      // row timers
inline constexpr int kChainDepth = 1'000'000;  // row chain: one recursion this deep
inline constexpr int kShortDepth = 1'000;      // row chain1k: this deep ...
inline constexpr int kShortReps = 1'000;       // ... this many times
inline constexpr int kParked = 100'000;        // row mem_task

// Timer i fires after delay_ns(i): distinct delays, 10 ns apart, in a
// scrambled order (7919 is prime, so i -> i*7919 mod N is a permutation),
// all within 10 ms so that waiting is a small part of the measurement.
inline std::int64_t timer_delay_ns(int i, int n) { return (static_cast<std::int64_t>(i) * 7919 % n) * 10; }

inline double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// CPU time of the process (user + system). On a shared machine it does not
// count the time the process waited for a core, as wall time does.
inline double cpu_now() {
    timespec ts;
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Times the measured section of a row: start() ... stop(), then report().
struct Stopwatch {
    double wall0 = 0, cpu0 = 0, wall = -1, cpu = -1;
    void start() {
        wall0 = now();
        cpu0 = cpu_now();
    }
    void stop() {
        cpu = cpu_now() - cpu0;
        wall = now() - wall0;
    }
};
inline Stopwatch watch;

// Resident set size in bytes, from /proc/self/statm (second field, in pages).
inline long rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, resident = 0;
    int got = std::fscanf(f, "%ld %ld", &size, &resident);
    std::fclose(f);
    if (got != 2) return -1;
    return resident * ::sysconf(_SC_PAGESIZE);
}

// A time row: the stopwatch's reading.
inline void result_time(const char* row, const char* impl) {
    std::printf("RESULT %s %s %.9g s cpu=%.9g\n", row, impl, watch.wall, watch.cpu);
    std::fflush(stdout);
}

// A memory row: bytes per task.
inline void result_bytes(const char* row, const char* impl, double bytes) {
    std::printf("RESULT %s %s %.9g B\n", row, impl, bytes);
    std::fflush(stdout);
}

// A value the optimiser must compute: printed to stderr only if it is wrong.
inline void check(const char* row, long long got, long long want) {
    if (got != want) {
        std::fprintf(stderr, "%s: checksum %lld, expected %lld\n", row, got, want);
        std::exit(2);
    }
}

}  // namespace bench
