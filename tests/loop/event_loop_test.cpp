// Tests of EventLoop's scheduling core: call_soon / call_later / call_at,
// handles, run_forever / stop / close, the exception handler and debug mode.
// Ported from the behaviour checked by CPython's test_asyncio/test_base_events.py
// and test_events.py, plus tulip's own promise that equal deadlines keep FIFO order.
#include <tulip/loop/event_loop.hpp>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/loop_test.hpp"

namespace loop_event_loop_test {

using namespace tulip;
using namespace std::chrono_literals;

namespace {

class EventLoopTest : public test::LoopTest {
protected:
    // Runs the loop until `seconds` have passed on its clock: every timer due
    // before then (and at that very deadline, if scheduled earlier) runs.
    void advance(double seconds) {
        loop().call_later(seconds, [this] { loop().stop(); });
        loop().run_forever();
    }
    // Runs until everything scheduled so far has run once (one iteration).
    void run_one_iteration_via_stop() {
        loop().stop();
        loop().run_forever();
    }
    bool logged(const std::string& needle) const {
        for (auto& l : logs)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
};

class EventLoopRealTimeTest : public test::RealTimeLoopTest {};

// An exception type that remembers where it was constructed: `&e == e.self`
// holds only for the very object thrown, not for a copy of it.
struct Tagged : std::runtime_error {
    explicit Tagged(const std::string& m) : std::runtime_error(m), self(this) {}
    const Tagged* self;
};

}  // namespace

// ---- ordering -----------------------------------------------------------------

TEST_F(EventLoopTest, CallSoonRunsCallbacksInTheOrderTheyWereScheduled) {
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) loop().call_soon([&order, i] { order.push_back(i); });
    run_one_iteration_via_stop();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(EventLoopTest, AnIterationRunsOnlyTheCallbacksReadyWhenItBegan) {
    std::vector<std::string> order;
    loop().call_soon([&] {
        order.push_back("a");
        loop().call_soon([&] {
            order.push_back("c");
            loop().call_soon([&] { order.push_back("d"); });
        });
    });
    loop().call_soon([&] { order.push_back("b"); });

    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(EventLoopTest, ThousandsOfCallSoonCallbacksRunInOrderInOneIteration) {
    constexpr int kCount = 5000;
    std::vector<int> order;
    order.reserve(kCount);
    for (int i = 0; i < kCount; ++i) loop().call_soon([&order, i] { order.push_back(i); });
    run_once();
    ASSERT_EQ(order.size(), static_cast<std::size_t>(kCount));
    for (int i = 0; i < kCount; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i) << "at position " << i;
}

TEST_F(EventLoopTest, TimersWithEqualDeadlinesRunInSchedulingOrder) {
    // asyncio's heap does not promise this; tulip orders by (deadline, sequence).
    constexpr int kCount = 2000;
    std::vector<int> order;
    order.reserve(kCount);
    for (int i = 0; i < kCount; ++i) {
        if (i % 2)
            loop().call_at(7.0, [&order, i] { order.push_back(i); });
        else
            loop().call_later(7.0, [&order, i] { order.push_back(i); });
    }
    advance(8.0);
    ASSERT_EQ(order.size(), static_cast<std::size_t>(kCount));
    for (int i = 0; i < kCount; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i) << "at position " << i;
}

TEST_F(EventLoopTest, EqualDeadlinesKeepTheirOrderWhenOtherTimersAreCancelled) {
    // Cancellation removes entries from the middle of the heap; the survivors
    // must still come out in scheduling order.
    constexpr int kCount = 1500;
    std::vector<int> order;
    std::vector<TimerHandle> handles;
    for (int i = 0; i < kCount; ++i) {
        handles.push_back(loop().call_later(5.0, [&order, i] { order.push_back(i); }));
        // Interleave earlier and later timers so the heap is not trivially sorted.
        loop().call_later(i % 2 ? 1.0 : 9.0, [] {});
    }
    std::vector<int> expected;
    for (int i = 0; i < kCount; ++i) {
        if (i % 3 == 0)
            handles[static_cast<std::size_t>(i)].cancel();
        else
            expected.push_back(i);
    }
    advance(10.0);
    EXPECT_EQ(order, expected);
}

TEST_F(EventLoopTest, WhenMostTimersAreCancelledTheRestStillRunInDeadlineOrder) {
    // A cancelled call_later stays in the heap until it reaches the front or
    // the cancelled are over half of it (asyncio's sweep); the sweep rebuilds
    // the heap, whose order the survivors show. Captures go at cancel().
    constexpr int kCount = 1000;
    std::vector<std::pair<int, double>> ran;
    std::vector<TimerHandle> handles;
    auto token = std::make_shared<int>(0);
    for (int i = 0; i < kCount; ++i) {
        double delay = 1.0 + static_cast<double>((i * 7919) % kCount) * 0.001;  // distinct, scrambled
        handles.push_back(loop().call_later(delay, [&, i, token] { ran.emplace_back(i, loop().time()); }));
    }
    std::vector<int> expected;  // survivors, by deadline
    for (int i = 0; i < kCount; ++i) {
        if (i % 5 == 0)
            expected.push_back(i);
        else
            handles[static_cast<std::size_t>(i)].cancel();
    }
    EXPECT_EQ(token.use_count(), 1 + kCount / 5);  // the cancelled ones' captures are gone already
    std::sort(expected.begin(), expected.end(), [](int a, int b) { return (a * 7919) % kCount < (b * 7919) % kCount; });
    // More timers after the sweep point, and a cancel of an already swept one.
    run_one_iteration_via_stop();
    handles[1].cancel();
    EXPECT_TRUE(handles[1].cancelled());
    advance(3.0);
    ASSERT_EQ(ran.size(), expected.size());
    for (std::size_t k = 0; k < ran.size(); ++k) {
        EXPECT_EQ(ran[k].first, expected[k]) << "at position " << k;
        if (k) {
            EXPECT_GT(ran[k].second, ran[k - 1].second);
        }
    }
    EXPECT_DOUBLE_EQ(handles[0].when(), 1.0);      // a handle keeps its node (and deadline) past the run
    EXPECT_EQ(token.use_count(), 1 + kCount / 5);  // and, as asyncio's, the callback
    handles.clear();
    EXPECT_EQ(token.use_count(), 1);
}

TEST_F(EventLoopTest, ACancelledTimerAtTheFrontDoesNotHoldBackTheNextOne) {
    double fired_at = -1;
    TimerHandle early = loop().call_later(1.0, [] { ADD_FAILURE() << "a cancelled timer ran"; });
    loop().call_later(2.0, [&] { fired_at = loop().time(); });
    early.cancel();
    advance(5.0);
    EXPECT_DOUBLE_EQ(fired_at, 2.0);
}

TEST_F(EventLoopTest, TimersRunInDeadlineOrderWhateverTheSchedulingOrder) {
    std::vector<std::pair<int, double>> seen;
    for (int d : {3, 1, 2, 5, 4})
        loop().call_later(static_cast<double>(d), [&, d] { seen.emplace_back(d, loop().time()); });
    advance(10.0);
    ASSERT_EQ(seen.size(), 5u);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(seen[static_cast<std::size_t>(i)].first, i + 1);
        EXPECT_DOUBLE_EQ(seen[static_cast<std::size_t>(i)].second, i + 1.0);
    }
}

TEST_F(EventLoopTest, NegativeDelaysRunInDeadlineOrder) {
    // CPython test_call_later_negative_delays: -2 is earlier than -1.
    std::vector<int> order;
    loop().call_later(-1.0, [&] { order.push_back(1); });
    loop().call_later(-2.0, [&] { order.push_back(2); });
    run_once();
    EXPECT_EQ(order, (std::vector<int>{2, 1}));
}

TEST_F(EventLoopTest, DueTimersRunAfterTheCallbacksAlreadyReady) {
    std::vector<std::string> order;
    loop().call_soon([&] { order.push_back("soon-1"); });
    loop().call_later(0.0, [&] { order.push_back("timer"); });
    loop().call_soon([&] { order.push_back("soon-2"); });
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"soon-1", "soon-2", "timer"}));
}

