// tests/support/loop_test.hpp — the shared fixture and helpers of tulip's tests
// (CPython's test_utils.TestCase + run_briefly/run_once, uvloop's tearDown checks).
//
// LoopTest gives each test a fresh loop on virtual time (the clock jumps to
// the next timer when nothing else can happen, so timer tests take no wall
// time). TearDown fails the test if it left a pending task, an open fd, an
// extra thread, or an exception-handler call it did not expect.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

namespace tulip::test {

// Upper bound for waits on real I/O or threads; must never be reached.
inline constexpr std::chrono::seconds kLoopbackTimeout{10};

std::size_t open_fd_count();
std::size_t thread_count();

class LoopTest : public ::testing::Test {
protected:
    // Override to run on the real clock.
    virtual bool use_virtual_time() const { return true; }

    void SetUp() override;
    void TearDown() override;

    EventLoop& loop() { return *loop_; }

    // One loop iteration (CPython test_utils.run_once).
    void run_once();
    // Lets everything scheduled right now run (CPython test_utils.run_briefly).
    void run_briefly();
    // Runs the loop until pred() holds, at most `iterations` iterations; fails otherwise.
    template <class P>
    void run_until(P pred, int iterations = 100000) {
        for (int i = 0; i < iterations && !pred(); ++i) run_once();
        ASSERT_TRUE(pred()) << "condition not reached";
    }
    // One loop iteration; the no-op keeps an idle iteration from moving the clock.
    void step(int n = 1) {
        for (int i = 0; i < n; ++i) {
            loop().call_soon([] {});
            run_once();
        }
    }
    template <class A>
    decltype(auto) run(A&& awaitable) {
        return loop_->run_until_complete(std::forward<A>(awaitable));
    }

    // Exception-handler calls seen so far (each is "message: exception").
    std::vector<ExceptionContext> handler_calls;
    // Set when a test expects handler calls; TearDown then does not fail on them.
    bool expect_handler_calls = false;
    std::vector<std::string> logs;

    std::unique_ptr<EventLoop> loop_;

private:
    std::size_t fds_before_ = 0;
    std::size_t threads_before_ = 0;
};

// For tests whose tasks wait on each other: a lost wake-up must fail the
// test, not hang it. Far away in virtual time the loop stops, and
// run()/run_until() report the failure.
class WatchdogLoopTest : public LoopTest {
protected:
    void SetUp() override {
        LoopTest::SetUp();
        loop().call_later(kWatchdogSeconds, [this] { loop().stop(); });
    }
    static constexpr double kWatchdogSeconds = 86400.0;
};

class RealTimeLoopTest : public LoopTest {
protected:
    bool use_virtual_time() const override { return false; }
};

template <class T>
bool all_done(const std::vector<Task<T>>& tasks) {
    for (const auto& t : tasks)
        if (!t.done()) return false;
    return true;
}

// `await prim.acquire()` in asyncio (Lock, Semaphore, Condition): the
// primitive stays held after this returns.
template <class P>
Coro<bool> acquire_and_keep(P& p) {
    auto held = co_await p.acquire();
    held.detach();
    co_return true;
}
// The c1/c2/c3 coroutines of CPython's test_acquire: acquire, keep it, note who.
template <class P>
Coro<bool> acquire_keep_note(P& p, std::vector<int>* order, int id) {
    auto held = co_await p.acquire();
    held.detach();
    order->push_back(id);
    co_return true;
}

// Polls pred every millisecond until it holds (real-time tests; bounded by
// run_io's timeout).
template <class P>
Coro<void> eventually(P pred) {
    while (!pred()) co_await sleep(0.001);
}
// Closes a Server or a StreamWriter and waits until it is gone.
template <class C>
Coro<void> close_and_wait(C c) {
    c.close();
    co_await c.wait_closed();
}

// Real sockets on loopback: run_io(coro) runs a coroutine bounded by the
// loopback timeout. If it throws, the loop is shut down here, while the test's
// locals (which protocols point to) still exist, rather than in TearDown after
// them; the loop cannot be used afterwards.
class IoLoopTest : public RealTimeLoopTest {
protected:
    template <class A>
    decltype(auto) run_io(A&& a) {
        try {
            return run(wait_for(std::forward<A>(a), kLoopbackTimeout));
        } catch (...) {
            cancel_all_tasks(*loop_);
            loop_->run_until_complete(tulip::shutdown_default_executor(*loop_));
            loop_->close();
            throw;
        }
    }
};

}  // namespace tulip::test
