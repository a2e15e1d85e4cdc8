// Lifetime matrix: timer handles and signal handlers against their loop.
//
// Each case closes or destroys one of the two before, during or after the
// other's operation, and checks that nothing touches freed memory (ASan), the
// callback's captures are released (LSan and use counts), nothing hangs, and
// what can no longer succeed fails with a clear error.
#include <tulip/loop/event_loop.hpp>

#include <signal.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include <tulip/loop/loop_access.hpp>
#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace lifetime_loop_timers_test {

using namespace tulip;

namespace {

EventLoopOptions virtual_time() {
    EventLoopOptions o;
    o.virtual_time = true;
    return o;
}

bool disposition_is_default(int sig) {
    struct sigaction sa {};
    ::sigaction(sig, nullptr, &sa);
    return sa.sa_handler == SIG_DFL;
}

// Runs until pred() holds, bounded by the loopback timeout (signals are real).
template <class P>
void run_until(EventLoop& loop, P pred) {
    auto guard = loop.call_later(test::kLoopbackTimeout, [] {});
    for (int i = 0; i < 1000 && !pred(); ++i) tulip::detail::LoopAccess::run_once(loop);
    guard.cancel();
    ASSERT_TRUE(pred()) << "condition not reached";
}

}  // namespace

// ---- timer handle and loop -----------------------------------------------------------------

TEST(TimerHandleAndLoop, TimerHandleCancelledBeforeItRunsReleasesItsCallbackAtOnce) {
    EventLoop loop(virtual_time());
    auto held = std::make_shared<int>(1);
    bool ran = false;
    auto h = loop.call_later(1.0, [held, &ran] { ran = true; });
    EXPECT_EQ(held.use_count(), 2);
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(held.use_count(), 1);  // the captures go with the cancel, as in asyncio
    loop.call_later(2.0, [&] { loop.stop(); });
    loop.run_forever();
    EXPECT_FALSE(ran);
    loop.close();
}

TEST(TimerHandleAndLoop, TimerHandleCancelledByItsOwnCallbackKeepsTheCallbackAliveUntilItReturns) {
    EventLoop loop(virtual_time());
    auto held = std::make_shared<int>(7);
    TimerHandle h;
    int seen = 0;
    h = loop.call_later(1.0, [held, &h, &seen, &loop] {
        h.cancel();    // while running: the callable must stay
        seen = *held;  // ASan: the capture is still alive
        loop.stop();
    });
    loop.run_forever();
    EXPECT_EQ(seen, 7);
    EXPECT_TRUE(h.cancelled());
    loop.close();
    h = TimerHandle();
    EXPECT_EQ(held.use_count(), 1);
}

TEST(TimerHandleAndLoop, TimerHandleCancelledAfterItRanIsHarmless) {
    EventLoop loop(virtual_time());
    int runs = 0;
    auto h = loop.call_later(0.5, [&] {
        ++runs;
        loop.stop();
    });
    loop.run_forever();
    h.cancel();
    h.cancel();
    EXPECT_EQ(runs, 1);
    EXPECT_DOUBLE_EQ(h.when(), 0.5);
    loop.close();
}

TEST(TimerHandleAndLoop, TimerHandleCancelledByAnEarlierCallbackOfTheSameIterationDoesNotRun) {
    EventLoop loop(virtual_time());
    bool second_ran = false;
    TimerHandle second;
    loop.call_later(1.0, [&] { second.cancel(); });  // both are due in the same iteration
    second = loop.call_later(1.0, [&] { second_ran = true; });
    loop.call_later(2.0, [&] { loop.stop(); });
    loop.run_forever();
    EXPECT_FALSE(second_ran);
    EXPECT_TRUE(second.cancelled());
    loop.close();
}

TEST(TimerHandleAndLoop, TimerHandleKeptPastLoopCloseAndDestructionIsStillSafeToUse) {
    auto held = std::make_shared<int>(1);
    TimerHandle pending, never;
    {
        auto loop = new_event_loop(virtual_time());
        pending = loop->call_later(10.0, [held] {});
        never = loop->call_later(HUGE_VAL, [held] {});
        loop->close();
        EXPECT_EQ(held.use_count(), 1);  // close() released the callbacks
        EXPECT_TRUE(pending.cancelled());
    }  // the loop is gone; the handles only touch their own node
    pending.cancel();
    never.cancel();
    EXPECT_TRUE(pending.cancelled());
    EXPECT_TRUE(never.cancelled());
    EXPECT_DOUBLE_EQ(pending.when(), 10.0);
    EXPECT_TRUE(std::isinf(never.when()));
}

TEST(TimerHandleAndLoop, TimerHandleKeptPastALoopDestroyedWithoutCloseIsStillSafeToUse) {
    auto held = std::make_shared<int>(1);
    TimerHandle h;
    {
        EventLoop loop(virtual_time());
        h = loop.call_later(3.0, [held] {});
    }  // ~EventLoop closes
    EXPECT_EQ(held.use_count(), 1);
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_DOUBLE_EQ(h.when(), 3.0);
}

TEST(TimerHandleAndLoop, ACallbackRunningOnTheLoopCannotCloseItAndItsHandleOutlivesTheLoop) {
    Handle running;
    bool refused = false;
    {
        EventLoop loop(virtual_time());
        running = loop.call_soon([&] {
            try {
                loop.close();
            } catch (const std::runtime_error&) {
                refused = true;
            }
            running.cancel();  // its own handle, while it runs
            loop.stop();
        });
        loop.run_forever();
        EXPECT_FALSE(loop.is_closed());
        loop.close();
    }
    EXPECT_TRUE(refused);
    EXPECT_TRUE(running.cancelled());
    running.cancel();
}

