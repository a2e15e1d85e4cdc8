// Cases of CPython's Lib/test/test_asyncio/test_tasks.py that the other task
// tests did not cover yet (docs/conformance/test_tasks.md maps them all).
// Each test names the asyncio case it ports.
#include <tulip/task/task.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <tulip/task/future.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/shield.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/threadsafe.hpp>
#include <tulip/task/wait.hpp>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_conformance_tasks_test {

using namespace tulip;
using test::fail_after;
using test::value_after;

namespace {

class TasksConformance : public test::WatchdogLoopTest {};
class TasksConformanceThreads : public test::RealTimeLoopTest {};

// Runs f, which must raise CancelledError carrying msg.
template <class F>
void expect_cancelled_with(const std::string& msg, F f) {
    try {
        f();
        ADD_FAILURE() << "no CancelledError";
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), msg);
    }
}

// test_task_class: a task runs on the loop it was created on.
TEST_F(TasksConformance, ATaskBelongsToTheLoopThatMadeItAndGivesItsResult) {
    auto notmuch = []() -> Coro<std::string> { co_return "ok"; };
    auto t = loop().create_task(notmuch());
    EXPECT_EQ(&t.get_loop(), &loop());
    EXPECT_EQ(run(t), "ok");
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.result(), "ok");
}

// GenericTaskTests.test_future_subclass
TEST_F(TasksConformance, ATaskIsAFuture) {
    static_assert(std::is_base_of_v<Future<int>, Task<int>>);
    static_assert(std::is_base_of_v<FutureBase, AnyTask>);
    SUCCEED();
}

// test_ensure_future_awaitable / test_create_task_with_asynclike_function:
// an object with operator co_await (asyncio: __await__) becomes a task.
struct YieldThenOk {
    detail::SleepAwaiter s;
    bool await_ready() { return s.await_ready(); }
    template <class H>
    auto await_suspend(H h) {
        return s.await_suspend(h);
    }
    std::string await_resume() {
        s.await_resume();
        return "ok";
    }
};
struct AwaitableObject {
    YieldThenOk operator co_await() && { return YieldThenOk{sleep(0)}; }
};
Coro<std::string> await_awaitable_object() { co_return co_await AwaitableObject{}; }

TEST_F(TasksConformance, CreateTaskTakesAnAwaitableObject) {
    auto t = loop().create_task(await_awaitable_object());
    EXPECT_EQ(run(t), "ok");
    struct Immediate {
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        int await_resume() const noexcept { return 42; }
    };
    auto t2 = loop().create_task(Immediate{});
    EXPECT_EQ(run(t2), 42);
}

// test_ensure_future_error_msg / test_ensure_future_task: a future of another
// loop is refused, and the message says why.
TEST_F(TasksConformance, RunUntilCompleteOfAnotherLoopsFutureNamesTheProblem) {
    EventLoop other;
    auto f = other.create_future<int>();
    try {
        (void)loop().run_until_complete(f);
        ADD_FAILURE() << "no std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("different loop"), std::string::npos) << e.what();
    }
    other.close();
}

// test_uncancel_structured_blocks: a timer cancels the task; the block it
// affected turns that into TimeoutError with uncancel(), and the code after
// the block runs on uncancelled.
Coro<std::vector<bool>> make_request_with_timeout(double sleep_for, double timeout) {
    AnyTask task = current_task();
    EventLoop& loop = task.get_loop();
    auto timed_out = std::make_shared<bool>(false);
    bool structured_block_finished = false;
    bool outer_code_reached = false;
    TimerHandle h = loop.call_later(timeout, [task, timed_out] {
        *timed_out = true;
        task.cancel();
    });
    bool raise_timeout = false;
    try {
        co_await sleep(sleep_for);
        structured_block_finished = true;
    } catch (const CancelledError&) {
        h.cancel();
        if (!(*timed_out && task.uncancel() == 0)) throw;
        raise_timeout = true;
    }
    h.cancel();
    if (raise_timeout) {
        EXPECT_TRUE(*timed_out);  // asyncio raises TimeoutError here and catches it at once
    }
    outer_code_reached = true;
    co_await sleep(0);
    co_return std::vector<bool>{*timed_out, structured_block_finished, outer_code_reached};
}