TEST_F(EventLoopTest, ATimerScheduledByACallbackRunsInALaterIterationEvenWithZeroDelay) {
    std::vector<std::string> order;
    loop().call_soon([&] {
        order.push_back("first");
        loop().call_later(0.0, [&] { order.push_back("timer"); });
    });
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"first"}));
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"first", "timer"}));
}

TEST_F(EventLoopTest, CallLaterRunsAfterItsDelayOnTheLoopClock) {
    std::optional<double> ran_at;
    TimerHandle h = loop().call_later(2.5, [&] { ran_at = loop().time(); });
    EXPECT_TRUE(static_cast<bool>(h));
    EXPECT_DOUBLE_EQ(h.when(), 2.5);
    advance(2.0);
    EXPECT_FALSE(ran_at.has_value()) << "the timer ran before its deadline";
    advance(1.0);
    ASSERT_TRUE(ran_at.has_value());
    EXPECT_DOUBLE_EQ(*ran_at, 2.5);
}

TEST_F(EventLoopTest, CallLaterAcceptsAChronoDuration) {
    std::optional<double> ran_at;
    auto h = loop().call_later(1500ms, [&] { ran_at = loop().time(); });
    EXPECT_DOUBLE_EQ(h.when(), 1.5);
    advance(2.0);
    ASSERT_TRUE(ran_at.has_value());
    EXPECT_DOUBLE_EQ(*ran_at, 1.5);
}

