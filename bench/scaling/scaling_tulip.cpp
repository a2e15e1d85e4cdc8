// bench/scaling/scaling_tulip.cpp — does the cost per element stay flat as the
// number of children or waiters grows? (issue 8, finding 14). The asyncio side
// is bench/scaling/scaling_asyncio.py; bench/scaling/run.sh runs both at 1k,
// 100k and 1M and prints the time per element.
//
// Usage: scaling_tulip <row> <n>
// Rows (n = children or waiters):
//   gather          gather(vector of n Tasks, each listed twice) of tasks that yield once
//   wait            wait(n Tasks), ALL_COMPLETED
//   as_completed    as_completed(n Tasks), every one taken
//   task_group      n children in one TaskGroup
//   lock            n tasks queued on a held Lock, then served one by one
//   queue           n getters waiting on an empty Queue, then n puts
//   event           n waiters on an Event, then set()
//   semaphore       n waiters on Semaphore(0), then n releases in a row
//   cancel_waiters  n tasks awaiting shield(one Future) cancelled, then the Future set
//   timers_cancel   n call_later handles, then every one cancelled
// Prints "RESULT <row> tulip n=<n> sec=<seconds>": CPU seconds (user + system)
// of the measured section only (from the moment the tasks or waiters exist to
// the last one done; gather, wait, as_completed, task_group and
// timers_cancel also count creating them).
#include <tulip/tulip.hpp>

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace tulip;