TEST_F(TasksConformance, UncancelLetsAStructuredBlockTurnItsTimeoutIntoAnErrorAndGoOn) {
    auto t1 = loop().create_task(make_request_with_timeout(10.0, 0.1));
    EXPECT_EQ(run(t1), (std::vector<bool>{true, false, true}));
    EXPECT_EQ(t1.cancelling(), 0u);
    auto t2 = loop().create_task(make_request_with_timeout(0, 10.0));
    EXPECT_EQ(run(t2), (std::vector<bool>{false, true, true}));
    EXPECT_EQ(t2.cancelling(), 0u);
}

// test_uncancel_resets_must_cancel: a task made runnable, then cancelled and
// uncancelled before it runs, resumes normally.
TEST_F(TasksConformance, UncancelBeforeTheTaskResumesWithdrawsThePendingCancellation) {
    auto fut = loop().create_future<void>();
    auto coro = [&]() -> Coro<int> {
        co_await fut;
        co_return 42;
    };
    auto task = loop().create_task(coro());
    run(sleep(0));     // the task now waits for fut
    fut.set_result();  // and is runnable
    EXPECT_TRUE(task.cancel());
    EXPECT_EQ(task.cancelling(), 1u);
    task.uncancel();
    EXPECT_EQ(task.cancelling(), 0u);
    EXPECT_EQ(run(task), 42);
}

// test_cancel_with_message_then_future_result / _exception: after wait(),
// result() and exception() of a task cancelled with a message raise
// CancelledError carrying it.
TEST_F(TasksConformance, ResultAndExceptionOfATaskCancelledWithAMessageRaiseIt) {
    for (std::string msg : {std::string(), std::string("my message")}) {
        for (bool use_result : {true, false}) {
            auto coro = [&]() -> Coro<void> {
                auto task = create_task(value_after(10, 1));
                co_await sleep(0);
                task.cancel(msg);
                std::vector<Task<int>> one{task};
                co_await wait(one);
                if (use_result)
                    (void)task.result();
                else
                    (void)task.exception();
            };
            expect_cancelled_with(msg, [&] { run(coro()); });
        }
    }
}

// test_wait_really_done: with FIRST_COMPLETED, futures that are done by the
// time wait() wakes up are all in `done`.
TEST_F(TasksConformance, WaitFirstCompletedReportsEverythingDoneByTheTimeItWakes) {
    auto coro1 = []() -> Coro<int> {
        co_await sleep(0);
        co_return 1;
    };
    auto coro2 = []() -> Coro<int> {
        co_await sleep(0);
        co_await sleep(0);
        co_return 2;
    };
    auto main = [&]() -> Coro<void> {
        auto a = create_task(coro1());
        auto b = create_task(coro2());
        std::vector<Task<int>> both{b, a};
        WaitOptions first;
        first.return_when = FIRST_COMPLETED;
        auto [done, pending] = co_await wait(both, first);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
        EXPECT_EQ(a.result(), 1);
        EXPECT_EQ(b.result(), 2);
    };
    run(main());
}

// test_wait_with_exception: a failed future is in `done`, its exception not raised.
TEST_F(TasksConformance, WaitAllCompletedPutsAFailedFutureInDoneWithoutRaising) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        auto b = create_task(fail_after<std::domain_error>(0.15, "really"));
        std::vector<Task<int>> both{b, a};
        auto [done, pending] = co_await wait(both);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
        int errors = 0;
        for (auto& f : done)
            if (f.exception()) ++errors;
        EXPECT_EQ(errors, 1);
        EXPECT_DOUBLE_EQ(loop().time(), 0.15);
        // Again: done at once, no time passes.
        auto again = co_await wait(both);
        EXPECT_EQ(again.done.size(), 2u);
        EXPECT_DOUBLE_EQ(loop().time(), 0.15);
    };
    run(main());
}

