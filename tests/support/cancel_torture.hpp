// tests/support/cancel_torture.hpp — the cancellation torture harness (the
// reliability program's part 5): cancel an operation at every suspension
// point it has, and check what the cancellation left behind.
//
// A scenario is a Case type, default-constructible, holding its own state
// (a Lock, a Queue, a socket pair, counters). torture<C>(loop, name):
//
//   1. runs a fresh C once uncancelled: prepare() to its end, start(), then
//      the victim() coroutine as a task, one loop iteration at a time,
//      counting the iterations K it takes to finish (capped at kMaxK);
//   2. for each k in 0..K: a fresh C, the victim stepped k iterations, then
//      cancelled (k = 0: before it ever ran; k = K: after it finished, a
//      no-op), run to its end;
//   3. after every run: settle() (the helpers end, the resources close),
//      the scenario's check(), and the harness's own checks — the victim
//      ended the way a cancel at that point must end it (CancelledError if the
//      cancel came while it was pending, its normal end otherwise), no task
//      is left on the loop, no file descriptor is left open and, on virtual
//      time, the loop is idle: no callback ready and no live timer (a
//      sentinel timer far ahead runs in the very next iteration).
//
// Each k is run twice: one cancel() at k, then a cancel() at k and another
// at k+1 (a task cancelled again while it unwinds): 1 + 2 (K + 1) runs per
// scenario. Every cancel() carries the message kCancelMessage.
//
// A lost wake-up fails the run instead of hanging it: every wait is bounded
// (a watchdog timer on the victim's run, wait_for on settle()).
//
// The harness steps the loop from outside with run_once(), making it the
// running loop for each step (see AsRunning). TULIP_TORTURE_TRACE=1 prints
// the loop's clock after each iteration.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <tulip/loop/loop_access.hpp>
#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace tulip::test::torture {

// At most this many suspension points are tried per scenario.
inline constexpr int kMaxK = 64;

enum class Ending { completed, cancelled, failed };

// How one run went, for Case::check().
struct RunInfo {
    int k = -1;               // the iteration the cancel came at; -1: the uncancelled run
    bool cancel_hit = false;  // the victim was still pending when it was cancelled
    Ending ending = Ending::completed;
    std::string error;           // the failure, when ending == failed
    std::string cancel_message;  // the CancelledError's message, when ending == cancelled
    bool cancelled() const noexcept { return ending == Ending::cancelled; }
    bool completed() const noexcept { return ending == Ending::completed; }
};

// One scenario's state and steps; a fresh object per run.
struct Case {
    virtual ~Case() = default;
    // Runs to its end before the victim starts (connect sockets, spawn a child).
    virtual Coro<void> prepare() { co_return; }
    // Called right before the victim's task is created (start helper tasks here).
    virtual void start() {}
    // The operation under test, run as a task and cancelled at iteration k.
    virtual Coro<void> victim() = 0;
    // After the victim ended: let the helpers finish and close what was opened.
    virtual Coro<void> settle() { co_return; }
    // The scenario's invariants, once everything has ended.
    virtual void check(const RunInfo& info) = 0;
    // The victim may end normally even when a cancel hits it (it swallows the
    // cancellation, or the awaitable may finish first, as gather() with a
    // failing child); the harness then does not insist on CancelledError.
    virtual bool may_absorb_cancel() const { return false; }
};

struct Options {
    // Virtual time: the idle check runs, and the watchdog is far ahead.
    bool virtual_time = true;
    // Bound on a run and on settle(): virtual or real seconds.
    double horizon = 1000.0;
};

// Sockets, pipes and children need the real clock; 5 s of it bounds a run.
inline Options real_time() {
    Options o;
    o.virtual_time = false;
    o.horizon = 5.0;
    return o;
}

struct Stats {
    int K = 0;     // iterations the uncancelled run took (capped at kMaxK)
    int runs = 0;  // runs made: the uncancelled one plus two per k
};

