// bench/asio_bench.cpp — the foundation benchmarks, Boost.Asio side (C++20
// coroutines: co_spawn, awaitable, use_awaitable; post; steady_timer).
//
// Usage: bench_asio <row> [n]. Prints "RESULT <row> asio <value> <unit> [cpu=<seconds>]".
// n overrides the row's size, as in bench_tulip (for profiling only).
// The shapes mirror bench/tulip_bench.cpp. Asio gets its single-threaded fast
// path: the io_context is made with BOOST_ASIO_CONCURRENCY_HINT_UNSAFE (no
// locking in the scheduler or reactor), its fastest single-threaded setting;
// build with -DBENCH_ASIO_HINT=1 for the common "one thread" hint (within noise here).
//
// Where asio has no direct counterpart:
//  - a Task is co_spawn; "create and await" is co_await co_spawn(..., use_awaitable);
//    "create all, then await all" co_spawns each with a completion handler and
//    waits for the last one (asio has no handle to await a spawned coroutine later);
//  - a Future that tasks park on is a steady_timer that never expires, cancelled
//    to release them (Boost 1.74 has no channel).

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>,
// and it detects C++20 coroutines on GCC and MSVC only: clang 16 has them too.
#include <coroutine>
#include <utility>
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

#ifndef BENCH_ASIO_HINT
#define BENCH_ASIO_HINT BOOST_ASIO_CONCURRENCY_HINT_UNSAFE
#endif

namespace {

double g_bytes = -1;  // mem_task

awaitable<int> trivial(int i) { co_return i; }

// 1a. spawn, await, one at a time.
awaitable<void> tasks_seq(int n) {
    auto ex = co_await asio::this_coro::executor;
    long long sum = 0;
    bench::watch.start();
    for (int i = 0; i < n; ++i) sum += co_await asio::co_spawn(ex, trivial(i), use_awaitable);
    bench::watch.stop();
    bench::check("tasks_seq", sum, static_cast<long long>(n) * (n - 1) / 2);
}

// 1b. spawn all, then wait for all (a completion handler per spawn; the last
// one releases the waiting coroutine).
awaitable<void> tasks_batch(int n) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer all(ex, asio::steady_timer::time_point::max());
    long long sum = 0;
    int left = n;
    bench::watch.start();
    for (int i = 0; i < n; ++i)
        asio::co_spawn(ex, trivial(i), [&sum, &left, &all](std::exception_ptr e, int v) {
            if (e) std::rethrow_exception(e);
            sum += v;
            if (--left == 0) all.cancel();
        });
    if (left > 0) {
        boost::system::error_code ec;
        co_await all.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    bench::watch.stop();
    bench::check("tasks_batch", sum, static_cast<long long>(n) * (n - 1) / 2);
}

// 2. post n handlers up front (from inside the running loop, as call_soon is).
void callbacks(asio::io_context& ctx, int n) {
    static int count = 0;
    asio::post(ctx, [&ctx, n] {
        bench::watch.start();
        for (int i = 0; i < n; ++i)
            asio::post(ctx, [n] {
                if (++count == n) bench::watch.stop();
            });
    });
    ctx.run();
    bench::check("callbacks", count, n);
}

// 3. n steady_timers with distinct small delays.
void timers(asio::io_context& ctx, int n) {
    static int count = 0;
    std::vector<asio::steady_timer> ts;
    asio::post(ctx, [&ctx, &ts, n] {
        bench::watch.start();
        ts.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            ts.emplace_back(ctx, std::chrono::nanoseconds(bench::timer_delay_ns(i, n)));
            ts.back().async_wait([n](const boost::system::error_code& ec) {
                if (ec) std::abort();
                if (++count == n) bench::watch.stop();
            });
        }
    });
    ctx.run();
    bench::check("timers", count, n);
}

// 4. nested co_awaits of awaitables.
awaitable<int> rec(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await rec(n - 1);
}

awaitable<void> chain(int depth, int reps, const char* row) {
    long long sum = 0;
    bench::watch.start();
    for (int r = 0; r < reps; ++r) sum += co_await rec(depth);
    bench::watch.stop();
    bench::check(row, sum, static_cast<long long>(depth) * reps);
}

// 5. memory per parked coroutine: n coroutines waiting on one timer.
awaitable<void> parked(asio::steady_timer& gate, int* started, int* left) {
    ++*started;
    boost::system::error_code ec;
    co_await gate.async_wait(asio::redirect_error(use_awaitable, ec));
    --*left;
}

void mem_task(asio::io_context& ctx, int n) {
    asio::steady_timer gate(ctx, asio::steady_timer::time_point::max());
    int started = 0, left = n;
    long before = bench::rss_bytes();
    for (int i = 0; i < n; ++i) asio::co_spawn(ctx, parked(gate, &started, &left), asio::detached);
    while (started < n) ctx.poll();  // every coroutine has reached its async_wait
    long after = bench::rss_bytes();
    gate.cancel();
    ctx.run();
    bench::check("mem_task", left, 0);
    g_bytes = static_cast<double>(after - before) / n;
}

void spawn(asio::io_context& ctx, awaitable<void> a) {
    asio::co_spawn(ctx, std::move(a), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ctx.run();
}

const char* const kRows[] = {"tasks_seq", "tasks_batch", "callbacks", "timers", "chain", "chain1k", "mem_task"};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: %s <row> [n]\nrows:", argv[0]);
        for (const char* r : kRows) std::fprintf(stderr, " %s", r);
        std::fprintf(stderr, "\n");
        return 2;
    }
    std::string row = argv[1];
    int n = argc == 3 ? std::atoi(argv[2]) : 0;
    if (argc == 3 && n < bench::kShortDepth) {
        std::fprintf(stderr, "n must be at least %d\n", bench::kShortDepth);
        return 2;
    }
    auto size = [n](int dflt) { return n ? n : dflt; };
    asio::io_context ctx(BENCH_ASIO_HINT);
    if (row == "tasks_seq")
        spawn(ctx, tasks_seq(size(bench::kTasks)));
    else if (row == "tasks_batch")
        spawn(ctx, tasks_batch(size(bench::kTasks)));
    else if (row == "callbacks")
        callbacks(ctx, size(bench::kCallbacks));
    else if (row == "timers")
        timers(ctx, size(bench::kTimers));
    else if (row == "chain")
        spawn(ctx, chain(size(bench::kChainDepth), 1, "chain"));
    else if (row == "chain1k")
        spawn(ctx,
              chain(bench::kShortDepth, size(bench::kShortDepth * bench::kShortReps) / bench::kShortDepth, "chain1k"));
    else if (row == "mem_task")
        mem_task(ctx, size(bench::kParked));
    else {
        std::fprintf(stderr, "unknown row %s\n", argv[1]);
        return 2;
    }
    if (row == "mem_task")
        bench::result_bytes("mem_task", "asio", g_bytes);
    else
        bench::result_time(row.c_str(), "asio");
    return 0;
}