// test_wait_concurrent_complete: a future that completes at the very
// deadline of wait() counts as done.
TEST_F(TasksConformance, WaitCountsAFutureThatCompletesAtTheDeadlineAsDone) {
    // As the asyncio test: the tasks start (and arm their timers) before
    // wait() arms its timeout for the same deadline.
    auto a = loop().create_task(value_after(0.1, 1));
    auto b = loop().create_task(value_after(0.15, 2));
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> both{b, a};
        WaitOptions opts;
        opts.timeout = Seconds(0.1);
        auto [done, pending] = co_await wait(both, opts);
        CO_ASSERT(done.size() == 1u);
        CO_ASSERT(pending.size() == 1u);
        EXPECT_TRUE(done[0] == a);
        EXPECT_TRUE(pending[0] == b);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        co_await b;
    };
    run(main());
}

// test_as_completed_with_unused_timeout: a timeout that never fires changes nothing.
TEST_F(TasksConformance, AsCompletedWithATimeoutThatNeverFiresYieldsEverything) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> one{create_task(value_after(0.01, 7))};
        auto it = as_completed(one, Seconds(1));
        while (it.remaining()) {
            auto f = co_await it.next();
            EXPECT_EQ(co_await f, 7);
        }
        EXPECT_DOUBLE_EQ(loop().time(), 0.01);
    };
    run(main());
}

// test_as_completed_resume_iterator: stopping half-way and going on with the
// same iterator yields the rest.
TEST_F(TasksConformance, AsCompletedCanBeResumedAfterStoppingHalfWay) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> tasks;
        for (int i = 0; i < 4; ++i) tasks.push_back(create_task(value_after(0, i)));
        auto it = as_completed(tasks);
        std::vector<int> collected;
        for (int n = 0; n < 2; ++n) {
            auto f = co_await it.next();
            collected.push_back(co_await f);
        }
        EXPECT_EQ(collected.size(), 2u);
        while (it.remaining()) {
            auto f = co_await it.next();
            collected.push_back(co_await f);
        }
        std::sort(collected.begin(), collected.end());
        EXPECT_EQ(collected, (std::vector<int>{0, 1, 2, 3}));
    };
    run(main());
}

// test_as_completed_coroutine_without_loop, test_shield_coroutine_without_loop,
// FutureGatherTests.test_constructor_empty_sequence_without_loop,
// CoroutineGatherTests.test_constructor_without_loop: no running loop is
// RuntimeError.
TEST_F(TasksConformance, GatherShieldAndAsCompletedOutsideARunningLoopRaiseRuntimeError) {
    EXPECT_THROW((void)gather(), std::runtime_error);
    EXPECT_THROW((void)gather(value_after(0, 1), value_after(0, 2)), std::runtime_error);
    EXPECT_THROW((void)shield(value_after(0, 1)), std::runtime_error);
    EXPECT_THROW((void)as_completed(std::vector<Future<int>>{}), std::runtime_error);
}

// FutureGatherTests.test_constructor_heterogenous_futures
TEST_F(TasksConformance, GatherOfFuturesOfTwoLoopsRaisesValueError) {
    EventLoop other;
    auto theirs = other.create_future<int>();
    auto main = [&]() -> Coro<void> {
        auto ours = create_future<int>();
        EXPECT_THROW((void)gather(ours, theirs), std::invalid_argument);
        co_return;
    };
    run(main());
    other.close();
}

// test_coroutine_non_gen_function_return_future: a coroutine may return a
// Future as a plain value; the task does not await it.
TEST_F(TasksConformance, ATaskReturningAFutureReturnsItUnawaited) {
    auto fut = loop().create_future<std::string>();
    auto func = [&]() -> Coro<Future<std::string>> { co_return fut; };
    auto coro = [&]() -> Coro<void> {
        fut.set_result("test");
        co_return;
    };
    auto t1 = loop().create_task(func());
    auto t2 = loop().create_task(coro());
    auto res = run(t1);
    EXPECT_TRUE(res == fut);
    EXPECT_TRUE(t2.done());
}

