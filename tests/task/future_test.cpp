// Future<T>: the behaviour of asyncio.Future as CPython's
// Lib/test/test_asyncio/test_futures.py checks it, plus the hop rule that
// awaiting a Future costs exactly one loop iteration.
#include <tulip/task/future.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

#include "support/loop_test.hpp"

namespace task_future_test {

using namespace tulip;

namespace {

using WatchedLoopTest = test::WatchdogLoopTest;

class AFuture : public WatchedLoopTest {};
class FutureCallbacks : public WatchedLoopTest {};
class UnretrievedFutureException : public WatchedLoopTest {};
class AwaitingAFuture : public WatchedLoopTest {};

// ---- coroutines used by the tests --------------------------------------------

Coro<int> await_value(Future<int> f) { co_return co_await f; }

Coro<void> await_into(Future<int> f, int* out) { *out = co_await f; }

Coro<void> await_void(Future<void> f, bool* resumed) {
    co_await f;
    *resumed = true;
}

// Awaits f and records the address of the exception it rethrows.
Coro<void> catch_address(Future<int> f, const void** where) {
    try {
        co_await f;
    } catch (const std::runtime_error& e) {
        *where = &e;
    }
}

Coro<std::string> catch_cancel_message(Future<int> f) {
    try {
        co_await f;
    } catch (const CancelledError& e) {
        co_return e.message();
    }
    co_return "not cancelled";
}

Coro<void> append_after(Future<int> f, std::vector<std::string>* order, std::string tag) {
    co_await f;
    order->push_back(std::move(tag));
}

std::size_t count_containing(const std::vector<ExceptionContext>& calls, const std::string& text) {
    std::size_t n = 0;
    for (auto& c : calls)
        if (c.message.find(text) != std::string::npos) ++n;
    return n;
}

}  // namespace

// ---- states ---------------------------------------------------------------------

TEST_F(AFuture, IsPendingWhenCreated) {
    auto f = Future<int>::create(loop());
    EXPECT_FALSE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(&f.get_loop(), &loop());
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancelled());
}

TEST_F(AFuture, ResultBeforeDoneRaisesInvalidStateErrorSayingResultIsNotReady) {
    auto f = Future<int>::create(loop());
    try {
        (void)f.result();
        ADD_FAILURE() << "result() of a pending future returned";
    } catch (const InvalidStateError& e) {
        EXPECT_STREQ(e.what(), "Result is not ready.");
    }
    EXPECT_THROW((void)f.exception(), InvalidStateError);
    f.cancel();
}

TEST_F(AFuture, InvalidStateErrorIsARuntimeError) {
    static_assert(std::is_base_of_v<std::runtime_error, InvalidStateError>);
    auto f = Future<int>::create(loop());
    EXPECT_THROW((void)f.result(), std::runtime_error);
    f.cancel();
}

TEST_F(AFuture, HoldsItsResultOnceSet) {
    auto f = Future<int>::create(loop());
    f.set_result(42);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_FALSE(f.cancel()) << "a done future cannot be cancelled";
    EXPECT_FALSE(f.cancelled());
}

TEST_F(AFuture, ReturnsTheSameResultObjectToEveryCaller) {
    auto f = Future<std::string>::create(loop());
    f.set_result("hello");
    EXPECT_EQ(&f.result(), &f.result());
    EXPECT_EQ(f.result(), "hello");
}

TEST_F(AFuture, RefusesASecondResultOrException) {
    auto f = Future<int>::create(loop());
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), InvalidStateError);
    EXPECT_THROW(f.set_exception(std::runtime_error("late")), InvalidStateError);
    EXPECT_EQ(f.result(), 1);
}

TEST_F(AFuture, RefusesAResultAfterAnException) {
    auto f = Future<int>::create(loop());
    f.set_exception(std::runtime_error("first"));
    EXPECT_THROW(f.set_result(2), InvalidStateError);
    EXPECT_THROW(f.set_exception(std::runtime_error("second")), InvalidStateError);
    EXPECT_THROW((void)f.result(), std::runtime_error);
}

TEST_F(AFuture, RethrowsItsExceptionFromResultAndReturnsItFromException) {
    auto f = Future<int>::create(loop());
    auto err = std::make_exception_ptr(std::runtime_error("boom"));
    f.set_exception(err);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.exception(), err);
    try {
        (void)f.result();
        ADD_FAILURE() << "result() did not rethrow";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom");
    }
    EXPECT_FALSE(f.cancel());
}

