// Tests of gather (asyncio.gather), ported from the gather parts of CPython's
// Lib/test/test_asyncio/test_tasks.py (GatherTestsBase, FutureGatherTests,
// CoroutineGatherTests, test_cancel_gather_*, test_exception_marking).
#include <tulip/task/gather.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_gather_test {

using namespace tulip;
using test::fail_after;
using test::value_after;

namespace {

class Gather : public test::LoopTest {};

Coro<std::string> text_after(double delay, std::string text) {
    co_await sleep(delay);
    co_return text;
}

Coro<void> pause(double delay) { co_await sleep(delay); }

Coro<std::unique_ptr<int>> boxed_after(double delay, int value) {
    co_await sleep(delay);
    co_return std::make_unique<int>(value);
}

// Sleeps; records in *cancelled whether it saw CancelledError (and re-raises it).
Coro<int> sleep_noting_cancel(double delay, bool* cancelled) {
    try {
        co_await sleep(delay);
    } catch (const CancelledError&) {
        *cancelled = true;
        throw;
    }
    co_return 0;
}

Coro<int> await_future(Future<int> fut) { co_return co_await fut; }

Coro<void> await_gather_of_two_sleepers(bool* first_cancelled, bool* second_cancelled) {
    co_await gather(sleep_noting_cancel(10, first_cancelled), sleep_noting_cancel(10, second_cancelled));
}

// Gathers short sleeps with return_exceptions in a loop until cancelled (issue 32684).
Coro<void> gather_sleeps_forever() {
    for (int i = 0; i < 1000; ++i) co_await gather(return_exceptions, pause(0.05));
}

TEST_F(Gather, ReturnsResultsInArgumentOrderNotCompletionOrder) {
    auto main = [&]() -> Coro<void> {
        auto [a, b, c] = co_await gather(text_after(3, "slow"), text_after(1, "fast"), text_after(2, "middle"));
        EXPECT_EQ(a, "slow");
        EXPECT_EQ(b, "fast");
        EXPECT_EQ(c, "middle");
    };
    run(main());
}

TEST_F(Gather, RunsChildrenConcurrentlySoItTakesTheLongestSleepNotTheSum) {
    auto main = [&]() -> Coro<void> {
        double t0 = loop().time();
        co_await gather(pause(1), pause(3), pause(2));
        EXPECT_DOUBLE_EQ(loop().time() - t0, 3.0);
    };
    run(main());
}

TEST_F(Gather, AcceptsTasksAndFuturesAlongsideCoroutines) {
    auto main = [&]() -> Coro<void> {
        auto fut = loop().create_future<int>();
        loop().call_later(0.5, [fut] { fut.set_result(7); });
        auto task = create_task(value_after(1, 8));
        auto [x, y, z] = co_await gather(fut, task, value_after(0.25, 9));
        EXPECT_EQ(x, 7);
        EXPECT_EQ(y, 8);
        EXPECT_EQ(z, 9);
        EXPECT_TRUE(task.done());
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
    };
    run(main());
}

TEST_F(Gather, VoidChildrenGiveMonostateInTheTuple) {
    auto main = [&]() -> Coro<void> {
        auto result = co_await gather(pause(1), value_after(2, 5), pause(0.5));
        static_assert(std::is_same_v<decltype(result), std::tuple<std::monostate, int, std::monostate>>);
        EXPECT_EQ(std::get<1>(result), 5);
        EXPECT_DOUBLE_EQ(loop().time(), 2.0);
    };
    run(main());
}

TEST_F(Gather, RangeOfCoroutinesGivesAVectorInInputOrder) {
    auto main = [&]() -> Coro<void> {
        std::vector<Coro<int>> coros;
        for (int i = 0; i < 5; ++i) coros.push_back(value_after(5 - i, i));  // the last finishes first
        std::vector<int> results = co_await gather(std::move(coros));
        EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3, 4}));
        EXPECT_DOUBLE_EQ(loop().time(), 5.0);
    };
    run(main());
}

