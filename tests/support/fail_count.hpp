// tests/support/fail_count.hpp — the fail-count sweep (Boost.Beast's
// test::fail_count, through tulip's syscall seam, src/core/sys) and the other
// fault modes the reliability program asks for, shared by the net, loop,
// process, tls and http fail_count tests.
//
// A scenario is a coroutine that does one thing end to end (connect, echo,
// spawn...) and sets `corrupt` when data that arrived is wrong. It runs once
// with no fault to count the n calls it makes through the seam, then under
// each mode:
//   fail_kth   n runs, the k-th failing the k-th call with the errno a peer or
//              the kernel gives there (errno_for); the run ends in the right
//              result or a clean exception, and an epoll_wait EINTR must be
//              invisible.
//   resources  one run per fd-creating call (socket, socketpair, accept4,
//              pipe2, pidfd_open) and posix_spawn, the k-th of them failing
//              with EMFILE (posix_spawn: ENOMEM): a clean exception or a
//              correct recovery (a server's accept loop retries later).
//   short_io   one run, every byte-stream call moving at most 1 byte (or the
//              scenario's short_io_limit): must complete, data intact.
//   eagain     one run, every other I/O call failing with EAGAIN, each after
//              the poller said ready (spurious readiness): must complete.
//   eintr      one run, every call getting EINTR once before it goes through
//              (EINTR alternates per call name): must complete.
//   enomem     (binaries that install the allocator hook,
//              TULIP_FAIL_COUNT_ALLOC_HOOK) the scenario's allocations through
//              the global operator new on the loop's thread are counted (m),
//              then the k-th throws std::bad_alloc: a clean exception, no
//              leak, no hang. Each such run is made in a forked child, so that
//              a std::terminate (bad_alloc in a noexcept path) is reported
//              with its backtrace instead of ending the test binary.
//              Coroutine frames come from tulip's frame pool, not operator
//              new, so they are not reached.
// Every run has a loop of its own and a time bound (kLoopbackTimeout), and
// must leave the process's fd count and the loop's tasks as they were.
//
// CI samples the fail_kth and resources sweeps (every k up to 50, then every
// 7th, and the last) and the enomem one (see sampled_enomem);
// TULIP_SWEEP_FULL=1 runs every k.
#pragma once

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <tulip/tulip.hpp>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "../../src/core/sys.hpp"
#include "support/loop_test.hpp"