TEST_F(AFuture, RejectsANullExceptionPointer) {
    auto f = Future<int>::create(loop());
    EXPECT_THROW(f.set_exception(std::exception_ptr()), std::invalid_argument);
    EXPECT_FALSE(f.done());
    f.cancel();
}

TEST_F(AFuture, RethrowsTheVeryExceptionObjectItHolds) {
    auto f = Future<int>::create(loop());
    f.set_exception(std::runtime_error("same"));
    const void* first = nullptr;
    const void* second = nullptr;
    try {
        (void)f.result();
    } catch (const std::runtime_error& e) {
        first = &e;
    }
    try {
        std::rethrow_exception(f.exception());
    } catch (const std::runtime_error& e) {
        second = &e;
    }
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first, second);
}

TEST_F(AFuture, OfVoidCompletesWithoutAValue) {
    auto f = Future<void>::create(loop());
    EXPECT_THROW(f.result(), InvalidStateError);
    f.set_result();
    EXPECT_TRUE(f.done());
    EXPECT_NO_THROW(f.result());
    EXPECT_THROW(f.set_result(), InvalidStateError);
}

TEST_F(AFuture, HoldsAMoveOnlyResult) {
    auto f = Future<std::unique_ptr<int>>::create(loop());
    f.set_result(std::make_unique<int>(5));
    ASSERT_NE(f.result(), nullptr);
    EXPECT_EQ(*f.result(), 5);
}

TEST_F(AFuture, CopiesShareOneState) {
    auto f = Future<int>::create(loop());
    Future<int> g = f;
    EXPECT_TRUE(f == g);
    g.set_result(3);
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), 3);
}

TEST_F(AFuture, CreatedWithoutARunningLoopRaises) { EXPECT_THROW((void)create_future<int>(), std::runtime_error); }

TEST_F(AFuture, CreatedInsideATaskBelongsToTheRunningLoop) {
    Future<int> made;
    auto make = [&]() -> Coro<void> {
        made = create_future<int>();
        co_return;
    };
    run(make());
    ASSERT_TRUE(static_cast<bool>(made));
    EXPECT_EQ(&made.get_loop(), &loop());
    EXPECT_EQ(&loop().create_future<int>().get_loop(), &loop());
    made.cancel();
}

// ---- cancellation ----------------------------------------------------------------

TEST_F(AFuture, CancelledIsDoneAndRaisesCancelledErrorFromResultAndException) {
    auto f = Future<int>::create(loop());
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_THROW((void)f.result(), CancelledError);
    EXPECT_THROW((void)f.exception(), CancelledError);
    EXPECT_THROW(f.set_result(1), InvalidStateError);
    EXPECT_THROW(f.set_exception(std::runtime_error("x")), InvalidStateError);
    EXPECT_FALSE(f.cancel()) << "cancelling twice returns false";
}

TEST_F(AFuture, CarriesItsCancelMessageIntoCancelledError) {
    auto f = Future<int>::create(loop());
    f.cancel("my message");
    try {
        (void)f.result();
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "my message");
        EXPECT_STREQ(e.what(), "my message");
    }
    try {
        (void)f.exception();
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "my message");
    }
}

TEST_F(AFuture, CancelledWithAMessageRaisesItInRunUntilComplete) {
    auto f = Future<int>::create(loop());
    f.cancel("stop now");
    try {
        run(f);
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "stop now");
    }
}

TEST_F(AFuture, CancelledWhileAwaitedRaisesTheMessageInTheAwaiter) {
    auto f = Future<int>::create(loop());
    auto t = loop().create_task(catch_cancel_message(f));
    run_once();  // the task is now suspended on f
    f.cancel("from outside");
    EXPECT_EQ(run(t), "from outside");
}

TEST_F(AFuture, CancelledErrorIsNotAStdException) {
    static_assert(!std::is_base_of_v<std::exception, CancelledError>);
    bool swallowed = false;
    bool seen = false;
    try {
        try {
            throw CancelledError("x");
        } catch (const std::exception&) {
            swallowed = true;
        }
    } catch (const CancelledError&) {
        seen = true;
    }
    EXPECT_FALSE(swallowed);
    EXPECT_TRUE(seen);
    EXPECT_STREQ(CancelledError().what(), "CancelledError");
}

// ---- done callbacks --------------------------------------------------------------

TEST_F(FutureCallbacks, AreScheduledWithCallSoonNeverRunInline) {
    auto f = Future<int>::create(loop());
    int calls = 0;
    f.add_done_callback([&] { ++calls; });
    f.set_result(1);
    EXPECT_EQ(calls, 0) << "a done callback ran inside set_result()";
    run_once();
    EXPECT_EQ(calls, 1);
}