TEST(TimerHandleAndLoop, ALoopClosedWithDueTimersAndSleepingTasksDropsThemAll) {
    auto held = std::make_shared<int>(1);
    std::vector<TimerHandle> hs;
    bool finished = false;
    {
        EventLoop loop(virtual_time());
        for (int i = 0; i < 5; ++i) hs.push_back(loop.call_later(0.1 * i, [held] {}));
        auto sleeper = [](std::shared_ptr<int> p, bool& done) -> Coro<void> {
            co_await sleep(HUGE_VAL);
            done = *p == 1;
        };
        auto t = loop.create_task(sleeper(held, finished));
        loop.call_soon([&] { loop.stop(); });
        loop.run_forever();  // the task sleeps (its timer is in the heap), timers pending
        loop.close();        // "Task was destroyed but it is pending" is logged
        EXPECT_TRUE(t.done());
    }
    EXPECT_FALSE(finished);
    // The timer due at 0 ran; like an asyncio Handle, it keeps its callback while
    // its handle lives. The four that never ran and the task's frame let go.
    EXPECT_EQ(held.use_count(), 2);
    for (auto& h : hs) EXPECT_EQ(h.cancelled(), &h != &hs.front());
    hs.clear();
    EXPECT_EQ(held.use_count(), 1);
}

TEST(TimerHandleAndLoop, ALoopClosedWithAFuturesDoneCallbackQueuedReleasesTheCallbackAndTheFuture) {
    auto held = std::make_shared<int>(1);
    bool ran = false;
    {
        EventLoop loop(virtual_time());
        auto fut = loop.create_future<int>();
        auto cb = fut.add_done_callback([held, &ran] { ran = true; });
        loop.call_soon([&] {
            fut.set_result(1);  // schedules the callback for the next iteration
            loop.stop();
        });
        loop.run_forever();
        loop.close();  // it never runs: released here (it leaked the node and the future)
        EXPECT_EQ(held.use_count(), 1);
        EXPECT_TRUE(cb.cancelled());
    }
    EXPECT_FALSE(ran);
}

// ---- signal handler and loop ---------------------------------------------------------------

TEST(SignalHandlerAndLoop, ALoopClosedWithASignalStillInItsPipeDropsItAndRestoresTheDisposition) {
    std::size_t fds = test::open_fd_count();
    auto held = std::make_shared<int>(1);
    int calls = 0;
    {
        EventLoop loop;
        loop.add_signal_handler(SIGUSR1, [held, &calls] { ++calls; });
        ::raise(SIGUSR1);  // written to the pipe; the loop never reads it
        loop.close();
        EXPECT_TRUE(disposition_is_default(SIGUSR1));
    }
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(held.use_count(), 1);
    EXPECT_EQ(test::open_fd_count(), fds);
}

TEST(SignalHandlerAndLoop, RemovingAHandlerWhileItsArrivalsAreQueuedDropsThemAndItsCaptures) {
    auto held = std::make_shared<int>(1);
    int calls = 0;
    EventLoop loop;
    loop.add_signal_handler(SIGUSR2, [held, &calls, &loop] {
        ++calls;
        EXPECT_EQ(*held, 1);  // alive while it runs, though removed below
        loop.remove_signal_handler(SIGUSR2);
        EXPECT_EQ(*held, 1);
    });
    loop.call_soon([] {
        ::raise(SIGUSR2);
        ::raise(SIGUSR2);
        ::raise(SIGUSR2);
    });
    run_until(loop, [&] { return calls > 0; });
    for (int i = 0; i < 3; ++i) {
        loop.call_soon([] {});
        tulip::detail::LoopAccess::run_once(loop);
    }
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(held.use_count(), 1);  // the queued arrivals released the handler
    EXPECT_TRUE(disposition_is_default(SIGUSR2));
    loop.close();
}

TEST(SignalHandlerAndLoop, ALoopDestroyedWhileHandlingSignalsLetsASecondLoopTakeThemOver) {
    {
        EventLoop first;
        first.add_signal_handler(SIGUSR1, [] {});
        first.add_signal_handler(SIGUSR2, [] {});
    }  // destroyed without close(): its destructor closes it and gives up the signals
    EXPECT_TRUE(disposition_is_default(SIGUSR1));
    EventLoop second;
    int calls = 0;
    second.add_signal_handler(SIGUSR1, [&] { ++calls; });
    second.call_soon([] { ::raise(SIGUSR1); });
    run_until(second, [&] { return calls == 1; });
    second.close();
    EXPECT_TRUE(disposition_is_default(SIGUSR1));
}

TEST(SignalHandlerAndLoop, ASecondLoopAddsHandlersAfterTheFirstClosedWithOnesStillInstalled) {
    auto first = new_event_loop();
    first->add_signal_handler(SIGUSR2, [] {});
    {
        EventLoop early;
        EXPECT_THROW(early.add_signal_handler(SIGUSR2, [] {}), std::runtime_error);  // first owns them
    }
    first->close();
    EventLoop second;
    int calls = 0;
    second.add_signal_handler(SIGUSR2, [&] { ++calls; });
    first.reset();  // destroying the closed first loop must not take the signals back
    EXPECT_FALSE(disposition_is_default(SIGUSR2));
    second.call_soon([] { ::raise(SIGUSR2); });
    run_until(second, [&] { return calls == 1; });
    EXPECT_TRUE(second.remove_signal_handler(SIGUSR2));
    second.close();
}

}  // namespace lifetime_loop_timers_test