TEST_F(EventLoopTest, CallAtRunsAtTheAbsoluteTimeGiven) {
    // CPython test_time_and_call_at.
    advance(1.0);
    double when = loop().time() + 0.25;
    std::optional<double> ran_at;
    TimerHandle h = loop().call_at(when, [&] { ran_at = loop().time(); });
    EXPECT_DOUBLE_EQ(h.when(), when);
    advance(1.0);
    ASSERT_TRUE(ran_at.has_value());
    EXPECT_DOUBLE_EQ(*ran_at, when);
}

TEST_F(EventLoopTest, CallAtInThePastRunsInTheNextIteration) {
    advance(5.0);
    bool ran = false;
    loop().call_at(1.0, [&] { ran = true; });
    run_once();
    EXPECT_TRUE(ran);
    EXPECT_DOUBLE_EQ(loop().time(), 5.0);
}

TEST_F(EventLoopTest, CallbacksMayOwnMoveOnlyCaptures) {
    int seen = 0;
    loop().call_soon([&seen, p = std::make_unique<int>(41)] { seen = *p + 1; });
    loop().call_later(1.0, [&seen, p = std::make_unique<int>(100)] { seen += *p; });
    advance(2.0);
    EXPECT_EQ(seen, 142);
}

// ---- handles and cancellation -------------------------------------------------

TEST_F(EventLoopTest, ACancelledCallSoonCallbackDoesNotRun) {
    std::vector<int> order;
    loop().call_soon([&] { order.push_back(1); });
    Handle h = loop().call_soon([&] { order.push_back(2); });
    loop().call_soon([&] { order.push_back(3); });
    EXPECT_FALSE(h.cancelled());
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    h.cancel();  // a second cancel is harmless
    EXPECT_TRUE(h.cancelled());
    run_once();
    EXPECT_EQ(order, (std::vector<int>{1, 3}));
}

TEST_F(EventLoopTest, ACancelledTimerDoesNotRunAndOthersStillDo) {
    std::vector<int> order;
    TimerHandle h = loop().call_later(1.0, [&] { order.push_back(1); });
    loop().call_later(2.0, [&] { order.push_back(2); });
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    advance(3.0);
    EXPECT_EQ(order, (std::vector<int>{2}));
}

TEST_F(EventLoopTest, CancellingACallbackReleasesItsCapturesAtOnce) {
    auto token = std::make_shared<int>(0);
    Handle h = loop().call_soon([token] {});
    EXPECT_EQ(token.use_count(), 2);
    h.cancel();
    EXPECT_EQ(token.use_count(), 1) << "cancel() must drop the callback's captures without waiting for the loop";
    run_one_iteration_via_stop();
    EXPECT_EQ(token.use_count(), 1);
}

TEST_F(EventLoopTest, CancellingATimerReleasesItsCapturesAtOnce) {
    auto token = std::make_shared<int>(0);
    TimerHandle h = loop().call_later(3600.0, [token] {});
    EXPECT_EQ(token.use_count(), 2);
    h.cancel();
    EXPECT_EQ(token.use_count(), 1);
    // The cancelled timer no longer holds the clock back: nothing is left to wait for.
    bool ran = false;
    loop().call_later(1.0, [&] { ran = true; });
    advance(2.0);
    EXPECT_TRUE(ran);
    EXPECT_DOUBLE_EQ(loop().time(), 2.0);
}

TEST_F(EventLoopTest, ACallbackThatRanReleasesItsCapturesWhenNoHandleIsKept) {
    auto token = std::make_shared<int>(0);
    loop().call_soon([token] {});
    loop().call_later(1.0, [token] {});
    EXPECT_EQ(token.use_count(), 3);
    advance(2.0);
    EXPECT_EQ(token.use_count(), 1);
}