TEST_F(FutureCallbacks, RunInTheOrderTheyWereAdded) {
    auto f = Future<std::string>::create(loop());
    std::vector<int> bag;
    f.add_done_callback([&] { bag.push_back(42); });
    f.add_done_callback([&] { bag.push_back(17); });
    f.add_done_callback([&] { bag.push_back(100); });
    f.set_result("foo");
    EXPECT_TRUE(bag.empty());
    run_briefly();
    EXPECT_EQ(bag, (std::vector<int>{42, 17, 100}));
    EXPECT_EQ(f.result(), "foo");
}

TEST_F(FutureCallbacks, RunAfterCallbacksThatWereAlreadyScheduled) {
    auto f = Future<int>::create(loop());
    std::vector<std::string> order;
    f.add_done_callback([&] { order.push_back("done-callback"); });
    loop().call_soon([&] { order.push_back("earlier call_soon"); });
    f.set_result(0);
    loop().call_soon([&] { order.push_back("later call_soon"); });
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"earlier call_soon", "done-callback", "later call_soon"}));
}

TEST_F(FutureCallbacks, ScheduledByAnIterationRunInTheNextOne) {
    auto f = Future<int>::create(loop());
    int calls = 0;
    f.add_done_callback([&] { ++calls; });
    loop().call_soon([f] { f.set_result(1); });
    run_once();  // set_result() runs here; the callback is only queued
    EXPECT_TRUE(f.done());
    EXPECT_EQ(calls, 0);
    run_once();
    EXPECT_EQ(calls, 1);
}

TEST_F(FutureCallbacks, RunOnSetException) {
    auto f = Future<int>::create(loop());
    std::vector<int> bag;
    f.add_done_callback([&] { bag.push_back(100); });
    auto err = std::make_exception_ptr(std::runtime_error("e"));
    f.set_exception(err);
    run_briefly();
    EXPECT_EQ(bag, std::vector<int>{100});
    EXPECT_EQ(f.exception(), err);
}

TEST_F(FutureCallbacks, RunOnCancelAndSeeTheFutureCancelled) {
    auto f = Future<int>::create(loop());
    bool saw_cancelled = false;
    f.add_done_callback([&](Future<int>& self) { saw_cancelled = self.cancelled(); });
    f.cancel();
    EXPECT_FALSE(saw_cancelled);
    run_once();
    EXPECT_TRUE(saw_cancelled);
}

TEST_F(FutureCallbacks, ReceiveTheFutureWithItsResult) {
    auto f = Future<int>::create(loop());
    int seen = 0;
    bool same = false;
    f.add_done_callback([&](Future<int>& self) {
        seen = self.result();
        same = self == f;
    });
    f.set_result(9);
    run_once();
    EXPECT_EQ(seen, 9);
    EXPECT_TRUE(same);
}

TEST_F(FutureCallbacks, AddedToADoneFutureAreScheduledNotCalled) {
    auto f = Future<int>::create(loop());
    f.set_result(1);
    int calls = 0;
    f.add_done_callback([&] { ++calls; });
    EXPECT_EQ(calls, 0) << "a callback added to a done future ran inline";
    run_once();
    EXPECT_EQ(calls, 1);
}

TEST_F(FutureCallbacks, AddedToADoneFutureKeepItAliveUntilTheyRun) {
    int seen = 0;
    {
        auto f = Future<int>::create(loop());
        f.set_result(11);
        f.add_done_callback([&](Future<int>& self) { seen = self.result(); });
    }  // the last user handle is gone; the scheduled callback still holds the future
    run_once();
    EXPECT_EQ(seen, 11);
}

TEST_F(FutureCallbacks, RemovingTheFirstLeavesTheOthers) {
    auto f = Future<std::string>::create(loop());
    std::vector<int> bag;
    auto cb1 = f.add_done_callback([&] { bag.push_back(42); });
    f.add_done_callback([&] { bag.push_back(17); });
    f.add_done_callback([&] { bag.push_back(100); });
    EXPECT_EQ(f.remove_done_callback(cb1), 1u);
    EXPECT_EQ(f.remove_done_callback(cb1), 0u) << "removing twice removes nothing";
    f.set_result("foo");
    run_briefly();
    EXPECT_EQ(bag, (std::vector<int>{17, 100}));
}