// Every run made by torture() in this process, for the report.
inline int& total_runs() {
    static int n = 0;
    return n;
}

namespace detail_torture {

// TULIP_TORTURE_TRACE=1 prints the loop's clock after each iteration of a
// victim's run: where its suspension points fall.
inline bool trace() {
    static const bool on = std::getenv("TULIP_TORTURE_TRACE") != nullptr;
    return on;
}

// The harness steps the loop from outside (one run_once at a time), where
// run_forever would have made it the running loop: the coroutines it steps
// call create_task/get_running_loop, so it is made the running loop for
// each step.
struct AsRunning {
    explicit AsRunning(EventLoop& l) noexcept { tulip::detail::tls_running_loop = &l; }
    ~AsRunning() { tulip::detail::tls_running_loop = nullptr; }
    AsRunning(const AsRunning&) = delete;
    AsRunning& operator=(const AsRunning&) = delete;
};

inline void iterate(EventLoop& loop) {
    AsRunning running(loop);
    tulip::detail::LoopAccess::run_once(loop);
}

inline void drive(EventLoop& loop, const AnyTask& t, double horizon, int& iterations) {
    // Bounded: the watchdog ends a run that nothing else would wake.
    bool fired = false;
    auto watchdog = loop.call_later(horizon, [&fired] { fired = true; });
    while (!t.done() && !fired) {
        iterate(loop);
        ++iterations;
        if (trace()) std::printf("  iteration %d: t=%g\n", iterations, loop.time());
    }
    watchdog.cancel();
}

// The message every cancel() of the harness carries.
inline const std::string kCancelMessage = "cancel torture";

template <class C>
int run_one(EventLoop& loop, const std::string& name, int k, int cancels, const Options& opt) {
    SCOPED_TRACE(name + (k < 0 ? std::string(", uncancelled run")
                               : ", cancelled at iteration " + std::to_string(k) +
                                     (cancels > 1 ? " and at each of the next " + std::to_string(cancels - 1) : "")));
    const std::size_t fds_before = open_fd_count();
    auto c = std::make_unique<C>();
    loop.run_until_complete(wait_for(c->prepare(), Seconds(opt.horizon)));
    Task<void> victim;
    {
        AsRunning running(loop);
        c->start();
        victim = create_task(c->victim(), "torture victim");
    }

    RunInfo info;
    info.k = k;
    int iterations = 0;
    if (k >= 0) {
        bool fired = false;
        auto watchdog = loop.call_later(opt.horizon, [&fired] { fired = true; });
        while (iterations < k && !victim.done() && !fired) {
            iterate(loop);
            ++iterations;
        }
        info.cancel_hit = !victim.done();
        victim.cancel(kCancelMessage);
        // Cancelled again while it unwinds (asyncio counts each request).
        for (int i = 1; i < cancels && !victim.done() && !fired; ++i) {
            iterate(loop);
            ++iterations;
            victim.cancel(kCancelMessage);
        }
        watchdog.cancel();
    }
    drive(loop, victim, opt.horizon, iterations);
    EXPECT_TRUE(victim.done()) << "the victim did not finish: a lost wake-up?";

    if (!victim.done()) {
        info.ending = Ending::failed;
        info.error = "not done";
    } else if (victim.cancelled()) {
        info.ending = Ending::cancelled;
        std::string msg = "(none)";
        try {
            (void)victim.exception();
        } catch (const CancelledError& e) {
            msg = e.message();
        }
        info.cancel_message = msg;
    } else if (auto e = victim.exception()) {
        info.ending = Ending::failed;
        info.error = describe_exception(e);
    }
    if (k < 0) {
        EXPECT_TRUE(info.completed()) << "the uncancelled run did not complete: " << info.error;
    } else if (info.cancel_hit && !c->may_absorb_cancel()) {
        EXPECT_TRUE(info.cancelled()) << "a cancel while pending did not end the victim with CancelledError: "
                                      << (info.completed() ? std::string("it completed") : info.error);
    } else if (!info.cancel_hit) {
        EXPECT_TRUE(info.completed()) << "the victim did not complete: " << info.error;
    }

    // Let the helpers end; bounded, so that a lost wake-up fails rather than hangs.
    const double settle_start = loop.time();
    bool settled = false;
    try {
        loop.run_until_complete(wait_for(c->settle(), Seconds(opt.horizon)));
        settled = loop.time() - settle_start < opt.horizon;
    } catch (const TimeoutError&) {
    } catch (const std::exception& e) {
        ADD_FAILURE() << "settle() failed: " << e.what();
        settled = true;
    }
    if (!settled) ADD_FAILURE() << "settle() did not finish: a helper never woke (lost wake-up?)";
    c->check(info);

    auto left = all_tasks(loop);
    EXPECT_TRUE(left.empty()) << left.size() << " task(s) left on the loop, first: " << left.front().get_name();
    if (!left.empty()) {
        cancel_all_tasks(loop);
    }
    victim = Task<void>();
    c.reset();

    if (opt.virtual_time) {
        // Idle: nothing ready and no live timer before a sentinel far ahead.
        bool fired = false;
        auto sentinel = loop.call_later(opt.horizon, [&fired] { fired = true; });
        iterate(loop);
        EXPECT_TRUE(fired) << "the loop was not idle after the run: a callback or a timer was left behind";
        for (int i = 0; i < 1000 && !fired; ++i) iterate(loop);
        sentinel.cancel();
    } else {
        // Closing transports finishes in callbacks: give them a few iterations.
        for (int i = 0; i < 10 && open_fd_count() != fds_before; ++i) {
            loop.call_soon([] {});
            iterate(loop);
        }
    }
    EXPECT_EQ(open_fd_count(), fds_before) << "the run leaked file descriptors";
    ++total_runs();
    return iterations;
}

}  // namespace detail_torture