TEST_F(EventLoopTest, ACallbackCanCancelOneScheduledAfterItInTheSameIteration) {
    std::vector<std::string> order;
    Handle later_soon;
    TimerHandle later_timer;
    loop().call_soon([&] {
        order.push_back("canceller");
        later_soon.cancel();
        later_timer.cancel();
    });
    later_soon = loop().call_soon([&] { order.push_back("soon"); });
    later_timer = loop().call_later(0.0, [&] { order.push_back("timer"); });
    loop().call_soon([&] { order.push_back("last"); });
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"canceller", "last"}));
    EXPECT_TRUE(later_soon.cancelled());
    EXPECT_TRUE(later_timer.cancelled());
}

TEST_F(EventLoopTest, ACallbackCanCancelItsOwnHandleWhileRunning) {
    // The callable must stay alive until it returns (ASan checks the captures).
    auto self = std::make_shared<Handle>();
    std::string seen;
    *self = loop().call_soon([&seen, self_weak = std::weak_ptr<Handle>(self), text = std::string(64, 'x')] {
        if (auto s = self_weak.lock()) s->cancel();
        seen = text;  // uses a capture after cancelling
    });
    run_once();
    EXPECT_EQ(seen, std::string(64, 'x'));
    EXPECT_TRUE(self->cancelled());
}

TEST_F(EventLoopTest, ADefaultConstructedHandleIsEmptyAndCancelIsHarmless) {
    Handle h;
    TimerHandle t;
    EXPECT_FALSE(static_cast<bool>(h));
    EXPECT_FALSE(h.cancelled());
    h.cancel();
    t.cancel();
    EXPECT_FALSE(h.cancelled());
    EXPECT_DOUBLE_EQ(t.when(), 0.0);
}

TEST_F(EventLoopTest, CancellingAfterTheCallbackRanChangesNothing) {
    int runs = 0;
    Handle h = loop().call_soon([&] { ++runs; });
    run_once();
    h.cancel();
    run_one_iteration_via_stop();  // (a bare run_once with nothing scheduled would wait forever)
    EXPECT_EQ(runs, 1);
}

// ---- run_forever / stop / close -----------------------------------------------

TEST_F(EventLoopTest, StopInsideACallbackFinishesTheCurrentIteration) {
    std::vector<std::string> order;
    loop().call_soon([&] {
        order.push_back("stopper");
        loop().stop();
    });
    loop().call_soon([&] {
        order.push_back("same-iteration");
        loop().call_soon([&] { order.push_back("next-run"); });
    });
    loop().run_forever();
    EXPECT_EQ(order, (std::vector<std::string>{"stopper", "same-iteration"}));
    EXPECT_FALSE(loop().is_running());
    // What was scheduled during the stopped iteration runs on the next start.
    run_one_iteration_via_stop();
    EXPECT_EQ(order, (std::vector<std::string>{"stopper", "same-iteration", "next-run"}));
}