namespace {

// CPU time of this process (user + system): on a shared, loaded machine wall
// time also counts the time the process waited for its core.
double now() {
    timespec ts;
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void check(const char* row, long long got, long long want) {
    if (got != want) {
        std::fprintf(stderr, "%s: wrong result %lld, expected %lld\n", row, got, want);
        std::exit(1);
    }
}

Coro<int> yield_value(int v) {
    co_await sleep(0);
    co_return v;
}

std::vector<Task<int>> spawn(int n) {
    std::vector<Task<int>> ts;
    ts.reserve(n);
    for (int i = 0; i < n; ++i) ts.push_back(create_task(yield_value(i)));
    return ts;
}

Coro<double> row_gather(int n) {
    double t0 = now();
    auto ts = spawn(n);
    std::vector<Task<int>> args;
    args.reserve(2 * static_cast<std::size_t>(n));
    for (auto& t : ts) args.push_back(t);
    for (auto& t : ts) args.push_back(t);
    std::vector<int> r = co_await gather(args);
    double dt = now() - t0;
    check("gather", r.back(), n - 1);
    co_return dt;
}

Coro<double> row_wait(int n) {
    double t0 = now();
    auto ts = spawn(n);
    auto r = co_await wait(ts);
    double dt = now() - t0;
    check("wait", static_cast<long long>(r.done.size()), n);
    co_return dt;
}

Coro<double> row_as_completed(int n) {
    double t0 = now();
    auto ts = spawn(n);
    auto it = as_completed(ts);
    long long sum = 0;
    while (it.remaining()) {
        Task<int> f = co_await it.next();
        int v = co_await f;
        sum += v;
    }
    double dt = now() - t0;
    check("as_completed", sum, static_cast<long long>(n) * (n - 1) / 2);
    co_return dt;
}

Coro<double> row_task_group(int n) {
    double t0 = now();
    auto body = [n](TaskGroup& tg) -> Coro<void> {
        for (int i = 0; i < n; ++i) tg.create_task(yield_value(i));
        co_return;
    };
    co_await task_group(body);
    co_return now() - t0;
}

Coro<void> lock_user(Lock& lock, long long& served) {
    auto held = co_await lock.acquire();
    ++served;
}

Coro<double> row_lock(int n) {
    Lock lock;
    long long served = 0;
    auto first = co_await lock.acquire();
    std::vector<Task<void>> ts;
    ts.reserve(n);
    for (int i = 0; i < n; ++i) ts.push_back(create_task(lock_user(lock, served)));
    co_await sleep(0);  // all queued
    double t0 = now();
    first.release();
    co_await gather(ts);
    double dt = now() - t0;
    check("lock", served, n);
    co_return dt;
}

Coro<void> getter(Queue<int>& q, long long& sum) {
    int v = co_await q.get();
    sum += v;
}

Coro<double> row_queue(int n) {
    Queue<int> q;
    long long sum = 0;
    std::vector<Task<void>> ts;
    ts.reserve(n);
    for (int i = 0; i < n; ++i) ts.push_back(create_task(getter(q, sum)));
    co_await sleep(0);
    double t0 = now();
    for (int i = 0; i < n; ++i) q.put_nowait(i);
    co_await gather(ts);
    double dt = now() - t0;
    check("queue", sum, static_cast<long long>(n) * (n - 1) / 2);
    co_return dt;
}

Coro<void> event_waiter(Event& ev, long long& woken) {
    co_await ev.wait();
    ++woken;
}

Coro<double> row_event(int n) {
    Event ev;
    long long woken = 0;
    std::vector<Task<void>> ts;
    ts.reserve(n);
    for (int i = 0; i < n; ++i) ts.push_back(create_task(event_waiter(ev, woken)));
    co_await sleep(0);
    double t0 = now();
    ev.set();
    co_await gather(ts);
    double dt = now() - t0;
    check("event", woken, n);
    co_return dt;
}

Coro<void> sem_waiter(Semaphore& sem, long long& got) {
    auto held = co_await sem.acquire();
    held.detach();
    ++got;
}

Coro<double> row_semaphore(int n) {
    Semaphore sem(0);
    long long got = 0;
    std::vector<Task<void>> ts;
    ts.reserve(n);
    for (int i = 0; i < n; ++i) ts.push_back(create_task(sem_waiter(sem, got)));
    co_await sleep(0);
    double t0 = now();
    for (int i = 0; i < n; ++i) sem.release();
    co_await gather(ts);
    double dt = now() - t0;
    check("semaphore", got, n);
    co_return dt;
}

Coro<int> shielded(Future<int> f) { co_return co_await shield(f); }

Coro<double> row_cancel_waiters(int n) {
    auto f = create_future<int>();
    std::vector<Task<int>> ts;
    ts.reserve(n);
    for (int i = 0; i < n; ++i) ts.push_back(create_task(shielded(f)));
    co_await sleep(0);
    double t0 = now();
    for (auto& t : ts) t.cancel();
    auto r = co_await gather(return_exceptions, ts);
    f.set_result(1);
    co_await sleep(0);
    double dt = now() - t0;
    check("cancel_waiters", static_cast<long long>(r.size()), n);
    co_return dt;
}

Coro<double> row_timers_cancel(int n) {
    EventLoop& loop = get_running_loop();
    std::vector<TimerHandle> hs;
    hs.reserve(n);
    double t0 = now();
    for (int i = 0; i < n; ++i) hs.push_back(loop.call_later(1000.0 + i * 1e-3, [] {}));
    for (auto& h : hs) h.cancel();
    co_await sleep(0);
    co_return now() - t0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: scaling_tulip <row> <n>\n");
        return 2;
    }
    std::string row = argv[1];
    int n = std::atoi(argv[2]);
    Coro<double> (*fn)(int) = nullptr;
    if (row == "gather")
        fn = row_gather;
    else if (row == "wait")
        fn = row_wait;
    else if (row == "as_completed")
        fn = row_as_completed;
    else if (row == "task_group")
        fn = row_task_group;
    else if (row == "lock")
        fn = row_lock;
    else if (row == "queue")
        fn = row_queue;
    else if (row == "event")
        fn = row_event;
    else if (row == "semaphore")
        fn = row_semaphore;
    else if (row == "cancel_waiters")
        fn = row_cancel_waiters;
    else if (row == "timers_cancel")
        fn = row_timers_cancel;
    if (!fn || n <= 0) {
        std::fprintf(stderr, "unknown row %s or bad n\n", row.c_str());
        return 2;
    }
    RunnerOptions o;
    o.handle_sigint = false;
    double sec = tulip::run(fn(n), o);
    std::printf("RESULT %s tulip n=%d sec=%.6f\n", row.c_str(), n, sec);
    return 0;
}