namespace tulip::test::fail_count {

enum class Mode { clean, fail_kth, resources, short_io, eagain, eintr, enomem };

inline const char* mode_name(Mode m) {
    switch (m) {
        case Mode::clean:
            return "clean";
        case Mode::fail_kth:
            return "fail_kth";
        case Mode::resources:
            return "resources";
        case Mode::short_io:
            return "short_io";
        case Mode::eagain:
            return "eagain";
        case Mode::eintr:
            return "eintr";
        case Mode::enomem:
            return "enomem";
    }
    return "?";
}

inline bool named(const char* name, std::initializer_list<const char*> names) {
    for (const char* n : names)
        if (std::strcmp(name, n) == 0) return true;
    return false;
}

// Calls that create a file descriptor (or a process): what RLIMIT_NOFILE or
// memory pressure makes fail.
inline bool creates_resource(const char* name) {
    return named(name, {"socket", "socketpair", "accept4", "pipe2", "pidfd_open", "posix_spawn"});
}
// Non-blocking I/O calls, where EAGAIN after readiness is a spurious wake-up.
inline bool nonblocking_io(const char* name) {
    return named(name, {"recv", "send", "writev", "read", "write", "recvfrom", "sendto", "accept4", "sendfile"});
}
// Calls a signal can interrupt.
inline bool interruptible(const char* name) { return nonblocking_io(name) || named(name, {"epoll_wait", "connect"}); }

// The errno each call gets when it is the one to fail (fail_kth): what a
// peer's reset, a refused connect or the kernel's interruptions give there.
inline int errno_for(const char* name) {
    if (named(name, {"epoll_wait"})) return EINTR;  // must be invisible
    if (named(name, {"recv"})) return ECONNRESET;
    if (named(name, {"read"})) return EIO;
    if (named(name, {"send", "writev", "write", "sendfile"})) return EPIPE;
    if (named(name, {"accept4"})) return ECONNABORTED;
    if (named(name, {"connect", "recvfrom"})) return ECONNREFUSED;
    if (named(name, {"sendto"})) return ENOBUFS;
    if (named(name, {"socket", "socketpair", "pipe2", "pidfd_open"})) return EMFILE;
    if (named(name, {"posix_spawn"})) return EAGAIN;
    return EIO;
}

struct State {
    Mode mode = Mode::clean;
    int calls = 0;                             // seam calls seen in this run
    int resource_calls = 0;                    // of which fd- or process-creating
    int fail_at = 0;                           // the call (resources: the resource call) to fail, 1-based; 0: none
    std::string failed;                        // the call that was failed
    std::map<std::string, bool> faulted_last;  // eagain/eintr: per call name, whether its last call was faulted
    std::vector<std::string> resource_names;   // the resource calls made, in order
    std::thread::id owner;                     // calls from other threads pass untouched
};
inline State state;

inline int hook(const char* name) {
    if (std::this_thread::get_id() != state.owner) return 0;
    ++state.calls;
    bool resource = creates_resource(name);
    if (resource) {
        ++state.resource_calls;
        if (state.mode == Mode::clean) state.resource_names.emplace_back(name);
    }
    switch (state.mode) {
        case Mode::clean:
        case Mode::short_io:
        case Mode::enomem:
            return 0;
        case Mode::fail_kth:
            if (state.calls != state.fail_at) return 0;
            state.failed = name;
            return errno_for(name);
        case Mode::resources:
            if (!resource || state.resource_calls != state.fail_at) return 0;
            state.failed = name;
            return std::strcmp(name, "posix_spawn") == 0 ? ENOMEM : EMFILE;
        case Mode::eagain:
        case Mode::eintr: {
            bool eagain = state.mode == Mode::eagain;
            if (!(eagain ? nonblocking_io(name) : interruptible(name))) return 0;
            bool& last = state.faulted_last[name];
            last = !last;
            return last ? (eagain ? EAGAIN : EINTR) : 0;
        }
    }
    return 0;
}

// ---- the allocator hook (ENOMEM) ----------------------------------------------

struct AllocFault {
    bool counting = false;  // count this thread's allocations
    long count = 0;
    long fail_at = 0;  // the allocation to fail, 1-based; 0: none
    bool failed = false;
};
inline thread_local AllocFault alloc_fault;
// Set by TULIP_FAIL_COUNT_ALLOC_HOOK(): this binary's operator new counts.
inline bool alloc_hook_installed = false;
// Whether the enomem runs are made. They fork: under TSan a forked child of
// a process that had threads cannot start threads of its own (the
// executor's), so not there. Under ASan coroutine frames, futures and
// callback nodes come from operator new (the frame pool is bypassed), which
// reaches failures the other builds cannot (docs/reliability.md, section 3):
// CI's ASan leg runs the sample, and TULIP_SWEEP_FULL=1 every k (a fork
// costs ~0.4 s there, ~10 minutes for both pollers).
inline bool enomem_runs();

// Runs f() with the next allocation on this thread failing (the hook must be
// installed); returns whether f() made one. For the findings' tests.
template <class F>
bool next_allocation_fails_in(F&& f) {
    alloc_fault = AllocFault{true, 0, 1, false};
    try {
        f();
    } catch (...) {
        alloc_fault = AllocFault{};
        throw;
    }
    bool failed = alloc_fault.failed;
    alloc_fault = AllocFault{};
    return failed;
}

// This thread's stack to fd 2, as offsets in their objects (for
// addr2line -Cfpe <binary>); allocates nothing.
inline void print_backtrace() {
    void* frames[40];
    int depth = ::backtrace(frames, 40);
    for (int i = 0; i < depth; ++i) {
        Dl_info info{};
        char line[128];
        if (::dladdr(frames[i], &info) && info.dli_fbase) {
            int len = std::snprintf(
                line, sizeof line, "  at 0x%lx\n",
                static_cast<unsigned long>(static_cast<char*>(frames[i]) - static_cast<char*>(info.dli_fbase)));
            [[maybe_unused]] auto w = ::write(2, line, static_cast<std::size_t>(len));
        }
    }
}

// The operator new the hook stands in front of (ASan's or TSan's when they
// are there, else libstdc++'s), so that deallocation stays theirs and the
// sanitizers keep checking new/delete pairs.
using NewFn = void* (*)(std::size_t);
inline NewFn next_new(const char* symbol) {
    void* sym = ::dlsym(RTLD_NEXT, symbol);
    NewFn fn = nullptr;
    static_assert(sizeof fn == sizeof sym);
    std::memcpy(&fn, &sym, sizeof fn);
    return fn;
}

inline void* counted_alloc(std::size_t n, bool array) {
    AllocFault& a = alloc_fault;
    if (a.counting && ++a.count == a.fail_at) {
        a.failed = true;
        if (std::getenv("TULIP_SWEEP_ENOMEM_TRACE")) print_backtrace();  // where the failed allocation was
        throw std::bad_alloc();
    }
    static const NewFn scalar = next_new("_Znwm");
    static const NewFn vector = next_new("_Znam");
    return (array ? vector : scalar)(n);
}

using Body = std::function<Coro<void>(bool& corrupt)>;

struct Scenario {
    Body body;
    // short_io's per-call byte limit (large payloads take a larger one to
    // stay fast); 0 skips the mode.
    unsigned long short_io_limit = 1;
    bool eagain = true;  // run the eagain mode
    bool eintr = true;   // run the eintr mode
    bool enomem = true;  // run the enomem mode (where the allocator hook is installed)
    // Whether resources fails accept4 too: a server's accept loop then waits
    // 1 s (asyncio's ACCEPT_RETRY_DELAY) before it accepts again, so one
    // scenario of a binary does it, for its first accept4 only, and only in
    // a full sweep (net.ServerTest covers accept's EMFILE in CI).
    bool accept_emfile = false;
};

struct Outcome {
    int seam_calls = 0;
    int resource_calls = 0;
    long allocations = 0;
    bool completed = false;
    bool timed_out = false;
    bool unclean = false;      // ended in something not a std::exception
    bool loop_raised = false;  // run_until_complete raised with the scenario still running
    bool corrupt = false;
    std::size_t tasks_left = 0;
    std::string tasks_left_names;  // their names, for the report
    std::string error;
    std::string failed;
    std::vector<std::string> resource_names;  // clean run: the resource calls, in order
};

inline Outcome run_scenario(const Body& body, Mode mode, int fail_at, unsigned long io_limit = 0) {
    Outcome out;
    state = State{};
    state.mode = mode;
    state.fail_at = fail_at;
    state.owner = std::this_thread::get_id();
    auto loop = new_event_loop();
    // Failures on a server's side are reported to the handler (as asyncio's
    // "Unhandled exception in client_connected_cb"): expected here.
    loop->set_exception_handler([](EventLoop&, const ExceptionContext&) {});
    detail::sys::fault_hook = &hook;
    detail::sys::io_limit = io_limit;
    alloc_fault = AllocFault{};
    Task<void> task;
    auto classify = [&out] {
        try {
            throw;
        } catch (const TimeoutError&) {
            out.timed_out = true;
        } catch (const std::exception& e) {
            out.error = e.what();
        } catch (...) {
            out.unclean = true;
            out.error = "not a std::exception";
        }
    };
    try {
        // Allocations are counted from the loop's first iteration on: making
        // the scenario's coroutine and its time bound are the test's own.
        task = loop->create_task(wait_for(body(out.corrupt), kLoopbackTimeout));
        alloc_fault.counting = true;
        alloc_fault.fail_at = mode == Mode::enomem ? fail_at : 0;
        loop->run_until_complete(task);
        alloc_fault.counting = false;
        out.completed = true;
    } catch (...) {
        alloc_fault.counting = false;  // what follows allocates
        classify();
    }
    // A bad_alloc out of the loop's own machinery (the poller) ends
    // run_until_complete with the scenario still running: it is an error the
    // run reports, and the loop must still be usable. The scenario is run on
    // to its end then, within its bound.
    if (task && !task.done()) {
        out.loop_raised = true;
        try {
            loop->run_until_complete(task);
        } catch (...) {
            if (out.error.empty()) classify();
        }
    }
    out.allocations = alloc_fault.count;
    // What the scenario left behind gets a moment to finish (a server's
    // handler seeing the EOF of a client that failed), as loop.close() would.
    try {
        for (int i = 0; i < 3 && !all_tasks(*loop).empty(); ++i) loop->run_until_complete(sleep(0.001));
    } catch (...) {}
    detail::sys::fault_hook = nullptr;
    detail::sys::io_limit = 0;
    for (auto& t : all_tasks(*loop)) {
        ++out.tasks_left;
        out.tasks_left_names += (out.tasks_left_names.empty() ? "" : ", ") + t.get_name();
    }
    out.seam_calls = state.calls;
    out.resource_calls = state.resource_calls;
    out.failed = state.failed;
    out.resource_names = state.resource_names;
    cancel_all_tasks(*loop);
    loop->run_until_complete(shutdown_default_executor(*loop));
    loop->close();
    return out;
}

inline bool full_sweep() {
    const char* e = std::getenv("TULIP_SWEEP_FULL");
    return e && *e && std::strcmp(e, "0") != 0;
}

inline bool enomem_runs() {
#if defined(__SANITIZE_THREAD__)
    return false;
#elif defined(__SANITIZE_ADDRESS__)
    return true;  // sampled (kEnomemSample runs a scenario) unless full
#else
    return true;
#endif
}
// The k of a sweep of n that run: all of them in a full sweep, otherwise every
// k up to 50, then every 7th, and the last.
inline bool sampled(int k, int n) { return full_sweep() || k <= 50 || k % 7 == 0 || k == n; }

// A bad_alloc in a noexcept path ends the child in std::terminate: say where.
[[noreturn]] inline void terminate_with_backtrace() {
    alloc_fault.counting = false;
    const char msg[] = "std::terminate called; backtrace (addr2line -Cfpe <binary> <offsets>):\n";
    [[maybe_unused]] auto w = ::write(2, msg, sizeof msg - 1);
    print_backtrace();
    ::_exit(3);
}

// One enomem run, in a forked child: "" if it kept the rules, otherwise why
// (with the child's stderr: a terminate's backtrace).
inline std::string run_forked_enomem(const Body& body, long k) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return "pipe2 failed";
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(p[0]);
        ::close(p[1]);
        return "fork failed";
    }
    if (pid == 0) {
        ::dup2(p[1], 2);
        std::set_terminate(terminate_with_backtrace);
        std::size_t fds = open_fd_count();
        Outcome o = run_scenario(body, Mode::enomem, static_cast<int>(k));
        std::string why;
        if (o.timed_out) why += "hung; ";
        if (o.unclean) why += "ended in an exception not derived from std::exception; ";
        if (o.corrupt) why += "wrong data; ";
        if (open_fd_count() != fds) why += "fd leak; ";
        if (o.tasks_left != 0)
            why += std::to_string(o.tasks_left) + " task(s) left pending (" + o.tasks_left_names + "); ";
#if defined(__SANITIZE_ADDRESS__)
        // Memory the failed run lost (LeakSanitizer prints what and where).
        if (__lsan_do_recoverable_leak_check() != 0) why += "memory leak; ";
#endif
        if (!why.empty() || std::getenv("TULIP_SWEEP_ENOMEM_TRACE"))
            why += "(" + (o.completed ? std::string("completed") : o.error) + ")\n";
        [[maybe_unused]] auto w = ::write(2, why.data(), why.size());
        ::_exit(why.empty() || why[0] == '(' ? 0 : 1);
    }
    ::close(p[1]);
    std::string report;
    auto deadline = std::chrono::steady_clock::now() + kLoopbackTimeout + std::chrono::seconds(5);
    bool killed = false;
    for (;;) {
        pollfd pf{p[0], POLLIN, 0};
        int r = ::poll(&pf, 1, 100);
        if (r > 0) {
            char buf[4096];
            long n = ::read(p[0], buf, sizeof buf);
            if (n <= 0) break;
            if (report.size() < 16384) report.append(buf, static_cast<std::size_t>(n));
        } else if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            killed = true;
            break;
        }
    }
    ::close(p[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (std::getenv("TULIP_SWEEP_ENOMEM_TRACE")) std::printf("---- enomem %ld:\n%s", k, report.c_str());
    if (killed) return "hung (child killed); " + report;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status)) + "; " + report;
    return report.empty() ? "exit status " + std::to_string(WEXITSTATUS(status)) : report;
}

