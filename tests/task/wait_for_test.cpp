// Tests of wait_for (asyncio.wait_for, 3.12 semantics), ported from CPython's
// Lib/test/test_asyncio/test_waitfor.py and the wait_for parts of test_tasks.py.
#include <tulip/task/wait_for.hpp>

#include <optional>
#include <stdexcept>
#include <string>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_wait_for_test {

using namespace tulip;
using test::times_out;
using test::value_after;

namespace {

class WaitFor : public test::LoopTest {};

// Sets *flag when it goes out of scope (Python's `finally: flag = ...`).
struct SetOnExit {
    bool* flag;
    bool value;
    ~SetOnExit() { *flag = value; }
};

// Sleeps 10 s; *running is true while it runs.
Coro<std::string> long_sleeper(bool* running) {
    *running = true;
    SetOnExit off{running, false};
    co_await sleep(10);
    co_return "done";
}

// On cancellation, takes `cleanup` seconds before re-raising.
Coro<void> slow_to_cancel(double cleanup, bool* done) {
    SetOnExit mark{done, true};
    bool cancelled = false;
    try {
        co_await sleep(10);
    } catch (const CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        co_await sleep(cleanup);
        throw CancelledError();
    }
}

// Catches the cancellation of its sleep and returns `value` instead.
Coro<int> swallow_cancel(double delay, int value) {
    try {
        co_await sleep(delay);
    } catch (const CancelledError&) {
        co_return value;
    }
    co_return -1;
}

// Raises std::domain_error when its sleep ends, cancelled or not.
Coro<void> raise_in_cleanup() {
    try {
        co_await sleep(0.2);
    } catch (const CancelledError&) {}
    throw std::domain_error("raised while cancelling");
}

Coro<int> never_completes() {
    auto fut = get_running_loop().create_future<int>();
    co_return co_await fut;
}

Coro<void> set_flag(bool* flag) {
    *flag = true;
    co_return;
}

template <class A>
Coro<int> wait_for_int(A aw, std::optional<Seconds> timeout) {
    co_return co_await wait_for(std::move(aw), timeout);
}

Coro<void> nothing() { co_return; }

Coro<void> wait_for_then_sleep(bool* reached_end) {
    co_await wait_for(nothing(), 100.0);
    co_await sleep(1);
    *reached_end = true;
}

TEST_F(WaitFor, ReturnsTheResultWhenItArrivesInTime) {
    auto main = [&]() -> Coro<void> {
        int r = co_await wait_for(value_after(1, 42), 5.0);
        EXPECT_EQ(r, 42);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
    };
    run(main());
}

TEST_F(WaitFor, TimeoutCancelsTheInnerTaskAndRaisesTimeoutError) {
    auto main = [&]() -> Coro<void> {
        bool running = false;
        auto task = create_task(long_sleeper(&running));
        bool timed_out = co_await times_out(wait_for(task, 0.1));
        EXPECT_TRUE(timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        EXPECT_TRUE(task.done());
        EXPECT_TRUE(task.cancelled());
        EXPECT_FALSE(running);
        // The caller itself is not left cancelled.
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(WaitFor, TimeoutCancelsAnInlineCoroutineToo) {
    auto main = [&]() -> Coro<void> {
        bool running = false;
        bool timed_out = co_await times_out(wait_for(long_sleeper(&running), 0.5));
        EXPECT_TRUE(timed_out);
        EXPECT_FALSE(running);
        EXPECT_DOUBLE_EQ(loop().time(), 0.5);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(WaitFor, WaitsForTheInnerTaskToFinishCancellingBeforeRaising) {
    auto main = [&]() -> Coro<void> {
        bool done = false;
        auto inner = create_task(slow_to_cancel(0.5, &done));
        bool timed_out = co_await times_out(wait_for(inner, 0.1));
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(done);
        EXPECT_TRUE(inner.cancelled());
        EXPECT_DOUBLE_EQ(loop().time(), 0.6);
    };
    run(main());
}

TEST_F(WaitFor, ZeroTimeoutWaitsForTheInnerTaskToFinishCancelling) {
    auto main = [&]() -> Coro<void> {
        bool done = false;
        auto inner = create_task(slow_to_cancel(0.5, &done));
        co_await sleep(0.01);
        bool timed_out = co_await times_out(wait_for(inner, 0.0));
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(done);
        EXPECT_DOUBLE_EQ(loop().time(), 0.51);
    };
    run(main());
}

TEST_F(WaitFor, ZeroTimeoutOnADoneFutureReturnsItsResult) {
    auto main = [&]() -> Coro<void> {
        auto fut = loop().create_future<std::string>();
        fut.set_result("done");
        std::string r = co_await wait_for(fut, 0.0);
        EXPECT_EQ(r, "done");
        EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    };
    run(main());
}

TEST_F(WaitFor, ZeroTimeoutNeverStartsACoroutine) {
    auto main = [&]() -> Coro<void> {
        bool started = false;
        bool timed_out = co_await times_out(wait_for(set_flag(&started), 0.0));
        EXPECT_TRUE(timed_out);
        EXPECT_FALSE(started);
        EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    };
    run(main());
}

TEST_F(WaitFor, ZeroOrNegativeTimeoutCancelsARunningTask) {
    auto main = [&]() -> Coro<void> {
        for (double timeout : {0.0, -1.0}) {
            SCOPED_TRACE(timeout);
            bool running = false;
            auto task = create_task(long_sleeper(&running));
            co_await sleep(0);
            EXPECT_TRUE(running);
            double t0 = loop().time();
            bool timed_out = co_await times_out(wait_for(task, timeout));
            EXPECT_TRUE(timed_out);
            EXPECT_TRUE(task.cancelled());
            EXPECT_FALSE(running);
            EXPECT_DOUBLE_EQ(loop().time(), t0);
        }
    };
    run(main());
}

TEST_F(WaitFor, NoTimeoutWaitsAsLongAsItTakes) {
    auto main = [&]() -> Coro<void> {
        int r = co_await wait_for(value_after(1000, 3), std::nullopt);
        EXPECT_EQ(r, 3);
        EXPECT_DOUBLE_EQ(loop().time(), 1000.0);
    };
    run(main());
}

TEST_F(WaitFor, AFutureCompletedBeforeTheDeadlineGivesItsResult) {
    auto main = [&]() -> Coro<void> {
        auto fut = loop().create_future<int>();
        loop().call_later(0.1, [fut] { fut.set_result(7); });
        int r = co_await wait_for(fut, 0.2);
        EXPECT_EQ(r, 7);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
    };
    run(main());
}

TEST_F(WaitFor, APlainFutureIsCancelledOnTimeout) {
    auto main = [&]() -> Coro<void> {
        auto fut = loop().create_future<int>();
        bool timed_out = co_await times_out(wait_for(fut, 0.5));
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(fut.cancelled());
    };
    run(main());
}

TEST_F(WaitFor, ResultAndDeadlineInTheSameIterationGiveTimeoutError) {
    // The result lands in the very iteration the deadline fires, before the
    // waiting task resumed: as asyncio 3.12, the cancellation wins and
    // TimeoutError is raised; the future keeps its result.
    auto main = [&]() -> Coro<void> {
        auto fut = loop().create_future<int>();
        loop().call_later(1.0, [fut] { fut.set_result(5); });  // same deadline, scheduled first
        bool timed_out = co_await times_out(wait_for(fut, 1.0));
        EXPECT_TRUE(timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        EXPECT_EQ(fut.result(), 5);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(WaitFor, AnInnerCoroutineThatSwallowsTheCancellationReturnsItsValue) {
    // test_wait_for_cancel_suppressed / test_wait_for_cancellation_race_condition.
    auto main = [&]() -> Coro<void> {
        int r = co_await wait_for(swallow_cancel(10, 42), 0.1);
        EXPECT_EQ(r, 42);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(WaitFor, AnInnerTaskThatSwallowsTheCancellationGivesItsResult) {
    auto main = [&]() -> Coro<void> {
        auto inner = create_task(swallow_cancel(10, 42));
        int r = co_await wait_for(inner, 0.1);
        EXPECT_EQ(r, 42);
        EXPECT_FALSE(inner.cancelled());
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(WaitFor, AnExceptionRaisedWhileCancellingReplacesTheTimeout) {
    auto main = [&]() -> Coro<void> {
        auto inner = create_task(raise_in_cleanup());
        bool raised = false;
        try {
            co_await wait_for(inner, 0.01);
        } catch (const std::domain_error&) {
            raised = true;
        } catch (const TimeoutError&) {
            ADD_FAILURE() << "TimeoutError hid the inner task's own error";
        }
        EXPECT_TRUE(raised);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(WaitFor, CancellingTheCallerCancelsTheInnerTaskAndRaisesCancelledError) {
    // _test_cancel_wait_for (Python issue #23219), with a timeout and without.
    auto main = [&]() -> Coro<void> {
        for (std::optional<Seconds> timeout : {std::optional<Seconds>(Seconds(60)), std::optional<Seconds>()}) {
            auto inner = create_task(never_completes());
            auto waiter = create_task(wait_for_int(inner, timeout));
            loop().call_soon([waiter] { waiter.cancel(); });
            bool cancelled = false;
            try {
                co_await waiter;
            } catch (const CancelledError&) {
                cancelled = true;
            } catch (const TimeoutError&) {
                ADD_FAILURE() << "a cancelled caller must see CancelledError, not TimeoutError";
            }
            EXPECT_TRUE(cancelled);
            EXPECT_TRUE(waiter.cancelled());
            EXPECT_TRUE(inner.cancelled());
        }
    };
    run(main());
}

TEST_F(WaitFor, CallerCancelledWhileAnInlineCoroutineRunsGetsCancelledError) {
    auto main = [&]() -> Coro<void> {
        auto waiter = create_task(wait_for_int(value_after(10, 1), Seconds(5)));
        co_await sleep(1);
        waiter.cancel();
        bool cancelled = false;
        try {
            co_await waiter;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(waiter.cancelled());
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
    };
    run(main());
}

TEST_F(WaitFor, CancellingTheWaitingTaskBeforeItStartsLeavesTheInnerTaskAlone) {
    // test_wait_for_self_cancellation, reduced: the wait_for never ran, so
    // nobody cancels the inner task.
    auto main = [&]() -> Coro<void> {
        auto inner = create_task(value_after(0.3, 42));
        auto waiter = create_task(wait_for_int(inner, Seconds(0.1)));
        waiter.cancel();
        bool cancelled = false;
        try {
            co_await waiter;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(co_await inner, 42);
    };
    run(main());
}

TEST_F(WaitFor, CancellationAfterAnImmediateWaitForIsNotLost) {
    // Issue 86296: wait_for of a coroutine that finished at once must not
    // swallow a later cancellation of the caller.
    auto main = [&]() -> Coro<void> {
        bool reached_end = false;
        auto task = create_task(wait_for_then_sleep(&reached_end));
        co_await sleep(0);
        EXPECT_FALSE(task.done());
        task.cancel();
        bool cancelled = false;
        try {
            co_await task;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_FALSE(reached_end);
    };
    run(main());
}

}  // namespace

}  // namespace task_wait_for_test
