#include <tulip/task/loop_threads.hpp>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include <tulip/task/task.hpp>

namespace tulip {

namespace detail {
struct LoopThreadsAccess {
    static LoopThreads make(std::size_t n) { return LoopThreads(n); }
    static LoopRef& slot(LoopThreads& t, std::size_t i) { return t.loops_[i]; }
};
}  // namespace detail

namespace {

struct Shared {
    Shared(std::size_t n, LoopThreadMain m)
        : loops(detail::LoopThreadsAccess::make(n)), started(static_cast<std::ptrdiff_t>(n)), tasks(n),
          cancel_asked(std::make_unique<std::atomic<bool>[]>(n)), main(std::move(m)) {}
    LoopThreads loops;
    std::latch started;          // every loop exists (its ref is in `loops`) before any main runs
    std::vector<AnyTask> tasks;  // each worker's main task; touched on its own loop only
    std::unique_ptr<std::atomic<bool>[]> cancel_asked;
    LoopThreadMain main;
    std::mutex mu;
    std::exception_ptr first_error;
};

void pin_to(std::size_t cpu) {
    unsigned n = std::thread::hardware_concurrency();
    if (n == 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % n, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0)
        throw std::system_error(errno, std::generic_category(),
                                "sched_setaffinity(cpu " + std::to_string(cpu % n) + ")");
}

// Asks every other worker's main to stop, from any thread. The flag covers a
// main not started yet (it cancels itself on its first step); the post, one
// that runs.
void cancel_others(Shared& s, std::size_t self) {
    for (std::size_t j = 0; j < s.loops.size(); ++j) {
        if (j == self) continue;
        s.cancel_asked[j].store(true, std::memory_order_release);
        const LoopRef& ref = s.loops.loop(j);
        if (!ref) continue;
        try {
            Shared* sp = &s;
            ref.call_soon_threadsafe([sp, j] {
                if (sp->tasks[j] && !sp->tasks[j].done()) sp->tasks[j].cancel();
            });
        } catch (const std::runtime_error&) {
            // That loop is closed: its main has ended.
        }
    }
}

Coro<void> worker_main(Shared* s, std::size_t i) {
    s->tasks[i] = current_task();
    if (s->cancel_asked[i].load(std::memory_order_acquire)) throw CancelledError();
    co_await s->main(i, s->loops);
}

void fail(Shared& s, std::size_t i, std::exception_ptr err) {
    bool first = false;
    {
        std::lock_guard g(s.mu);
        if (!s.first_error) {
            s.first_error = std::move(err);
            first = true;
        }
    }
    if (first) cancel_others(s, i);
}

// Worker 0 is the caller's thread: its CPU affinity is put back on the way out.
struct AffinityRestore {
    bool saved = false;
    cpu_set_t set;
    ~AffinityRestore() {
        if (saved) ::sched_setaffinity(0, sizeof set, &set);
    }
};

void run_worker(Shared& s, std::size_t i, const LoopThreadsOptions& options) {
    AffinityRestore restore;
    if (i == 0 && options.pin) restore.saved = ::sched_getaffinity(0, sizeof restore.set, &restore.set) == 0;
    std::optional<Runner> runner;
    try {
        if (options.pin) pin_to(options.first_cpu + i);
        RunnerOptions ro = options.runner;
        if (i != 0) ro.handle_sigint = false;  // Ctrl-C is worker 0's (the calling thread's)
        runner.emplace(std::move(ro));
        detail::LoopThreadsAccess::slot(s.loops, i) = runner->get_loop().threadsafe_ref();
    } catch (...) {
        runner.reset();
        s.started.arrive_and_wait();  // the others must not wait for this one
        fail(s, i, std::current_exception());
        return;
    }
    s.started.arrive_and_wait();
    try {
        runner->run(worker_main(&s, i));
    } catch (const CancelledError&) {
        // Cancelled because a sibling failed: not a failure of its own. From
        // elsewhere (its own code), it is one.
        if (!s.cancel_asked[i].load(std::memory_order_acquire)) fail(s, i, std::current_exception());
    } catch (...) {
        fail(s, i, std::current_exception());
    }
    try {
        runner.reset();  // Runner::close: this loop's leftovers cancelled, the loop closed
    } catch (...) {
        fail(s, i, std::current_exception());
    }
}

}  // namespace

void run_threads(LoopThreadMain main, LoopThreadsOptions options) {
    if (!main) throw std::invalid_argument("run_threads() needs a main function");
    std::size_t n = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    Shared s(n, std::move(main));
    std::vector<std::thread> threads;
    threads.reserve(n - 1);
    for (std::size_t i = 1; i < n; ++i) {
        try {
            threads.emplace_back([&s, &options, i] { run_worker(s, i, options); });
        } catch (...) {
            // No thread for worker i (and those after): stand in for them at
            // the latch, and let the ones started stop.
            fail(s, i, std::current_exception());
            for (std::size_t j = i; j < n; ++j) s.started.count_down();
            break;
        }
    }
    run_worker(s, 0, options);
    for (auto& t : threads) t.join();
    if (s.first_error) std::rethrow_exception(s.first_error);
}

}  // namespace tulip