TEST_F(FutureCallbacks, RemovingTheFirstAndSecondLeavesTheThird) {
    auto f = Future<std::string>::create(loop());
    std::vector<int> bag;
    auto cb1 = f.add_done_callback([&] { bag.push_back(42); });
    auto cb2 = f.add_done_callback([&] { bag.push_back(17); });
    f.add_done_callback([&] { bag.push_back(100); });
    EXPECT_EQ(f.remove_done_callback(cb1), 1u);
    EXPECT_EQ(f.remove_done_callback(cb2), 1u);
    EXPECT_EQ(f.remove_done_callback(cb1), 0u);
    f.set_result("foo");
    run_briefly();
    EXPECT_EQ(bag, std::vector<int>{100});
}

TEST_F(FutureCallbacks, RemovingTheLastLeavesTheFirstTwo) {
    auto f = Future<std::string>::create(loop());
    std::vector<int> bag;
    f.add_done_callback([&] { bag.push_back(42); });
    f.add_done_callback([&] { bag.push_back(17); });
    auto cb3 = f.add_done_callback([&] { bag.push_back(100); });
    EXPECT_EQ(f.remove_done_callback(cb3), 1u);
    EXPECT_EQ(f.remove_done_callback(cb3), 0u);
    f.set_result("foo");
    run_briefly();
    EXPECT_EQ(bag, (std::vector<int>{42, 17}));
}

TEST_F(FutureCallbacks, RemovingACallbackOfAnotherFutureRemovesNothing) {
    auto f = Future<int>::create(loop());
    auto g = Future<int>::create(loop());
    int calls = 0;
    auto cb = g.add_done_callback([&] { ++calls; });
    EXPECT_EQ(f.remove_done_callback(cb), 0u);
    g.set_result(1);
    run_once();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(g.remove_done_callback(cb), 0u) << "a callback that already ran cannot be removed";
    f.cancel();
}

TEST_F(FutureCallbacks, OfAPendingFutureThatIsDroppedNeverRun) {
    int calls = 0;
    {
        auto f = Future<int>::create(loop());
        f.add_done_callback([&] { ++calls; });
    }
    run_briefly();
    EXPECT_EQ(calls, 0);
}

TEST_F(FutureCallbacks, ThatThrowAreReportedToTheExceptionHandler) {
    expect_handler_calls = true;
    auto f = Future<int>::create(loop());
    int later = 0;
    f.add_done_callback([] { throw std::logic_error("callback failed"); });
    f.add_done_callback([&] { ++later; });
    f.set_result(1);
    run_once();
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(handler_calls[0].message, "Exception in callback");
    EXPECT_NE(describe_exception(handler_calls[0].exception).find("callback failed"), std::string::npos);
    EXPECT_EQ(later, 1) << "a failing callback must not stop the next one";
}

TEST_F(FutureCallbacks, AndAwaitingTasksWakeInTheOrderTheyWereAdded) {
    auto f = Future<int>::create(loop());
    std::vector<std::string> order;
    f.add_done_callback([&] { order.push_back("callback 1"); });
    auto t = loop().create_task(append_after(f, &order, "task"));
    run_once();  // the task now waits on f, after callback 1
    f.add_done_callback([&] { order.push_back("callback 2"); });
    f.set_result(0);
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"callback 1", "task", "callback 2"}));
    EXPECT_TRUE(t.done());
}

// ---- exception never retrieved ---------------------------------------------------

TEST_F(UnretrievedFutureException, IsReportedWhenTheLastHandleGoes) {
    expect_handler_calls = true;
    auto err = std::make_exception_ptr(std::runtime_error("boom"));
    {
        auto f = Future<int>::create(loop());
        f.set_exception(err);
        { Future<int> copy = f; }
        EXPECT_TRUE(handler_calls.empty()) << "reported while a handle still exists";
    }
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(handler_calls[0].message, "Future exception was never retrieved");
    EXPECT_EQ(handler_calls[0].exception, err);
}

