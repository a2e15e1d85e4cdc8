// bench/sync/sync_tulip.cpp — the synchronisation and subprocess benchmarks,
// tulip side (bench/sync/sync_asyncio.py is the same for asyncio and uvloop;
// bench/sync/run.sh runs both and prints the ratios).
//
// Usage: sync_tulip <row> [n]   (n overrides the row's size; for profiling)
// Rows:
//   queue_bounded    1,000,000 ints through a Queue(maxsize=100), one producer task, one consumer task
//   queue_unbounded  the same through an unbounded Queue
//   lock             100 tasks x 1,000 rounds of: acquire, sleep(0), release (100,000 round trips)
//   spawn_seq        1,000 `true` subprocesses, spawned and reaped one after the other
//   spawn_conc       1,000 `true` subprocesses, 10 at a time (10 workers x 100 in sequence)
// Prints "RESULT <row> tulip wall=<seconds> cpu=<seconds>" (cpu: user + system
// of this process over the measured section; the children's time is not in it).
#include <tulip/tulip.hpp>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace tulip;

namespace {

double wall_now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double cpu_now() {
    timespec ts;
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Watch {
    double w0 = 0, c0 = 0, wall = 0, cpu = 0;
    void start() {
        w0 = wall_now();
        c0 = cpu_now();
    }
    void stop() {
        cpu = cpu_now() - c0;
        wall = wall_now() - w0;
    }
} watch;

void check(const char* row, long long got, long long want) {
    if (got != want) {
        std::fprintf(stderr, "%s: wrong result %lld, expected %lld\n", row, got, want);
        std::exit(1);
    }
}

// ---- queues -------------------------------------------------------------------

Coro<void> producer(Queue<int>& q, int n) {
    for (int i = 0; i < n; ++i) co_await q.put(i);
}

Coro<long long> consumer(Queue<int>& q, int n) {
    long long sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await q.get();
    co_return sum;
}

Coro<void> queue_row(int n, long maxsize, const char* row) {
    Queue<int> q(maxsize);
    watch.start();
    Task<void> p = create_task(producer(q, n));
    Task<long long> c = create_task(consumer(q, n));
    co_await p;
    long long sum = co_await c;
    watch.stop();
    check(row, sum, static_cast<long long>(n) * (n - 1) / 2);
}

// ---- lock -------------------------------------------------------------------

Coro<void> locker(Lock& lock, int rounds, long long* total) {
    for (int i = 0; i < rounds; ++i) {
        auto held = co_await lock.acquire();
        co_await sleep(0);
        ++*total;
    }  // released here
}

Coro<void> lock_row(int n) {
    constexpr int kTasks = 100;
    Lock lock;
    long long total = 0;
    std::vector<Task<void>> tasks;
    tasks.reserve(kTasks);
    watch.start();
    for (int i = 0; i < kTasks; ++i) tasks.push_back(create_task(locker(lock, n / kTasks, &total)));
    for (auto& t : tasks) co_await t;
    watch.stop();
    check("lock", total, n / kTasks * kTasks);
}

// ---- subprocesses -----------------------------------------------------------

Coro<int> spawn_true() {
    Process p = co_await create_subprocess_exec("true");
    co_return co_await p.wait();
}

Coro<void> spawner(int count, int* ok) {
    for (int i = 0; i < count; ++i) {
        int rc = co_await spawn_true();  // named first: GCC 12 miscompiles co_await inside an if
        if (rc == 0) ++*ok;
    }
}

Coro<void> spawn_row(int n, int concurrency, const char* row) {
    int ok = 0;
    std::vector<Task<void>> workers;
    watch.start();
    for (int i = 0; i < concurrency; ++i) workers.push_back(create_task(spawner(n / concurrency, &ok)));
    for (auto& t : workers) co_await t;
    watch.stop();
    check(row, ok, n / concurrency * concurrency);
}

struct Row {
    const char* name;
    int n;
};
const Row kRows[] = {{"queue_bounded", 1'000'000},
                     {"queue_unbounded", 1'000'000},
                     {"lock", 100'000},
                     {"spawn_seq", 1'000},
                     {"spawn_conc", 1'000}};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: %s <row> [n]\nrows:", argv[0]);
        for (const Row& r : kRows) std::fprintf(stderr, " %s", r.name);
        std::fprintf(stderr, "\n");
        return 2;
    }
    std::string row = argv[1];
    int n = 0;
    for (const Row& r : kRows)
        if (row == r.name) n = argc == 3 ? std::atoi(argv[2]) : r.n;
    if (n <= 0) {
        std::fprintf(stderr, "unknown row %s (or bad n)\n", argv[1]);
        return 2;
    }
    if (row == "queue_bounded")
        run(queue_row(n, 100, "queue_bounded"));
    else if (row == "queue_unbounded")
        run(queue_row(n, 0, "queue_unbounded"));
    else if (row == "lock")
        run(lock_row(n));
    else if (row == "spawn_seq")
        run(spawn_row(n, 1, "spawn_seq"));
    else
        run(spawn_row(n, 10, "spawn_conc"));
    std::printf("RESULT %s tulip wall=%.9g cpu=%.9g\n", row.c_str(), watch.wall, watch.cpu);
    return 0;
}
