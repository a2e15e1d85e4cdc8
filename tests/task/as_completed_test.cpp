// Tests of as_completed as asyncio 3.13 has it: completed futures are handed
// through a queue, so any number of next() calls may wait at once; each call
// counts when it is made; the timeout raises TimeoutError for every future
// still pending; next_result() is the plain-iteration form (awaitables that
// resolve to results). Cases after CPython's Lib/test/test_asyncio/test_tasks.py
// (test_as_completed_*).
#include <tulip/task/wait.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_as_completed_test {

using namespace tulip;
using test::fail_after;
using test::value_after;

// Results of co_await are named before they are tested (GCC 12: no co_await
// inside a condition, which EXPECT_* expands to).

namespace {

class AsCompleted313 : public test::WatchdogLoopTest {};

// Waits on it.next() and records which future it got and when.
Coro<void> take_next(AsCompleted<Future<int>>* it, std::vector<int>* got, int who) {
    Future<int> f = co_await it->next();
    got->push_back(who * 100 + f.result());
}

TEST_F(AsCompleted313, AnyNumberOfTasksMayWaitOnNextAtOnce) {
    auto main = [&]() -> Coro<void> {
        std::vector<Future<int>> fs{loop().create_future<int>(), loop().create_future<int>(),
                                    loop().create_future<int>()};
        auto it = as_completed(fs);
        std::vector<int> got;
        std::vector<Task<void>> waiters;
        for (int who = 1; who <= 3; ++who) waiters.push_back(create_task(take_next(&it, &got, who)));
        co_await sleep(0);  // all three wait on next() now
        EXPECT_EQ(it.remaining(), 0u);
        loop().call_later(0.1, [f = fs[2]] { f.set_result(3); });
        loop().call_later(0.2, [f = fs[0]] { f.set_result(1); });
        loop().call_later(0.3, [f = fs[1]] { f.set_result(2); });
        for (auto& w : waiters) co_await w;
        // Each waiter got its own future, in the order the waiters called next().
        EXPECT_EQ(got, (std::vector<int>{103, 201, 302}));
    };
    run(main());
}

TEST_F(AsCompleted313, AWaiterCancelledAfterItWasWokenPassesItsFutureOn) {
    auto main = [&]() -> Coro<void> {
        std::vector<Future<int>> fs{loop().create_future<int>(), loop().create_future<int>()};
        auto it = as_completed(fs);
        std::vector<int> got;
        auto first = create_task(take_next(&it, &got, 1));
        auto second = create_task(take_next(&it, &got, 2));
        co_await sleep(0);
        // In one callback: the first future completes (waking the first
        // waiter), then the first waiter is cancelled before it runs.
        loop().call_soon([&] {
            fs[0].set_result(7);
            first.cancel();
        });
        co_await second;  // would hang if the future were lost with the cancelled waiter
        EXPECT_EQ(got, (std::vector<int>{207}));
        bool cancelled = false;
        try {
            co_await first;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        fs[1].set_result(0);
    };
    run(main());
}

TEST_F(AsCompleted313, EachNextCountsWhenCalledAndOneTooManyRaisesOutOfRange) {
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> tasks{create_task(value_after(0.2, 2)), create_task(value_after(0.1, 1))};
        auto it = as_completed(tasks);
        Coro<Task<int>> a = it.next();
        Coro<Task<int>> b = it.next();
        EXPECT_EQ(it.remaining(), 0u);  // asyncio's _todo_left drops when __anext__ is called
        bool out_of_range = false;
        try {
            (void)co_await it.next();
        } catch (const std::out_of_range&) {
            out_of_range = true;
        }
        EXPECT_TRUE(out_of_range);
        Task<int> fa = co_await std::move(a);
        Task<int> fb = co_await std::move(b);
        EXPECT_EQ(fa.result(), 1);
        EXPECT_EQ(fb.result(), 2);
    };
    run(main());
}

TEST_F(AsCompleted313, TheTimeoutRaisesTimeoutErrorForEveryFutureStillPending) {
    auto main = [&]() -> Coro<void> {
        auto fast = create_task(value_after(0.1, 1));
        auto slow1 = create_task(value_after(10, 2));
        auto slow2 = create_task(value_after(10, 3));
        std::vector<Task<int>> all{slow1, fast, slow2};
        auto it = as_completed(all, Seconds(1));
        // As `for f in as_completed(..., timeout=1)` would: the loop ends after
        // one future and two TimeoutErrors, it does not spin.
        int results = 0;
        int timeouts = 0;
        std::vector<double> times;
        for (int i = 0; i < 10 && it.remaining(); ++i) {  // bounded: a count that never drops must fail, not hang
            try {
                auto f = co_await it.next();
                EXPECT_TRUE(f == fast);
                ++results;
            } catch (const TimeoutError&) {
                ++timeouts;
            }
            times.push_back(loop().time());
        }
        EXPECT_EQ(results, 1);
        EXPECT_EQ(timeouts, 2);
        EXPECT_EQ(times, (std::vector<double>{0.1, 1.0, 1.0}));
        EXPECT_FALSE(slow1.done());  // as_completed cancels nothing
        slow1.cancel();
        slow2.cancel();
        for (auto* t : {&slow1, &slow2}) {
            try {
                co_await *t;
            } catch (const CancelledError&) {}
        }
    };
    run(main());
}

TEST_F(AsCompleted313, ConcurrentWaitersAllGetTimeoutError) {
    auto main = [&]() -> Coro<void> {
        std::vector<Future<int>> fs{loop().create_future<int>(), loop().create_future<int>()};
        auto it = as_completed(fs, Seconds(0.5));
        std::vector<int> got;
        auto a = create_task(take_next(&it, &got, 1));
        auto b = create_task(take_next(&it, &got, 2));
        int timeouts = 0;
        for (auto* t : {&a, &b}) {
            try {
                co_await *t;
            } catch (const TimeoutError&) {
                ++timeouts;
            }
        }
        EXPECT_EQ(timeouts, 2);
        EXPECT_DOUBLE_EQ(loop().time(), 0.5);
        EXPECT_TRUE(got.empty());
        fs[0].cancel();
        fs[1].cancel();
    };
    run(main());
}

TEST_F(AsCompleted313, NextResultGivesAwaitablesThatResolveInCompletionOrder) {
    // 3.13's plain `for aw in as_completed(...)`: take every awaitable first,
    // then await them; the i-th resolves to the i-th result to complete.
    auto main = [&]() -> Coro<void> {
        std::vector<Task<int>> tasks{create_task(value_after(0.3, 3)), create_task(fail_after(0.2, "second")),
                                     create_task(value_after(0.1, 1))};
        auto it = as_completed(tasks);
        std::vector<Coro<int>> aws;
        while (it.remaining()) aws.push_back(it.next_result());
        EXPECT_EQ(aws.size(), 3u);
        {
            auto got = co_await std::move(aws[0]);
            EXPECT_EQ(got, 1);
        }
        bool raised = false;
        try {
            (void)co_await std::move(aws[1]);
        } catch (const std::runtime_error& e) {
            raised = true;
            EXPECT_STREQ(e.what(), "second");
        }
        EXPECT_TRUE(raised);
        {
            auto got = co_await std::move(aws[2]);
            EXPECT_EQ(got, 3);
        }
    };
    run(main());
}

TEST_F(AsCompleted313, CoroutinesAreWrappedInTasksAndThoseTasksAreYielded) {
    auto main = [&]() -> Coro<void> {
        std::vector<Coro<int>> coros;
        coros.push_back(value_after(0.2, 2));
        coros.push_back(value_after(0.1, 1));
        auto it = as_completed(std::move(coros));
        std::vector<int> order;
        while (it.remaining()) {
            Task<int> t = co_await it.next();
            EXPECT_TRUE(t.done());
            order.push_back(t.result());
        }
        EXPECT_EQ(order, (std::vector<int>{1, 2}));
    };
    run(main());
}

}  // namespace

}  // namespace task_as_completed_test