TEST_F(UnretrievedFutureException, IsNotReportedOnceExceptionWasCalled) {
    {
        auto f = Future<int>::create(loop());
        f.set_exception(std::runtime_error("boom"));
        EXPECT_NE(f.exception(), nullptr);
    }
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(UnretrievedFutureException, IsNotReportedOnceResultRaisedIt) {
    {
        auto f = Future<int>::create(loop());
        f.set_exception(std::runtime_error("boom"));
        EXPECT_THROW((void)f.result(), std::runtime_error);
    }
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(UnretrievedFutureException, IsNotReportedOnceAwaited) {
    const void* where = nullptr;
    {
        auto f = Future<int>::create(loop());
        f.set_exception(std::runtime_error("boom"));
        run(catch_address(f, &where));
    }
    EXPECT_NE(where, nullptr);
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(UnretrievedFutureException, IsNotReportedAfterCancelWasCalled) {
    // asyncio: cancel() clears the log flag even on a done future.
    {
        auto f = Future<int>::create(loop());
        f.set_exception(std::runtime_error("boom"));
        EXPECT_FALSE(f.cancel());
    }
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(UnretrievedFutureException, IsNotReportedForAnUnreadResultOrAnAbandonedFuture) {
    {
        auto f = Future<int>::create(loop());
        f.set_result(42);
    }
    { auto f = Future<int>::create(loop()); }
    run_briefly();
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(UnretrievedFutureException, IsReportedAfterTheCallbacksThatHeldTheFutureRan) {
    expect_handler_calls = true;
    {
        auto f = Future<int>::create(loop());
        f.add_done_callback([] {});
        f.set_exception(std::runtime_error("boom"));
    }
    EXPECT_TRUE(handler_calls.empty()) << "the scheduled callback still holds the future";
    run_once();
    EXPECT_EQ(count_containing(handler_calls, "Future exception was never retrieved"), 1u);
}

// ---- awaiting ------------------------------------------------------------------------

TEST_F(AwaitingAFuture, ThatIsDoneDoesNotSuspend) {
    auto f = Future<int>::create(loop());
    f.set_result(5);
    int got = 0;
    auto t = loop().create_task(await_into(f, &got));
    run_once();  // the task's first step: it must finish without a hop
    EXPECT_EQ(got, 5);
    EXPECT_TRUE(t.done());
}

TEST_F(AwaitingAFuture, ThatIsPendingResumesOneIterationAfterItsCallbacksAreScheduled) {
    auto f = Future<int>::create(loop());
    int got = 0;
    auto t = loop().create_task(await_into(f, &got));
    run_once();  // first step: suspends on f
    loop().call_soon([] {});
    run_once();  // an iteration passes; nothing wakes the task while f is pending
    EXPECT_FALSE(t.done());
    f.set_result(7);
    EXPECT_EQ(got, 0) << "set_result() resumed the awaiting task inline";
    run_once();
    EXPECT_EQ(got, 7);
    EXPECT_TRUE(t.done());
}

TEST_F(AwaitingAFuture, CompletedByACallbackResumesInTheFollowingIteration) {
    auto f = Future<int>::create(loop());
    int got = 0;
    auto t = loop().create_task(await_into(f, &got));
    run_once();  // iteration 1: the task suspends on f
    loop().call_soon([f] { f.set_result(3); });
    run_once();  // iteration 2: set_result() runs and schedules the task
    EXPECT_EQ(got, 0);
    run_once();  // iteration 3: the task resumes
    EXPECT_EQ(got, 3);
    EXPECT_TRUE(t.done());
}

TEST_F(AwaitingAFuture, OfVoidResumesTheTask) {
    auto f = Future<void>::create(loop());
    bool resumed = false;
    auto t = loop().create_task(await_void(f, &resumed));
    run_once();
    EXPECT_FALSE(resumed);
    f.set_result();
    run_once();
    EXPECT_TRUE(resumed);
    EXPECT_TRUE(t.done());
}

TEST_F(AwaitingAFuture, RethrowsTheSameExceptionObjectToEveryAwait) {
    auto f = Future<int>::create(loop());
    f.set_exception(std::runtime_error("shared"));
    const void* first = nullptr;
    const void* second = nullptr;
    run(catch_address(f, &first));
    run(catch_address(f, &second));
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first, second);
    const void* from_result = nullptr;
    try {
        (void)f.result();
    } catch (const std::runtime_error& e) {
        from_result = &e;
    }
    EXPECT_EQ(first, from_result);
}

TEST_F(AwaitingAFuture, FromManyTasksGivesEachTheResult) {
    auto f = Future<int>::create(loop());
    auto a = loop().create_task(await_value(f));
    auto b = loop().create_task(await_value(f));
    auto c = loop().create_task(await_value(f));
    run_once();
    f.set_result(8);
    run_once();
    ASSERT_TRUE(a.done() && b.done() && c.done());
    EXPECT_EQ(a.result() + b.result() + c.result(), 24);
}

TEST_F(AwaitingAFuture, WithARunUntilCompleteReturnsItsResult) {
    auto f = Future<int>::create(loop());
    loop().call_soon([f] { f.set_result(12); });
    EXPECT_EQ(run(f), 12);
}

}  // namespace task_future_test