TEST_F(Gather, RangeOfTasksLeavesTheCallersHandlesUsable) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> tasks;
        tasks.push_back(create_task(value_after(2, 20)));
        tasks.push_back(create_task(value_after(1, 10)));
        std::vector<int> results = co_await gather(tasks);
        EXPECT_EQ(results, (std::vector<int>{20, 10}));
        CO_ASSERT(tasks.size() == 2u);
        EXPECT_EQ(tasks[0].result(), 20);
        EXPECT_EQ(tasks[1].result(), 10);
    };
    run(main());
}

TEST_F(Gather, RangeOfVoidChildrenGivesAVectorOfMonostate) {
    auto main = [&]() -> Coro<void> {
        std::vector<Coro<void>> coros;
        coros.push_back(pause(1));
        coros.push_back(pause(2));
        auto results = co_await gather(std::move(coros));
        static_assert(std::is_same_v<decltype(results), std::vector<std::monostate>>);
        EXPECT_EQ(results.size(), 2u);
        EXPECT_DOUBLE_EQ(loop().time(), 2.0);
    };
    run(main());
}

TEST_F(Gather, EmptyGatherIsDoneAtOnce) {
    auto main = [&]() -> Coro<void> {
        auto nothing = gather();
        EXPECT_TRUE(nothing.done());
        static_assert(std::is_same_v<decltype(nothing), Future<std::tuple<>>>);
        std::vector<Coro<int>> none;
        auto empty = gather(std::move(none));
        EXPECT_TRUE(empty.done());
        EXPECT_TRUE(empty.result().empty());
        co_return;
    };
    run(main());
}

TEST_F(Gather, AlreadyDoneFuturesCompleteTheGatherAtOnce) {
    // asyncio 3.12+: gather accounts for children that are done already when
    // it is called (eager tasks, finished Futures); if all are, it returns a
    // done future.
    auto main = [&]() -> Coro<void> {
        auto a = loop().create_future<int>();
        auto b = loop().create_future<int>();
        a.set_result(1);
        b.set_result(2);
        auto g = gather(a, b);
        CO_ASSERT(g.done());
        auto [x, y] = g.result();
        EXPECT_EQ(x, 1);
        EXPECT_EQ(y, 2);
        co_return;
    };
    run(main());
}

TEST_F(Gather, AnAlreadyFailedChildFailsTheGatherAtOnce) {
    auto main = [&]() -> Coro<void> {
        auto a = loop().create_future<int>();
        auto b = loop().create_future<int>();
        a.set_exception(std::make_exception_ptr(std::runtime_error("early")));
        auto g = gather(b, a);
        CO_ASSERT(g.done());
        EXPECT_THROW(g.result(), std::runtime_error);
        b.set_result(2);
        co_return;
    };
    run(main());
}

TEST_F(Gather, FirstFailureCompletesTheGatherWhileTheOthersKeepRunning) {
    auto main = [&]() -> Coro<void> {
        auto slow = create_task(value_after(2, 1));
        auto g = gather(fail_after(1, "boom"), slow);
        bool raised = false;
        try {
            co_await g;
        } catch (const std::runtime_error& e) {
            raised = true;
            EXPECT_STREQ(e.what(), "boom");
        }
        EXPECT_TRUE(raised);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        EXPECT_FALSE(slow.done());
        EXPECT_EQ(co_await slow, 1);
        EXPECT_DOUBLE_EQ(loop().time(), 2.0);
    };
    run(main());
}

TEST_F(Gather, RethrowsTheChildsExceptionAsTheSameObject) {
    auto main = [&]() -> Coro<void> {
        auto failing = create_task(fail_after(1, "same"));
        std::exception_ptr caught;
        try {
            co_await gather(failing, value_after(2, 0));
        } catch (...) {
            caught = std::current_exception();
        }
        CO_ASSERT(caught);
        EXPECT_EQ(caught, failing.exception());
        co_await sleep(2);  // let the other child finish
    };
    run(main());
}