// CI's sample of the enomem sweep (each run forks): 8 values of k spread
// evenly over 1..m, the io_uring leg's halfway between the epoll leg's, so
// that the two legs try 16 different allocations of each scenario.
// TULIP_SWEEP_FULL=1 tries every k; TULIP_SWEEP_ENOMEM_K=k only that k (with
// TULIP_SWEEP_ENOMEM_TRACE=1: where it failed).
inline constexpr long kEnomemSample = 8;
inline bool sampled_enomem(long k, long m) {
    if (const char* only = std::getenv("TULIP_SWEEP_ENOMEM_K")) return k == std::atol(only);
    if (full_sweep() || m <= kEnomemSample) return true;
    const char* poller = std::getenv("TULIP_POLLER");
    long half = poller && std::strcmp(poller, "io_uring") == 0 ? 1 : 0;  // in halves of a step
    for (long i = 0; i < kEnomemSample; ++i)
        if (k == 1 + (2 * i + half) * m / (2 * kEnomemSample)) return true;
    return false;
}

struct Figures {
    int n = 0;               // seam calls of the clean run
    int resource_calls = 0;  // of which fd- or process-creating
    long allocations = 0;    // operator new calls of the clean run on the loop's thread
    int enomem_runs = 0;     // of the runs below
    int runs = 0;            // faulted runs
    int failures = 0;        // runs that broke a rule
};

