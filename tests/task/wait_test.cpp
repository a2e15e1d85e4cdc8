// Tests of wait and as_completed (asyncio.wait, asyncio.as_completed), ported
// from the wait/as_completed parts of CPython's Lib/test/test_asyncio/test_tasks.py.
#include <tulip/task/wait.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_wait_test {

using namespace tulip;
using test::fail_after;
using test::value_after;

namespace {

class Wait : public test::LoopTest {};
class AsCompletedTest : public test::LoopTest {};

Coro<int> await_future(Future<int> fut, int* proof) {
    int v = co_await fut;
    ++*proof;
    co_return v;
}

Coro<void> wait_all(std::vector<Task<int>> tasks, int* proof) {
    co_await wait(std::move(tasks));
    *proof += 100;
}

WaitOptions when(ReturnWhen rw, std::optional<Seconds> timeout = std::nullopt) {
    WaitOptions o;
    o.return_when = rw;
    o.timeout = timeout;
    return o;
}

WaitOptions within(double seconds) {
    WaitOptions o;
    o.timeout = Seconds(seconds);
    return o;
}

// Cancels the task and waits until it is done.
Coro<void> finish(Task<int> t) {
    t.cancel();
    try {
        co_await t;
    } catch (const CancelledError&) {}
}

bool contains(const std::vector<Task<int>>& v, const Task<int>& t) {
    for (auto& x : v)
        if (x == t) return true;
    return false;
}

// ---- wait -----------------------------------------------------------------

TEST_F(Wait, AllCompletedWaitsForEveryFuture) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        auto b = create_task(value_after(0.15, 2));
        // GCC 12.2: a braced temporary inside co_await fails ("array used as initializer").
        std::vector<Task<int>> both{b, a};
        auto [done, pending] = co_await wait(both);
        EXPECT_DOUBLE_EQ(loop().time(), 0.15);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
        EXPECT_EQ(a.result() + b.result(), 3);
    };
    run(main());
}

TEST_F(Wait, AllCompletedIsTheDefaultAndCanBeAskedForExplicitly) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        auto b = create_task(value_after(0.2, 2));
        std::vector<Task<int>> both{a, b};
        auto r = co_await wait(both, when(ALL_COMPLETED));
        EXPECT_DOUBLE_EQ(loop().time(), 0.2);
        EXPECT_EQ(r.done.size(), 2u);
        EXPECT_TRUE(r.pending.empty());
    };
    run(main());
}

TEST_F(Wait, FirstCompletedReturnsAsSoonAsOneIsDone) {
    auto main = [&]() -> Coro<void> {
        auto slow = create_task(value_after(10, 1));
        auto fast = create_task(value_after(0.1, 2));
        std::vector<Task<int>> both{slow, fast};
        auto [done, pending] = co_await wait(both, when(FIRST_COMPLETED));
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        CO_ASSERT(done.size() == 1u);
        CO_ASSERT(pending.size() == 1u);
        EXPECT_TRUE(done[0] == fast);
        EXPECT_TRUE(pending[0] == slow);
        EXPECT_FALSE(slow.done());
        EXPECT_FALSE(slow.cancelled());
        co_await finish(slow);
    };
    run(main());
}

TEST_F(Wait, FirstCompletedWithFuturesAlreadyDoneReturnsThemAll) {
    auto main = [&]() -> Coro<void> {
        auto a = loop().create_future<int>();
        auto b = loop().create_future<int>();
        a.set_result(1);
        b.set_result(2);
        std::vector<Future<int>> both{a, b};
        auto [done, pending] = co_await wait(both, when(FIRST_COMPLETED));
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
        EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    };
    run(main());
}

TEST_F(Wait, FirstExceptionReturnsOnTheFirstFailureWithoutRaisingIt) {
    auto main = [&]() -> Coro<void> {
        auto failing = create_task(fail_after(0.1, "boom"));
        auto slow = create_task(value_after(10, 1));
        std::vector<Task<int>> both{failing, slow};
        auto [done, pending] = co_await wait(both, when(FIRST_EXCEPTION));
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        CO_ASSERT(done.size() == 1u);
        EXPECT_TRUE(done[0] == failing);
        EXPECT_TRUE(contains(pending, slow));
        EXPECT_TRUE(failing.exception() != nullptr);
        co_await finish(slow);
    };
    run(main());
}

TEST_F(Wait, FirstExceptionWithoutAnyFailureWaitsForAll) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        auto b = create_task(value_after(0.2, 2));
        std::vector<Task<int>> both{a, b};
        auto [done, pending] = co_await wait(both, when(FIRST_EXCEPTION));
        EXPECT_DOUBLE_EQ(loop().time(), 0.2);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
    };
    run(main());
}