// Runs scenario C uncancelled, then cancelled at each iteration 0..K.
template <class C>
Stats torture(EventLoop& loop, const std::string& name, Options opt = {}) {
    Stats s;
    int K = detail_torture::run_one<C>(loop, name, -1, 1, opt);
    s.runs = 1;
    if (::testing::Test::HasFailure()) return s;
    s.K = K > kMaxK ? kMaxK : K;
    // Each k twice: one cancel, then a cancel at k and at the next iteration too.
    for (int cancels = 1; cancels <= 2; ++cancels) {
        for (int k = 0; k <= s.K; ++k) {
            detail_torture::run_one<C>(loop, name, k, cancels, opt);
            ++s.runs;
            if (::testing::Test::HasFailure()) break;  // one report per scenario, not K of them
        }
    }
    std::printf("[torture] %-40s K=%-3d runs=%d\n", name.c_str(), s.K, s.runs);
    return s;
}

// Awaits a helper task whatever its end (a failure, a cancellation), for
// Case::settle(). Only a cancellation of the task awaiting it propagates:
// that is the harness's bound on settle() expiring.
template <class T>
Coro<void> settle_task(Task<T> t) {
    std::exception_ptr cancelled;
    try {
        co_await t;
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    } catch (...) {}
    if (cancelled && current_task().cancelling() > 0) std::rethrow_exception(cancelled);
}

// Waits (for real, at most ~5 s) until no work the loop started on another
// thread (to_thread, run_in_executor) is still to post back, for settle().
inline Coro<void> thread_work_done() {
    EventLoop& loop = get_running_loop();
    for (int i = 0; i < 5000 && tulip::detail::LoopAccess::external_pending(loop).load() > 0; ++i)
        co_await sleep(0.001);  // on virtual time the loop waits for the thread for real
}

// True if acquiring p now would not wait (and leaves p as it was): the
// primitive is free and no stale waiter is queued in front.
template <class P>
bool acquire_would_not_wait(P& p) {
    auto a = p.acquire();
    if (!a.await_ready()) return false;
    auto held = a.await_resume();  // the guard gives it back
    return true;
}

}  // namespace tulip::test::torture