class FailCountTest : public RealTimeLoopTest {
protected:
    // Checks one run's outcome; returns whether it kept the rules.
    bool check(const Outcome& o, std::size_t fds, Mode mode, int k, int n, bool must_complete) {
        std::string where = std::string(mode_name(mode)) + " " + std::to_string(k) + "/" + std::to_string(n) + " (" +
                            o.failed + "): " + (o.completed ? "completed" : o.error);
        bool ok = true;
        auto fail = [&](const char* what) {
            ok = false;
            ADD_FAILURE() << what << ", " << where;
        };
        if (o.timed_out) fail("hung");
        if (o.unclean) fail("ended in an exception not derived from std::exception");
        if (o.corrupt) fail("wrong data");
        if (open_fd_count() != fds) fail("fd leak");
        if (o.tasks_left != 0) fail(("tasks left pending: " + o.tasks_left_names).c_str());
        if (must_complete && !o.completed) fail("did not complete");
        return ok;
    }

    Figures sweep(const Scenario& s) {
        expect_handler_calls = true;
        Figures f;
        std::size_t fds = open_fd_count();
        Outcome clean = run_scenario(s.body, Mode::clean, 0);
        EXPECT_TRUE(clean.completed) << "the scenario fails with no fault injected: " << clean.error;
        EXPECT_FALSE(clean.corrupt);
        EXPECT_EQ(clean.tasks_left, 0u);
        EXPECT_EQ(open_fd_count(), fds);
        f.n = clean.seam_calls;
        f.resource_calls = clean.resource_calls;
        f.allocations = clean.allocations;
        EXPECT_GT(f.n, 0) << "the scenario makes no call through the seam";
        if (::testing::Test::HasFailure()) return f;
        using clock = std::chrono::steady_clock;
        auto ms_since = [](clock::time_point t) {
            return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t).count());
        };
        auto t0 = clock::now();
        auto tally = [&](const Outcome& o, Mode m, int k, int n, bool must_complete) {
            ++f.runs;
            if (!check(o, fds, m, k, n, must_complete)) ++f.failures;
        };
        for (int k = 1; k <= f.n; ++k) {
            if (!sampled(k, f.n)) continue;
            Outcome o = run_scenario(s.body, Mode::fail_kth, k);
            tally(o, Mode::fail_kth, k, f.n, o.failed == "epoll_wait");
        }
        long ms_fail_kth = ms_since(t0);
        t0 = clock::now();
        bool accept_failed = false;
        for (int k = 1; k <= f.resource_calls; ++k) {
            if (!sampled(k, f.resource_calls)) continue;
            if (clean.resource_names[static_cast<std::size_t>(k - 1)] == "accept4") {
                if (!s.accept_emfile || !full_sweep() || accept_failed) continue;
                accept_failed = true;
            }
            tally(run_scenario(s.body, Mode::resources, k), Mode::resources, k, f.resource_calls, false);
        }
        long ms_resources = ms_since(t0);
        t0 = clock::now();
        if (s.short_io_limit != 0)
            tally(run_scenario(s.body, Mode::short_io, 0, s.short_io_limit), Mode::short_io, 0, 0, true);
        if (s.eagain) tally(run_scenario(s.body, Mode::eagain, 0), Mode::eagain, 0, 0, true);
        if (s.eintr) tally(run_scenario(s.body, Mode::eintr, 0), Mode::eintr, 0, 0, true);
        long ms_modes = ms_since(t0);
        t0 = clock::now();
        if (enomem_runs() && alloc_hook_installed && s.enomem) {
            int terminated = 0;
            for (long k = 1; k <= f.allocations; ++k) {
                if (!sampled_enomem(k, f.allocations)) continue;
                ++f.runs;
                ++f.enomem_runs;
                std::string why = run_forked_enomem(s.body, k);
                if (why.empty()) continue;
                ++f.failures;
                // One report per kind of failure is enough to read.
                if (why.find("terminate") != std::string::npos && terminated++ > 2) continue;
                ADD_FAILURE() << "enomem " << k << "/" << f.allocations << ": " << why;
            }
        }
        long ms_enomem = ms_since(t0);
        RecordProperty("seam_calls", f.n);
        RecordProperty("faulted_runs", f.runs);
        std::printf(
            "[ sweep    ] %s: n=%d (resource calls %d), allocations %ld, %d faulted runs (%d enomem), %d failures; "
            "ms: fail_kth %ld, resources %ld, short/eagain/eintr %ld, enomem %ld\n",
            ::testing::UnitTest::GetInstance()->current_test_info()->name(), f.n, f.resource_calls, f.allocations,
            f.runs, f.enomem_runs, f.failures, ms_fail_kth, ms_resources, ms_modes, ms_enomem);
        return f;
    }
};

}  // namespace tulip::test::fail_count

// Installs the allocator hook in a test binary: the global operator new
// (scalar and array; the nothrow forms call them), counted on the thread that
// runs a scenario, in front of the one it replaces (see next_new). Once per
// binary, at global scope.
#define TULIP_FAIL_COUNT_ALLOC_HOOK()                                                                 \
    void* operator new(std::size_t n) { return ::tulip::test::fail_count::counted_alloc(n, false); }  \
    void* operator new[](std::size_t n) { return ::tulip::test::fail_count::counted_alloc(n, true); } \
    [[maybe_unused]] static const bool tulip_fail_count_alloc_hook_installed_ =                       \
        (::tulip::test::fail_count::alloc_hook_installed = true)