// test_shield_cancel_outer_result: cancelling the shield, then the inner
// future's result: nothing is reported.
TEST_F(TasksConformance, AResultArrivingAfterTheShieldWasCancelledIsNotReported) {
    auto inner = loop().create_future<int>();
    auto main = [&]() -> Coro<void> {
        auto outer = shield(inner);
        co_await sleep(0);
        outer.cancel();
        co_await sleep(0);
        inner.set_result(1);
        co_await sleep(0);
        EXPECT_TRUE(outer.cancelled());
    };
    run(main());
    EXPECT_TRUE(handler_calls.empty());
}

// test_shield_cancel_outer_exception / test_shield_duplicate_log_once: an
// exception arriving after the shields were cancelled is reported once,
// however many shields there were.
TEST_F(TasksConformance, AnExceptionArrivingAfterTheShieldsWereCancelledIsReportedOnce) {
    expect_handler_calls = true;
    {
        auto inner = loop().create_future<int>();
        auto main = [&]() -> Coro<void> {
            auto outer = shield(inner);
            co_await sleep(0);
            outer.cancel();
            co_await sleep(0);
            auto outer2 = shield(inner);
            co_await sleep(0);
            outer2.cancel();
            co_await sleep(0);
            inner.set_exception(std::make_exception_ptr(std::runtime_error("foo")));
            co_await sleep(0);
        };
        run(main());
    }  // the last handle to inner goes: its exception was never retrieved
    EXPECT_EQ(handler_calls.size(), 1u);
}

// test_cancel_gather_2: cancelling a task that awaits a gather gives
// CancelledError with the message to whoever awaits that task.
TEST_F(TasksConformance, CancellingATaskAwaitingAGatherPropagatesTheMessage) {
    for (std::string msg : {std::string(), std::string("my message")}) {
        auto test = []() -> Coro<void> {
            double time = 0;
            while (true) {
                time += 0.05;
                co_await gather(return_exceptions, sleep(0.05));
                if (time > 1) co_return;
            }
        };
        auto main = [&]() -> Coro<void> {
            auto qwe = create_task(test());
            co_await sleep(0.2);
            qwe.cancel(msg);
            co_await qwe;
        };
        expect_cancelled_with(msg, [&] { run(main()); });
    }
}

// SleepTests.test_sleep_zero: sleep(0, result) lets a callback scheduled
// before it run, then returns the result.
TEST_F(TasksConformance, SleepZeroRunsWhatWasScheduledBeforeItAndReturnsItsResult) {
    int result = 0;
    auto coro = [&]() -> Coro<void> {
        loop().call_soon([&result] { result += 1; });
        EXPECT_EQ(result, 0);
        int num = co_await sleep(0, 10);
        EXPECT_EQ(result, 1);
        result += num;
    };
    run(coro());
    EXPECT_EQ(result, 11);
}

// RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_task_factory_exception:
// the factory's error reaches the caller and, once, the exception handler.
struct NameError : std::runtime_error {
    NameError() : std::runtime_error("NameError") {}
};

TEST_F(TasksConformanceThreads, RunCoroutineThreadsafeWithAFailingTaskFactoryRaisesItsError) {
    expect_handler_calls = true;
    std::exception_ptr got;
    auto done = loop().create_future<void>();
    auto watch = [&]() -> Coro<void> { co_await done; };
    auto waiter = loop().create_task(watch());  // made before the factory is set
    loop().set_task_factory([](EventLoop&, const AnyTask&) { throw NameError(); });
    std::thread submitter([&] {
        try {
            run_coroutine_threadsafe(value_after(0.01, 3), loop()).result(test::kLoopbackTimeout);
        } catch (...) {
            got = std::current_exception();
        }
        loop().call_soon_threadsafe([&done] { done.set_result(); });
    });
    run(waiter);
    submitter.join();
    loop().set_task_factory(nullptr);
    ASSERT_TRUE(got);
    EXPECT_THROW(std::rethrow_exception(got), NameError);
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_THROW(std::rethrow_exception(handler_calls[0].exception), NameError);
}

}  // namespace

}  // namespace task_conformance_tasks_test