TEST_F(EventLoopTest, StopBeforeRunForeverRunsExactlyOneIteration) {
    std::vector<int> order;
    loop().call_soon([&] {
        order.push_back(1);
        loop().call_soon([&] { order.push_back(2); });
    });
    loop().stop();
    loop().run_forever();
    EXPECT_EQ(order, (std::vector<int>{1}));
    run_one_iteration_via_stop();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST_F(EventLoopTest, RunForeverCanBeStartedAgainAfterStopping) {
    int runs = 0;
    for (int i = 0; i < 3; ++i) {
        loop().call_soon([&] { ++runs; });
        advance(1.0);
    }
    EXPECT_EQ(runs, 3);
    EXPECT_DOUBLE_EQ(loop().time(), 3.0);
}

TEST_F(EventLoopTest, IsRunningIsTrueOnlyWhileTheLoopRuns) {
    EXPECT_FALSE(loop().is_running());
    std::optional<bool> inside;
    loop().call_soon([&] { inside = loop().is_running(); });
    run_one_iteration_via_stop();
    ASSERT_TRUE(inside.has_value());
    EXPECT_TRUE(*inside);
    EXPECT_FALSE(loop().is_running());
}

TEST_F(EventLoopTest, RunningTheLoopFromOneOfItsCallbacksIsAnError) {
    std::string forever_error, until_error;
    loop().call_soon([&] {
        try {
            loop().run_forever();
        } catch (const std::runtime_error& e) {
            forever_error = e.what();
        }
        auto f = loop().create_future<int>();
        try {
            loop().run_until_complete(f);
        } catch (const std::runtime_error& e) {
            until_error = e.what();
        }
    });
    run_one_iteration_via_stop();
    EXPECT_NE(forever_error.find("already running"), std::string::npos) << forever_error;
    EXPECT_NE(until_error.find("already running"), std::string::npos) << until_error;
    EXPECT_FALSE(loop().is_running());
}

TEST_F(EventLoopTest, RunUntilCompleteFromACallbackFailsBeforeCreatingATask) {
    // asyncio checks that the loop is not running before wrapping the coroutine.
    bool coroutine_ran = false;
    bool threw = false;
    auto body = [&]() -> Coro<void> {
        coroutine_ran = true;
        co_return;
    };
    loop().call_soon([&] {
        try {
            loop().run_until_complete(body());
        } catch (const std::runtime_error&) {
            threw = true;
        }
    });
    advance(1.0);
    EXPECT_TRUE(threw);
    EXPECT_TRUE(all_tasks(loop()).empty()) << "a failed run_until_complete left a Task behind";
    EXPECT_FALSE(coroutine_ran);
}

TEST_F(EventLoopTest, AFailedRunUntilCompleteLeavesNoStopCallbackOnItsFuture) {
    // asyncio removes its done callback in a `finally`: completing the future
    // later must not stop the loop.
    auto f = loop().create_future<int>();
    bool threw = false, later_ran = false;
    loop().call_soon([&] {
        try {
            loop().run_until_complete(f);
        } catch (const std::runtime_error&) {
            threw = true;
        }
    });
    loop().call_later(1.0, [f] { f.set_result(1); });
    loop().call_later(2.0, [&] { later_ran = true; });
    advance(3.0);
    EXPECT_TRUE(threw);
    EXPECT_TRUE(later_ran) << "the loop was stopped by a stale run_until_complete callback";
    EXPECT_DOUBLE_EQ(loop().time(), 3.0);
}

TEST_F(EventLoopTest, RunningAnotherLoopInsideACallbackIsAnError) {
    EventLoopOptions o;
    o.virtual_time = true;
    auto other = new_event_loop(o);
    std::string error;
    loop().call_soon([&] {
        other->call_soon([&] { other->stop(); });
        try {
            other->run_forever();
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
    });
    run_one_iteration_via_stop();
    EXPECT_NE(error.find("another loop is running"), std::string::npos) << error;
    EXPECT_FALSE(other->is_running());
    other->close();
}

TEST_F(EventLoopTest, ClosingARunningLoopIsAnErrorAndLeavesItUsable) {
    std::string error;
    loop().call_soon([&] {
        try {
            loop().close();
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
    });
    run_one_iteration_via_stop();
    EXPECT_NE(error.find("running"), std::string::npos) << error;
    EXPECT_FALSE(loop().is_closed());
    bool ran = false;
    loop().call_soon([&] { ran = true; });
    run_one_iteration_via_stop();
    EXPECT_TRUE(ran);
}

TEST_F(EventLoopTest, AClosedLoopRefusesNewWork) {
    EXPECT_FALSE(loop().is_closed());
    loop().close();
    EXPECT_TRUE(loop().is_closed());
    loop().close();  // closing twice is allowed, as in asyncio
    EXPECT_TRUE(loop().is_closed());

    auto expect_closed_error = [](auto&& action, const char* what) {
        try {
            action();
            ADD_FAILURE() << what << " did not throw on a closed loop";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("closed"), std::string::npos) << what << ": " << e.what();
        }
    };
    expect_closed_error([&] { loop().call_soon([] {}); }, "call_soon");
    expect_closed_error([&] { loop().call_later(1.0, [] {}); }, "call_later");
    expect_closed_error([&] { loop().call_at(1.0, [] {}); }, "call_at");
    expect_closed_error([&] { loop().call_soon_threadsafe([] {}); }, "call_soon_threadsafe");
    expect_closed_error([&] { loop().run_forever(); }, "run_forever");
    expect_closed_error([&] { loop().run_until_complete([]() -> Coro<void> { co_return; }()); }, "run_until_complete");
    EXPECT_FALSE(loop().is_running());
}

TEST_F(EventLoopTest, ClosingDropsPendingCallbacksAndTimersAndTheirCaptures) {
    auto token = std::make_shared<int>(0);
    bool ran = false;
    loop().call_soon([token, &ran] { ran = true; });
    loop().call_later(1.0, [token, &ran] { ran = true; });
    loop().call_at(2.0, [token, &ran] { ran = true; });
    EXPECT_EQ(token.use_count(), 4);
    loop().close();
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_FALSE(ran);
}

TEST_F(EventLoopTest, GetRunningLoopFailsOutsideARunningLoop) {
    EXPECT_EQ(detail::running_loop(), nullptr);
    try {
        get_running_loop();
        ADD_FAILURE() << "get_running_loop() succeeded with no loop running";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no running event loop"), std::string::npos) << e.what();
    }
    EventLoop* inside = nullptr;
    loop().call_soon([&] { inside = &get_running_loop(); });
    run_one_iteration_via_stop();
    EXPECT_EQ(inside, &loop());
    EXPECT_THROW(get_running_loop(), std::runtime_error);
}

TEST_F(EventLoopTest, GetRunningLoopOnAnotherThreadSeesNoLoop) {
    bool other_thread_threw = false;
    loop().call_soon([&] {
        std::thread t([&] {
            try {
                get_running_loop();
            } catch (const std::runtime_error&) {
                other_thread_threw = true;
            }
        });
        t.join();
    });
    run_one_iteration_via_stop();
    EXPECT_TRUE(other_thread_threw);
}

// ---- run_until_complete ---------------------------------------------------------

TEST_F(EventLoopTest, RunUntilCompleteReturnsTheResultOfAFuture) {
    auto f = loop().create_future<int>();
    loop().call_later(3.0, [f] { f.set_result(42); });
    EXPECT_EQ(run(f), 42);
    EXPECT_DOUBLE_EQ(loop().time(), 3.0);
    EXPECT_FALSE(loop().is_running());
}

TEST_F(EventLoopTest, RunUntilCompleteRethrowsTheVeryExceptionStored) {
    auto f = loop().create_future<int>();
    loop().call_soon([f] {
        try {
            throw Tagged("kaput");
        } catch (const Tagged&) {
            f.set_exception(std::current_exception());
        }
    });
    try {
        run(f);
        ADD_FAILURE() << "run_until_complete did not rethrow";
    } catch (const Tagged& e) {
        EXPECT_EQ(&e, e.self) << "the exception was copied on its way";
        EXPECT_STREQ(e.what(), "kaput");
    }
}

TEST_F(EventLoopTest, RunUntilCompleteStoppedBeforeTheFutureIsDoneIsAnError) {
    // CPython test_run_until_complete_stopped.
    auto f = loop().create_future<int>();
    loop().call_soon([this] { loop().stop(); });
    try {
        run(f);
        ADD_FAILURE() << "run_until_complete returned with a pending future";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("stopped before Future completed"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(f.done());
    f.cancel();
}

TEST_F(EventLoopTest, RunUntilCompleteRejectsAFutureOfAnotherLoop) {
    // CPython test_run_until_complete_loop.
    EventLoopOptions o;
    o.virtual_time = true;
    auto other = new_event_loop(o);
    auto f = other->create_future<int>();
    EXPECT_THROW(run(f), std::invalid_argument);
    f.cancel();
    other->close();
}

// ---- exception handler ----------------------------------------------------------

TEST_F(EventLoopTest, AnExceptionInACallbackGoesToTheHandlerAndTheLoopGoesOn) {
    expect_handler_calls = true;
    bool next_ran = false;
    loop().call_soon([] { throw Tagged("callback failed"); });
    loop().call_soon([&] { next_ran = true; });
    run_one_iteration_via_stop();
    EXPECT_TRUE(next_ran) << "the callback after the failing one must still run";
    ASSERT_EQ(handler_calls.size(), 1u);
    const auto& ctx = handler_calls[0];
    EXPECT_EQ(ctx.message, "Exception in callback");
    ASSERT_TRUE(ctx.exception);
    try {
        std::rethrow_exception(ctx.exception);
    } catch (const Tagged& e) {
        EXPECT_STREQ(e.what(), "callback failed");
        EXPECT_EQ(&e, e.self) << "the handler got a copy, not the thrown object";
    }
    EXPECT_EQ(ctx.source, "callback");
    EXPECT_FALSE(loop().is_running());
}

TEST_F(EventLoopTest, AnExceptionInATimerGoesToTheHandlerAndLaterTimersStillRun) {
    expect_handler_calls = true;
    bool later_ran = false;
    loop().call_later(1.0, [] { throw std::logic_error("timer failed"); });
    loop().call_later(2.0, [&] { later_ran = true; });
    advance(3.0);
    EXPECT_TRUE(later_ran);
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(describe_exception(handler_calls[0].exception), "std::logic_error: timer failed");
}

TEST_F(EventLoopTest, TheHandlerReceivesTheLoopAndIsReplaceable) {
    EventLoop* got_loop = nullptr;
    std::vector<std::string> messages;
    loop().set_exception_handler([&](EventLoop& l, const ExceptionContext& ctx) {
        got_loop = &l;
        messages.push_back(ctx.message);
    });
    ASSERT_TRUE(static_cast<bool>(loop().get_exception_handler()));
    loop().call_soon([] { throw std::runtime_error("x"); });
    run_one_iteration_via_stop();
    EXPECT_EQ(got_loop, &loop());
    EXPECT_EQ(messages, (std::vector<std::string>{"Exception in callback"}));
    EXPECT_TRUE(handler_calls.empty()) << "the fixture's handler was replaced";
}

TEST_F(EventLoopTest, CallExceptionHandlerPassesTheContextThrough) {
    expect_handler_calls = true;
    auto err = std::make_exception_ptr(std::invalid_argument("bad"));
    loop().call_exception_handler(ExceptionContext{"something odd", err, "a test", "frame 1\n"});
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(handler_calls[0].message, "something odd");
    EXPECT_EQ(handler_calls[0].exception, err);
    EXPECT_EQ(handler_calls[0].source, "a test");
    EXPECT_EQ(handler_calls[0].traceback, "frame 1\n");
}

TEST_F(EventLoopTest, AThrowingExceptionHandlerIsLoggedAndTheLoopGoesOn) {
    // CPython test_set_exc_handler_broken.
    int handler_runs = 0;
    loop().set_exception_handler([&](EventLoop&, const ExceptionContext&) {
        ++handler_runs;
        throw std::runtime_error("handler is broken");
    });
    bool next_ran = false;
    loop().call_soon([] { throw std::runtime_error("original failure"); });
    loop().call_soon([&] { next_ran = true; });
    run_one_iteration_via_stop();
    EXPECT_EQ(handler_runs, 1);
    EXPECT_TRUE(next_ran);
    EXPECT_TRUE(logged("Unhandled error in exception handler")) << ::testing::PrintToString(logs);
    EXPECT_TRUE(logged("handler is broken")) << ::testing::PrintToString(logs);
    EXPECT_TRUE(logged("Exception in callback")) << "the original context is named";
}

TEST_F(EventLoopTest, WithoutAHandlerTheDefaultOneLogsTheFailure) {
    // CPython test_default_exc_handler_callback.
    loop().set_exception_handler(nullptr);
    EXPECT_FALSE(static_cast<bool>(loop().get_exception_handler()));
    loop().call_soon([] { throw std::invalid_argument("bad value"); });
    run_one_iteration_via_stop();
    ASSERT_EQ(logs.size(), 1u) << ::testing::PrintToString(logs);
    EXPECT_NE(logs[0].find("Exception in callback"), std::string::npos) << logs[0];
    EXPECT_NE(logs[0].find("std::invalid_argument: bad value"), std::string::npos) << logs[0];
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(EventLoopTest, ACustomHandlerCanDelegateToTheDefaultOne) {
    // CPython test_set_exc_handler_custom: a handler may call the default one.
    int custom_runs = 0;
    loop().set_exception_handler([&](EventLoop& l, const ExceptionContext& ctx) {
        ++custom_runs;
        l.default_exception_handler(ctx);
    });
    loop().call_exception_handler(ExceptionContext{"custom message", nullptr, "the source", "  at somewhere\n"});
    EXPECT_EQ(custom_runs, 1);
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_NE(logs[0].find("custom message"), std::string::npos) << logs[0];
    EXPECT_NE(logs[0].find("the source"), std::string::npos) << logs[0];
    EXPECT_NE(logs[0].find("at somewhere"), std::string::npos) << logs[0];
}

TEST_F(EventLoopTest, TheDefaultHandlerFillsInAMissingMessage) {
    loop().default_exception_handler(ExceptionContext{});
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_NE(logs[0].find("Unhandled exception in event loop"), std::string::npos) << logs[0];
}

// ---- debug mode -----------------------------------------------------------------

TEST_F(EventLoopTest, DebugModeLogsACallbackSlowerThanSlowCallbackDuration) {
    // CPython test_log_slow_callbacks. The callback sleeps for real: the
    // measurement uses the monotonic clock even on a virtual-time loop.
    loop().set_debug(true);
    EXPECT_TRUE(loop().get_debug());
    loop().slow_callback_duration = 0.01;
    loop().call_soon([] { std::this_thread::sleep_for(30ms); });
    run_one_iteration_via_stop();
    EXPECT_TRUE(logged("Executing callback took")) << ::testing::PrintToString(logs);
}

TEST_F(EventLoopTest, DebugModeDoesNotLogCallbacksFasterThanTheThreshold) {
    loop().set_debug(true);
    loop().slow_callback_duration = 60.0;
    int runs = 0;
    for (int i = 0; i < 10; ++i) loop().call_soon([&] { ++runs; });
    run_one_iteration_via_stop();
    EXPECT_EQ(runs, 10);
    EXPECT_FALSE(logged("Executing callback took")) << ::testing::PrintToString(logs);
}

TEST_F(EventLoopTest, SlowCallbacksAreNotLoggedOutsideDebugMode) {
    loop().set_debug(false);
    loop().slow_callback_duration = 0.0;
    loop().call_soon([] { std::this_thread::sleep_for(5ms); });
    run_one_iteration_via_stop();
    EXPECT_FALSE(logged("Executing callback took")) << ::testing::PrintToString(logs);
}

TEST_F(EventLoopTest, DebugModeComesFromTheOptionsOrTheEnvironment) {
    EXPECT_DOUBLE_EQ(loop().slow_callback_duration, 0.1);  // asyncio's default
    const char* saved = std::getenv("TULIP_DEBUG");
    std::optional<std::string> saved_value;
    if (saved) saved_value = saved;

    ::unsetenv("TULIP_DEBUG");
    EXPECT_FALSE(new_event_loop()->get_debug());
    EventLoopOptions o;
    o.debug = true;
    EXPECT_TRUE(new_event_loop(o)->get_debug());
    ::setenv("TULIP_DEBUG", "1", 1);
    EXPECT_TRUE(new_event_loop()->get_debug());
    ::setenv("TULIP_DEBUG", "0", 1);
    EXPECT_FALSE(new_event_loop()->get_debug());

    if (saved_value)
        ::setenv("TULIP_DEBUG", saved_value->c_str(), 1);
    else
        ::unsetenv("TULIP_DEBUG");
}

// ---- time -----------------------------------------------------------------------

TEST_F(EventLoopTest, TheVirtualClockStartsAtZeroAndJumpsStraightToTheNextTimer) {
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    bool ran = false;
    loop().call_later(3600.0, [&] { ran = true; });
    run_once();  // idle: one iteration jumps the clock and runs the timer
    EXPECT_TRUE(ran);
    EXPECT_DOUBLE_EQ(loop().time(), 3600.0);
}

TEST_F(EventLoopTest, TheVirtualClockStandsStillWhileCallbacksAreReady) {
    bool timer_ran = false;
    loop().call_later(5.0, [&] { timer_ran = true; });
    int hops = 0;
    // A chain of callbacks, each scheduling the next: the loop is never idle.
    std::function<void()> hop = [&] {
        if (++hops < 10) loop().call_soon(hop);
    };
    loop().call_soon(hop);
    for (int i = 0; i < 10; ++i) run_once();
    EXPECT_EQ(hops, 10);
    EXPECT_FALSE(timer_ran);
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    run_once();
    EXPECT_TRUE(timer_ran);
    EXPECT_DOUBLE_EQ(loop().time(), 5.0);
}

TEST_F(EventLoopRealTimeTest, TheRealClockIsMonotonicAndTimersNeverRunEarly) {
    double t0 = loop().time();
    EXPECT_GT(t0, 0.0);
    double prev = t0;
    for (int i = 0; i < 1000; ++i) {
        double t = loop().time();
        ASSERT_GE(t, prev);
        prev = t;
    }
    std::vector<std::pair<double, double>> runs;  // (when, time at run)
    std::vector<TimerHandle> handles(3);
    const double delays[] = {0.02, 0.001, 0.01};
    for (std::size_t i = 0; i < 3; ++i)
        handles[i] = loop().call_later(
            delays[i], [this, &runs, &handles, i] { runs.emplace_back(handles[i].when(), loop().time()); });
    loop().call_later(0.05, [this] { loop().stop(); });
    loop().run_forever();
    ASSERT_EQ(runs.size(), 3u);
    for (auto& [when, at] : runs) EXPECT_GE(at, when) << "a timer ran before its deadline";
    EXPECT_LT(runs[0].first, runs[1].first);
    EXPECT_LT(runs[1].first, runs[2].first);
    EXPECT_GE(loop().time(), t0 + 0.05);
}

}  // namespace loop_event_loop_test