TEST_F(Gather, ReturnExceptionsGivesErrorsAndCancellationsAsValues) {
    auto main = [&]() -> Coro<void> {
        auto failing = create_task(fail_after(0.5, "bad"));
        auto doomed = create_task(value_after(10, 0));
        doomed.cancel();
        auto [ok, bad, cancelled] = co_await gather(return_exceptions, value_after(1, 3), failing, doomed);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);  // waits for every child
        CO_ASSERT(ok.has_value());
        EXPECT_EQ(ok.value(), 3);
        EXPECT_FALSE(ok.cancelled());
        EXPECT_FALSE(bad.has_value());
        EXPECT_EQ(bad.error(), failing.exception());
        EXPECT_THROW(bad.value(), std::runtime_error);
        EXPECT_FALSE(bad.cancelled());
        EXPECT_FALSE(cancelled.has_value());
        EXPECT_TRUE(cancelled.cancelled());
        EXPECT_THROW(cancelled.value(), CancelledError);
    };
    run(main());
}

TEST_F(Gather, ReturnExceptionsOverARangeGivesAVectorOfOutcomes) {
    auto main = [&]() -> Coro<void> {
        std::vector<Coro<int>> coros;
        coros.push_back(value_after(1, 1));
        coros.push_back(fail_after(2, "second"));
        coros.push_back(value_after(0.5, 3));
        auto results = co_await gather(return_exceptions, std::move(coros));
        static_assert(std::is_same_v<decltype(results), std::vector<Outcome<int>>>);
        CO_ASSERT(results.size() == 3u);
        EXPECT_EQ(results[0].value(), 1);
        EXPECT_FALSE(results[1].has_value());
        EXPECT_THROW(results[1].value(), std::runtime_error);
        EXPECT_EQ(results[2].value(), 3);
    };
    run(main());
}

TEST_F(Gather, ReturnExceptionsWithVoidChildrenGivesOutcomesOfMonostate) {
    auto main = [&]() -> Coro<void> {
        auto [a, b] = co_await gather(return_exceptions, pause(1), fail_after(1, "x"));
        static_assert(std::is_same_v<decltype(a), Outcome<std::monostate>>);
        EXPECT_TRUE(a.has_value());
        EXPECT_FALSE(b.has_value());
    };
    run(main());
}

TEST_F(Gather, ACancelledChildMakesTheGatherRaiseCancelledError) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(1, 1));
        auto b = create_task(value_after(2, 2));
        auto g = gather(a, b);
        co_await sleep(0.5);
        a.cancel("stop a");
        bool raised = false;
        try {
            co_await g;
        } catch (const CancelledError& e) {
            raised = true;
            EXPECT_EQ(e.message(), "stop a");
        }
        EXPECT_TRUE(raised);
        // As asyncio: the gather holds the CancelledError as its exception; it is not itself cancelled.
        EXPECT_FALSE(g.cancelled());
        EXPECT_FALSE(b.done());
        EXPECT_EQ(co_await b, 2);
    };
    run(main());
}

TEST_F(Gather, CancellingTheGatherCancelsEveryChildAndEndsWithCancelledError) {
    auto main = [&]() -> Coro<void> {
        bool first = false, second = false;
        auto g = gather(sleep_noting_cancel(10, &first), sleep_noting_cancel(10, &second));
        co_await sleep(1);
        EXPECT_TRUE(g.cancel("enough"));
        bool raised = false;
        try {
            co_await g;
        } catch (const CancelledError& e) {
            raised = true;
            EXPECT_EQ(e.message(), "enough");
        }
        EXPECT_TRUE(raised);
        EXPECT_TRUE(first);
        EXPECT_TRUE(second);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        EXPECT_FALSE(g.cancel());  // done now
    };
    run(main());
}