TEST_F(Wait, FirstExceptionDoesNotCountACancellationAsAFailure) {
    auto main = [&]() -> Coro<void> {
        auto cancelled = create_task(value_after(10, 1));
        auto b = create_task(value_after(0.2, 2));
        cancelled.cancel();
        std::vector<Task<int>> both{cancelled, b};
        auto [done, pending] = co_await wait(both, when(FIRST_EXCEPTION));
        EXPECT_DOUBLE_EQ(loop().time(), 0.2);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(cancelled.cancelled());
    };
    run(main());
}

TEST_F(Wait, FirstExceptionWithAFailureAlreadyThereReturnsWithoutWaiting) {
    auto main = [&]() -> Coro<void> {
        auto failed = loop().create_future<int>();
        failed.set_exception(std::runtime_error("already"));
        auto never = loop().create_future<int>();
        std::vector<Future<int>> both{failed, never};
        auto [done, pending] = co_await wait(both, when(FIRST_EXCEPTION));
        EXPECT_DOUBLE_EQ(loop().time(), 0.0);
        CO_ASSERT(done.size() == 1u);
        EXPECT_TRUE(done[0] == failed);
        EXPECT_TRUE(pending[0] == never);
        EXPECT_TRUE(failed.exception() != nullptr);
    };
    run(main());
}

TEST_F(Wait, TimeoutReturnsWhatIsPendingAndCancelsNothing) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        auto b = create_task(value_after(10, 2));
        std::vector<Task<int>> both{a, b};
        auto [done, pending] = co_await wait(both, within(0.5));
        EXPECT_DOUBLE_EQ(loop().time(), 0.5);
        CO_ASSERT(done.size() == 1u);
        CO_ASSERT(pending.size() == 1u);
        EXPECT_TRUE(done[0] == a);
        EXPECT_TRUE(pending[0] == b);
        EXPECT_FALSE(b.done());
        EXPECT_EQ(co_await b, 2);  // still running, finishes on its own
        EXPECT_DOUBLE_EQ(loop().time(), 10.0);
    };
    run(main());
}

TEST_F(Wait, ReturnsBeforeTheTimeoutWhenEverythingIsDone) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        std::vector<Task<int>> one{a};
        auto [done, pending] = co_await wait(one, within(5));
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        EXPECT_EQ(done.size(), 1u);
        EXPECT_TRUE(pending.empty());
    };
    run(main());
}

TEST_F(Wait, ResultVectorsKeepTheOrderGivenNotTheCompletionOrder) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.2, 1));
        auto b = create_task(value_after(0.1, 2));
        auto c = create_task(value_after(0.3, 3));
        std::vector<Task<int>> all{a, b, c};
        auto [done, pending] = co_await wait(all, within(0.25));
        CO_ASSERT(done.size() == 2u);
        EXPECT_TRUE(done[0] == a);
        EXPECT_TRUE(done[1] == b);
        CO_ASSERT(pending.size() == 1u);
        EXPECT_TRUE(pending[0] == c);
        co_await finish(c);
    };
    run(main());
}

TEST_F(Wait, EmptyInputRaisesInvalidArgument) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> none;
        bool raised = false;
        try {
            co_await wait(none);
        } catch (const std::invalid_argument&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
    };
    run(main());
}

TEST_F(Wait, DuplicatesAreReportedOnce) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        std::vector<Task<int>> twice{a, a};
        auto [done, pending] = co_await wait(twice);
        EXPECT_EQ(done.size(), 1u);
        EXPECT_TRUE(pending.empty());
    };
    run(main());
}

TEST_F(Wait, CancellingTheWaiterDoesNotCancelTheFutures) {
    // test_yield_wait_does_not_shield_cancel: wait() returns early with
    // CancelledError, the inner task runs on.
    auto main = [&]() -> Coro<void> {
        int proof = 0;
        auto fut = loop().create_future<int>();
        auto inner = create_task(await_future(fut, &proof));
        std::vector<Task<int>> tasks{inner};
        auto outer = create_task(wait_all(tasks, &proof));
        co_await sleep(0.1);
        outer.cancel();
        bool raised = false;
        try {
            co_await outer;
        } catch (const CancelledError&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_FALSE(inner.done());
        fut.set_result(5);
        EXPECT_EQ(co_await inner, 5);
        EXPECT_EQ(proof, 1);
    };
    run(main());
}

// ---- as_completed -----------------------------------------------------------

TEST_F(AsCompletedTest, YieldsFuturesInCompletionOrder) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> tasks{create_task(value_after(0.3, 3)), create_task(value_after(0.1, 1)),
                                     create_task(value_after(0.2, 2))};
        auto it = as_completed(tasks);
        EXPECT_EQ(it.remaining(), 3u);
        std::vector<int> order;
        std::vector<double> times;
        while (it.remaining()) {
            auto f = co_await it.next();
            order.push_back(co_await f);
            times.push_back(loop().time());
        }
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        CO_ASSERT(times.size() == 3u);
        EXPECT_DOUBLE_EQ(times[0], 0.1);
        EXPECT_DOUBLE_EQ(times[1], 0.2);
        EXPECT_DOUBLE_EQ(times[2], 0.3);
        EXPECT_EQ(it.remaining(), 0u);
    };
    run(main());
}

