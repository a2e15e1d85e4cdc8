// bench/tulip_bench.cpp — the foundation benchmarks, tulip side.
//
// Usage: bench_tulip <row> [n]   (rows: see kRows below; bench/run.sh runs them all)
// n overrides the row's size (tasks, callbacks, timers, chain depth, nested
// awaits in 1k chains, parked tasks); bench/run.sh never passes it: it is for
// profiling on a reduced size, e.g.
//   valgrind --tool=callgrind --toggle-collect='tulip::EventLoop::run_forever()' bench_tulip timers 100000
// Prints "RESULT <row> tulip <value> <unit> [cpu=<seconds>]". Each row is a
// fresh process, so that one row's memory (the frame pool, the heap) does not
// flatter the next.
// The shapes match bench/asio_bench.cpp and bench/asyncio_bench.py exactly.
#include <tulip/tulip.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"

using namespace tulip;

namespace {

Coro<int> trivial(int i) { co_return i; }

// 1a. create a task, await it, one at a time.
Coro<double> tasks_seq(int n) {
    long long sum = 0;
    bench::watch.start();
    for (int i = 0; i < n; ++i) {
        Task<int> t = create_task(trivial(i));
        sum += co_await t;
    }
    bench::watch.stop();
    bench::check("tasks_seq", sum, static_cast<long long>(n) * (n - 1) / 2);
    co_return 0;
}

// 1b. create all the tasks, then await them all in creation order.
Coro<double> tasks_batch(int n) {
    long long sum = 0;
    bench::watch.start();
    std::vector<Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) tasks.push_back(create_task(trivial(i)));
    for (auto& t : tasks) sum += co_await t;
    tasks.clear();
    bench::watch.stop();
    bench::check("tasks_batch", sum, static_cast<long long>(n) * (n - 1) / 2);
    co_return 0;
}

// 2. schedule n callbacks up front with call_soon; the last one completes a future.
Coro<double> callbacks(int n) {
    EventLoop& loop = get_running_loop();
    Future<void> done = loop.create_future<void>();
    int count = 0;
    bench::watch.start();
    for (int i = 0; i < n; ++i)
        loop.call_soon([&count, &done, n] {
            if (++count == n) done.set_result();
        });
    co_await done;
    bench::watch.stop();
    bench::check("callbacks", count, n);
    co_return 0;
}

// 3. n timers with distinct small delays (call_later); the last to fire completes a future.
Coro<double> timers(int n) {
    EventLoop& loop = get_running_loop();
    Future<void> done = loop.create_future<void>();
    int count = 0;
    bench::watch.start();
    for (int i = 0; i < n; ++i)
        loop.call_later(std::chrono::duration<double>(static_cast<double>(bench::timer_delay_ns(i, n)) * 1e-9),
                        [&count, &done, n] {
                            if (++count == n) done.set_result();
                        });
    co_await done;
    bench::watch.stop();
    bench::check("timers", count, n);
    co_return 0;
}

// 4. a chain of nested co_awaits: rec(n) awaits rec(n-1) ... rec(0).
Coro<int> rec(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await rec(n - 1);
}

Coro<double> chain(int depth, int reps, const char* row) {
    long long sum = 0;
    bench::watch.start();
    for (int r = 0; r < reps; ++r) sum += co_await rec(depth);
    bench::watch.stop();
    bench::check(row, sum, static_cast<long long>(depth) * reps);
    co_return 0;
}

// 5. memory per pending task: n tasks parked on one Future (the loop owns them;
// nobody keeps a handle), RSS growth / n.
Coro<void> parked(Future<void> gate, int* left, Future<void> all) {
    co_await gate;
    if (--*left == 0) all.set_result();
}

Coro<double> mem_task(int n) {
    EventLoop& loop = get_running_loop();
    Future<void> gate = loop.create_future<void>();
    Future<void> all = loop.create_future<void>();
    int left = n;
    long before = bench::rss_bytes();
    for (int i = 0; i < n; ++i) (void)create_task(parked(gate, &left, all));
    co_await sleep(0);  // every task has run its first step and is parked on gate
    long after = bench::rss_bytes();
    gate.set_result();
    co_await all;
    bench::check("mem_task", left, 0);
    co_return static_cast<double>(after - before) / n;
}

struct Row {
    const char* name;
    const char* unit;
    int n;  // the default size
    Coro<double> (*make)(int n);
};

const Row kRows[] = {
    {"tasks_seq", "s", bench::kTasks, [](int n) { return tasks_seq(n); }},
    {"tasks_batch", "s", bench::kTasks, [](int n) { return tasks_batch(n); }},
    {"callbacks", "s", bench::kCallbacks, [](int n) { return callbacks(n); }},
    {"timers", "s", bench::kTimers, [](int n) { return timers(n); }},
    {"chain", "s", bench::kChainDepth, [](int n) { return chain(n, 1, "chain"); }},
    {"chain1k", "s", bench::kShortDepth* bench::kShortReps,
     [](int n) { return chain(bench::kShortDepth, n / bench::kShortDepth, "chain1k"); }},
    {"mem_task", "B", bench::kParked, [](int n) { return mem_task(n); }},
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: %s <row> [n]\nrows:", argv[0]);
        for (const Row& r : kRows) std::fprintf(stderr, " %s", r.name);
        std::fprintf(stderr, "\n");
        return 2;
    }
    for (const Row& r : kRows) {
        if (std::strcmp(argv[1], r.name) != 0) continue;
        int n = argc == 3 ? std::atoi(argv[2]) : r.n;
        if (n < bench::kShortDepth) {
            std::fprintf(stderr, "n must be at least %d\n", bench::kShortDepth);
            return 2;
        }
        double v = tulip::run(r.make(n));
        if (std::strcmp(r.unit, "B") == 0)
            bench::result_bytes(r.name, "tulip", v);
        else
            bench::result_time(r.name, "tulip");
        return 0;
    }
    std::fprintf(stderr, "unknown row %s\n", argv[1]);
    return 2;
}