TEST_F(Gather, CancellingTheTaskThatAwaitsTheGatherCancelsTheChildren) {
    auto main = [&]() -> Coro<void> {
        bool first = false, second = false;
        auto t = create_task(await_gather_of_two_sleepers(&first, &second));
        co_await sleep(1);
        t.cancel();
        bool raised = false;
        try {
            co_await t;
        } catch (const CancelledError&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_TRUE(t.cancelled());
        EXPECT_TRUE(first);
        EXPECT_TRUE(second);
    };
    run(main());
}

TEST_F(Gather, CancellationWinsOverReturnExceptions) {
    // Issue 32684: a cancelled gather raises CancelledError even with return_exceptions.
    auto main = [&]() -> Coro<void> {
        auto t = create_task(gather_sleeps_forever());
        co_await sleep(0.23);
        t.cancel("my message");
        bool raised = false;
        try {
            co_await t;
        } catch (const CancelledError& e) {
            raised = true;
            EXPECT_EQ(e.message(), "my message");
        }
        EXPECT_TRUE(raised);
        EXPECT_TRUE(t.cancelled());
    };
    run(main());
}

TEST_F(Gather, RefusesCancellationOnceEveryChildIsDone) {
    // test_cancel_gather_1 (issue 26923): the children finished but the gather's
    // own callback has not run yet; cancel() must not drop the result.
    auto main = [&]() -> Coro<void> {
        auto fut = loop().create_future<int>();
        auto g = gather(await_future(fut));
        co_await sleep(0);  // the child task now waits on fut
        bool cancel_result = true;
        fut.add_done_callback([&cancel_result, g] { cancel_result = g.cancel(); });
        fut.set_result(42);
        auto [v] = co_await g;
        EXPECT_EQ(v, 42);
        EXPECT_FALSE(cancel_result);
        EXPECT_FALSE(g.cancelled());
    };
    run(main());
}

TEST_F(Gather, DuplicateChildrenAreAwaitedOnceAndRepeatedInTheResult) {
    auto main = [&]() -> Coro<void> {
        auto t = create_task(value_after(1, 5));
        auto [a, b, c] = co_await gather(t, t, value_after(0.5, 6));
        EXPECT_EQ(a, 5);
        EXPECT_EQ(b, 5);
        EXPECT_EQ(c, 6);

        auto u = create_task(value_after(1, 7));
        auto w = create_task(value_after(2, 8));
        std::vector<Task<int>> with_duplicates{u, w, u, u};
        auto results = co_await gather(with_duplicates);
        EXPECT_EQ(results, (std::vector<int>{7, 8, 7, 7}));
    };
    run(main());
}

TEST_F(Gather, MoveOnlyResultsAreMovedOutOfTheChildren) {
    auto main = [&]() -> Coro<void> {
        auto [p, q] = co_await gather(boxed_after(1, 1), boxed_after(2, 2));
        CO_ASSERT(p);
        CO_ASSERT(q);
        EXPECT_EQ(*p, 1);
        EXPECT_EQ(*q, 2);
    };
    run(main());
}

TEST_F(Gather, FailuresAfterTheFirstAreMarkedRetrieved) {
    // test_exception_marking: once the gather is done, later failures of its
    // children must not be reported as "exception was never retrieved".
    auto main = [&]() -> Coro<void> {
        {
            auto g = gather(fail_after(1, "first"), fail_after(2, "second"));
            std::string what;
            try {
                co_await g;
            } catch (const std::runtime_error& e) {
                what = e.what();
            }
            EXPECT_EQ(what, "first");
            co_await sleep(2);  // the second child fails meanwhile
        }
        co_await sleep(0);
    };
    run(main());
    EXPECT_TRUE(handler_calls.empty());
}

}  // namespace

}  // namespace task_gather_test