TEST_F(AsCompletedTest, RemainingCountsWhatNextHasNotHandedOut) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> tasks{create_task(value_after(0.1, 1)), create_task(value_after(0.2, 2))};
        auto it = as_completed(tasks);
        co_await sleep(1);  // both done, none handed out
        EXPECT_EQ(it.remaining(), 2u);
        (void)co_await it.next();
        EXPECT_EQ(it.remaining(), 1u);
        (void)co_await it.next();
        EXPECT_EQ(it.remaining(), 0u);
    };
    run(main());
}

TEST_F(AsCompletedTest, TimeoutRaisesTimeoutErrorOnceItPasses) {
    auto main = [&]() -> Coro<void> {
        auto fast = create_task(value_after(0.1, 1));
        auto slow = create_task(value_after(10, 2));
        std::vector<Task<int>> both{fast, slow};
        auto it = as_completed(both, Seconds(1));
        auto first = co_await it.next();
        EXPECT_TRUE(first == fast);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        bool timed_out = false;
        try {
            (void)co_await it.next();
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        EXPECT_EQ(it.remaining(), 0u);  // each next() counts when called (asyncio's _todo_left)
        EXPECT_FALSE(slow.done());      // as_completed cancels nothing
        co_await finish(slow);
    };
    run(main());
}

TEST_F(AsCompletedTest, AlreadyDoneFuturesAreYieldedToo) {
    auto main = [&]() -> Coro<void> {
        auto done = loop().create_future<int>();
        done.set_result(1);
        auto later = loop().create_future<int>();
        loop().call_later(0.5, [later] { later.set_result(2); });
        std::vector<Future<int>> both{later, done};
        auto it = as_completed(both);
        auto a = co_await it.next();
        auto b = co_await it.next();
        EXPECT_TRUE(a == done);
        EXPECT_TRUE(b == later);
        EXPECT_EQ(b.result(), 2);
    };
    run(main());
}

TEST_F(AsCompletedTest, DuplicatesAreYieldedOnce) {
    auto main = [&]() -> Coro<void> {
        auto a = create_task(value_after(0.1, 1));
        std::vector<Task<int>> twice{a, a};
        auto it = as_completed(twice);
        EXPECT_EQ(it.remaining(), 1u);
        auto f = co_await it.next();
        EXPECT_EQ(co_await f, 1);
        EXPECT_EQ(it.remaining(), 0u);
    };
    run(main());
}

TEST_F(AsCompletedTest, FailedFuturesAreYieldedAndRaiseWhenAwaited) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> tasks{create_task(fail_after(0.1, "first")), create_task(value_after(0.2, 2))};
        auto it = as_completed(tasks);
        auto f = co_await it.next();
        bool raised = false;
        try {
            (void)co_await f;
        } catch (const std::runtime_error& e) {
            raised = true;
            EXPECT_STREQ(e.what(), "first");
        }
        EXPECT_TRUE(raised);
        auto g = co_await it.next();
        EXPECT_EQ(co_await g, 2);
    };
    run(main());
}

TEST_F(AsCompletedTest, NextPastTheEndRaisesOutOfRange) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> none;
        auto empty = as_completed(none);
        EXPECT_EQ(empty.remaining(), 0u);
        bool raised = false;
        try {
            (void)co_await empty.next();
        } catch (const std::out_of_range&) {
            raised = true;
        }
        EXPECT_TRUE(raised);

        std::vector<Task<int>> one{create_task(value_after(0.1, 1))};
        auto it = as_completed(one);
        (void)co_await it.next();
        raised = false;
        try {
            (void)co_await it.next();
        } catch (const std::out_of_range&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
    };
    run(main());
}

}  // namespace

}  // namespace task_wait_test
