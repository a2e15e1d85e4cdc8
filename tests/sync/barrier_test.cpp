// Tests of Barrier (asyncio.Barrier, 3.11+), ported from the BarrierTests of
// CPython's Lib/test/test_asyncio/test_locks.py: wait indices, parties,
// n_waiting and broken, draining, reset() waking waiters with
// BrokenBarrierError, abort(), and a cancelled waiter leaving the barrier.
//
// Where asyncio's tests write `await asyncio.sleep(0)`, these call step():
// exactly one loop iteration.
#include <tulip/sync/barrier.hpp>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <tulip/task/coro.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>

#include "support/loop_test.hpp"

namespace sync_barrier_test {

using namespace tulip;

namespace {

constexpr std::size_t kN = 5;  // asyncio's tests use self.N = 5

class BarrierTest : public test::WatchdogLoopTest {
protected:
    // Runs n tasks of `coro_fn()` to completion (asyncio's gather_tasks).
    template <class F>
    auto gather_tasks(std::size_t n, F coro_fn) {
        using T = typename decltype(coro_fn())::value_type;
        std::vector<Task<T>> tasks;
        for (std::size_t i = 0; i < n; ++i) tasks.push_back(loop().create_task(coro_fn()));
        run_until([&] { return all_done(tasks); });
        if (!all_done(tasks)) {
            // Failed already; do not leave tasks behind that use this test's locals.
            for (auto& t : tasks) t.cancel();
            for (int i = 0; i < 1000 && !all_done(tasks); ++i) step();
        }
        return tasks;
    }
    template <class T>
    static bool all_done(const std::vector<Task<T>>& tasks) {
        return std::all_of(tasks.begin(), tasks.end(), [](const Task<T>& t) { return t.done(); });
    }
};

std::vector<std::size_t> iota(std::size_t n) {
    std::vector<std::size_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = i;
    return v;
}

// ---- construction and the simple cases --------------------------------------

TEST_F(BarrierTest, PartiesMustBeAtLeastOne) {
    EXPECT_THROW(Barrier(0), std::invalid_argument);
    Barrier b(kN);
    EXPECT_EQ(b.parties(), kN);
    EXPECT_EQ(b.n_waiting(), 0u);
    EXPECT_FALSE(b.broken());
}

// test_context_manager
TEST_F(BarrierTest, EveryPartyIsReleasedWithADistinctIndex) {
    Barrier barrier(3);
    std::vector<std::size_t> indices;
    auto tasks = gather_tasks(3, [&]() -> Coro<void> { indices.push_back(co_await barrier.wait()); });
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, iota(3));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

TEST_F(BarrierTest, IndicesFollowTheOrderOfArrival) {
    Barrier barrier(kN);
    std::vector<Task<std::size_t>> tasks;
    for (std::size_t i = 0; i < kN; ++i) {
        tasks.push_back(loop().create_task(barrier.wait()));
        step();  // this task arrives before the next is created
    }
    run_until([&] { return all_done(tasks); });
    for (std::size_t i = 0; i < kN; ++i) EXPECT_EQ(tasks[i].result(), i);
}

// test_filling_one_task
TEST_F(BarrierTest, ABarrierOfOnePartyNeverBlocks) {
    Barrier barrier(1);
    EXPECT_EQ(run(barrier.wait()), 0u);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_filling_one_task_twice
TEST_F(BarrierTest, ABarrierOfOnePartyReleasesEachTaskInItsFirstStep) {
    Barrier barrier(1);
    auto t1 = loop().create_task(barrier.wait());
    step();
    ASSERT_TRUE(t1.done());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    auto t2 = loop().create_task(barrier.wait());
    step();
    ASSERT_TRUE(t2.done());
    EXPECT_EQ(t1.result(), t2.result());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_filling_task_by_task
TEST_F(BarrierTest, NWaitingCountsTheTasksThatArrived) {
    Barrier barrier(3);
    auto t1 = loop().create_task(barrier.wait());
    step();
    EXPECT_EQ(barrier.n_waiting(), 1u);
    auto t2 = loop().create_task(barrier.wait());
    step();
    EXPECT_EQ(barrier.n_waiting(), 2u);
    EXPECT_FALSE(t1.done());
    auto t3 = loop().create_task(barrier.wait());
    step();
    EXPECT_EQ(barrier.n_waiting(), 0u);  // draining now: nobody counts as waiting
    run_until([&] { return t1.done() && t2.done() && t3.done(); });
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_filling_tasks_wait_twice and test_filling_tasks_check_return_value
TEST_F(BarrierTest, TheSameTasksCanPassTheBarrierTwice) {
    Barrier barrier(kN);
    int first = 0;
    int second = 0;
    auto tasks = gather_tasks(kN, [&]() -> Coro<std::size_t> {
        co_await barrier.wait();
        ++first;
        std::size_t i = co_await barrier.wait();
        ++second;
        co_return i;
    });
    EXPECT_EQ(first, static_cast<int>(kN));
    EXPECT_EQ(second, static_cast<int>(kN));
    std::vector<std::size_t> indices;
    for (auto& t : tasks) indices.push_back(t.result());
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, iota(kN));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_blocking_tasks_while_draining: tasks that come back while the barrier
// still drains wait for the draining to end.
TEST_F(BarrierTest, TasksArrivingWhileItDrainsWaitForTheNextRound) {
    constexpr int kRewait = 2;
    Barrier barrier(kN);
    Barrier barrier_nowaiting(kN - kRewait);
    int rewait_n = kRewait;
    int done = 0;
    auto tasks = gather_tasks(kN, [&]() -> Coro<void> {
        co_await barrier.wait();
        if (rewait_n > 0) {
            --rewait_n;
            co_await barrier.wait();  // waits for the three below
        } else {
            co_await barrier_nowaiting.wait();
            co_await barrier.wait();
        }
        ++done;
    });
    EXPECT_EQ(done, static_cast<int>(kN));
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

// ---- cancellation ------------------------------------------------------------

// test_filling_tasks_cancel_one
TEST_F(BarrierTest, ACancelledWaiterLeavesTheBarrierAndANewcomerTakesItsPlace) {
    Barrier barrier(3);
    int passed = 0;
    auto coro = [&]() -> Coro<void> {
        co_await barrier.wait();
        ++passed;
    };
    auto t1 = loop().create_task(coro());
    step();
    EXPECT_EQ(barrier.n_waiting(), 1u);
    auto t2 = loop().create_task(coro());
    step();
    EXPECT_EQ(barrier.n_waiting(), 2u);

    t1.cancel();
    step();
    EXPECT_EQ(barrier.n_waiting(), 1u);
    EXPECT_TRUE(t1.cancelled());

    auto t3 = loop().create_task(coro());
    step();
    EXPECT_EQ(barrier.n_waiting(), 2u);
    EXPECT_EQ(passed, 0);
    auto t4 = loop().create_task(coro());
    run_until([&] { return t2.done() && t3.done() && t4.done(); });
    EXPECT_EQ(passed, 3);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

TEST_F(BarrierTest, CancellingEveryWaiterEmptiesTheBarrier) {
    Barrier barrier(kN);
    std::vector<Task<std::size_t>> tasks;
    for (std::size_t i = 0; i < kN - 1; ++i) tasks.push_back(loop().create_task(barrier.wait()));
    step();
    EXPECT_EQ(barrier.n_waiting(), kN - 1);
    for (auto& t : tasks) t.cancel();
    run_until([&] { return all_done(tasks); });
    for (auto& t : tasks) EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
    // A full round still works afterwards.
    auto again = gather_tasks(kN, [&]() -> Coro<std::size_t> { co_return co_await barrier.wait(); });
    std::vector<std::size_t> indices;
    for (auto& t : again) indices.push_back(t.result());
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, iota(kN));
}

// ---- reset -------------------------------------------------------------------

// test_reset_barrier
TEST_F(BarrierTest, ResettingAnEmptyBarrierChangesNothing) {
    Barrier barrier(1);
    auto t = loop().create_task(barrier.reset());
    step();
    EXPECT_TRUE(t.done());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_reset_barrier_while_tasks_waiting
TEST_F(BarrierTest, ResetWakesTheWaitersWithBrokenBarrierError) {
    Barrier barrier(kN);
    int broken_seen = 0;
    auto coro = [&]() -> Coro<void> {
        try {
            co_await barrier.wait();
        } catch (const BrokenBarrierError&) {
            ++broken_seen;
        }
    };
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kN - 1; ++i) tasks.push_back(loop().create_task(coro()));
    step();
    EXPECT_EQ(barrier.n_waiting(), kN - 1);
    auto resetter = loop().create_task(barrier.reset());
    run_until([&] { return all_done(tasks) && resetter.done(); });
    EXPECT_EQ(broken_seen, static_cast<int>(kN - 1));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());  // reset is not abort: the barrier is usable
    auto again = gather_tasks(kN, [&]() -> Coro<std::size_t> { co_return co_await barrier.wait(); });
    EXPECT_EQ(again.size(), kN);
}

// test_reset_barrier_when_tasks_half_draining: asyncio's test resets when
// barrier._count says N//2 tasks are still inside; here the task that leaves
// third knows the same thing.
TEST_F(BarrierTest, ResetWhileHalfTheTasksAreStillDrainingBreaksOnlyThose) {
    Barrier barrier(kN);
    constexpr std::size_t kStillInside = kN / 2;
    int broken_seen = 0;
    std::size_t left = 0;
    gather_tasks(kN, [&]() -> Coro<void> {
        try {
            co_await barrier.wait();
        } catch (const BrokenBarrierError&) {
            ++broken_seen;
            co_return;
        }
        if (++left == kN - kStillInside) co_await barrier.reset();
    });
    EXPECT_EQ(broken_seen, static_cast<int>(kStillInside));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_reset_barrier_when_tasks_half_draining_half_blocking
TEST_F(BarrierTest, ResetWhileSomeTasksDrainAndOthersWaitAgain) {
    Barrier barrier(kN);
    constexpr int kBlocking = static_cast<int>(kN / 2);
    int results1 = 0;
    int results2 = 0;
    int count = 0;
    gather_tasks(kN, [&]() -> Coro<void> {
        bool broke = false;
        try {
            co_await barrier.wait();
        } catch (const BrokenBarrierError&) {
            broke = true;
        }
        if (broke) {
            ++results1;
            co_await barrier.wait();  // wait again to make up the parties
            co_return;
        }
        if (++count > kBlocking) {
            co_await barrier.reset();  // the waiting tasks get BrokenBarrierError
            co_await barrier.wait();
        } else {
            try {
                co_await barrier.wait();
            } catch (const BrokenBarrierError&) {
                ++results2;
            }
        }
    });
    EXPECT_EQ(results1, kBlocking);
    EXPECT_EQ(results2, 0);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_reset_barrier_while_tasks_waiting_and_waiting_again
TEST_F(BarrierTest, TasksBrokenByResetCanWaitAgainAndPass) {
    Barrier barrier(kN);
    int results1 = 0;
    int results2 = 0;
    auto coro1 = [&]() -> Coro<void> {
        try {
            co_await barrier.wait();
        } catch (const BrokenBarrierError&) {
            ++results1;
        }
        co_await barrier.wait();
        ++results2;
    };
    auto coro2 = [&]() -> Coro<void> {
        co_await barrier.wait();
        ++results2;
    };
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kN - 1; ++i) tasks.push_back(loop().create_task(coro1()));
    auto resetter = loop().create_task(barrier.reset());
    step();
    tasks.push_back(loop().create_task(coro2()));
    run_until([&] { return all_done(tasks) && resetter.done(); });
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(results1, static_cast<int>(kN - 1));
    EXPECT_EQ(results2, static_cast<int>(kN));
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

// test_reset_barrier_while_tasks_draining
TEST_F(BarrierTest, ResetByTheLastTaskOutDoesNotBreakTheNextRound) {
    Barrier barrier(kN);
    int results1 = 0;
    int results2 = 0;
    int results3 = 0;
    std::size_t count = 0;
    gather_tasks(kN, [&]() -> Coro<void> {
        co_await barrier.wait();
        if (++count == kN) {
            co_await barrier.reset();  // the last one out
            co_await barrier.wait();
        } else {
            try {
                co_await barrier.wait();
                ++results1;
            } catch (const std::exception&) {
                ++results2;
            }
        }
        co_await barrier.wait();
        ++results3;
    });
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(results1, static_cast<int>(kN - 1));
    EXPECT_EQ(results2, 0);
    EXPECT_EQ(results3, static_cast<int>(kN));
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

// ---- abort -------------------------------------------------------------------

// test_abort_barrier
TEST_F(BarrierTest, AbortBreaksTheBarrier) {
    Barrier barrier(1);
    auto t = loop().create_task(barrier.abort());
    step();
    EXPECT_TRUE(t.done());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_TRUE(barrier.broken());
}

TEST_F(BarrierTest, WaitingOnAnAbortedBarrierRaisesBrokenBarrierErrorAtOnce) {
    Barrier barrier(2);
    run(barrier.abort());
    EXPECT_THROW(run(barrier.wait()), BrokenBarrierError);
    EXPECT_THROW(run(barrier.wait()), BrokenBarrierError);
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST_F(BarrierTest, AbortWakesEveryWaiterWithBrokenBarrierError) {
    Barrier barrier(kN);
    std::vector<Task<std::size_t>> tasks;
    for (std::size_t i = 0; i < kN - 1; ++i) tasks.push_back(loop().create_task(barrier.wait()));
    step();
    run(barrier.abort());
    run_until([&] { return all_done(tasks); });
    for (auto& t : tasks) EXPECT_THROW(t.result(), BrokenBarrierError);
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

// test_abort_barrier_when_tasks_half_draining_half_blocking
TEST_F(BarrierTest, AbortWhileSomeTasksDrainAndOthersWaitAgainBreaksThemAll) {
    Barrier barrier(kN);
    constexpr int kBlocking = static_cast<int>(kN / 2);
    int results1 = 0;
    int results2 = 0;
    int count = 0;
    gather_tasks(kN, [&]() -> Coro<void> {
        try {
            co_await barrier.wait();
        } catch (const BrokenBarrierError&) {
            ++results1;  // still draining when the abort came
            co_return;
        }
        if (++count > kBlocking) {
            co_await barrier.abort();
        } else {
            try {
                co_await barrier.wait();
            } catch (const BrokenBarrierError&) {
                ++results2;  // already out, waiting again
            }
        }
    });
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(results1, kBlocking);
    EXPECT_EQ(results2, static_cast<int>(kN) - kBlocking - 1);
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

// test_abort_barrier_when_exception (threading's lock_tests.test_reset)
TEST_F(BarrierTest, ATaskThatFailsAndAbortsBreaksTheOthers) {
    Barrier barrier(kN);
    int results1 = 0;
    int results2 = 0;
    gather_tasks(kN, [&]() -> Coro<void> {
        bool failed = false;
        try {
            std::size_t i = co_await barrier.wait();
            if (i == kN / 2) throw std::runtime_error("boom");
            co_await barrier.wait();
            ++results1;
        } catch (const BrokenBarrierError&) {
            ++results2;
        } catch (const std::runtime_error&) {
            failed = true;
        }
        if (failed) co_await barrier.abort();
    });
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(results1, 0);
    EXPECT_EQ(results2, static_cast<int>(kN - 1));
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

// test_abort_barrier_when_exception_then_resetting (lock_tests.test_abort_and_reset)
TEST_F(BarrierTest, ResetAfterAbortMakesTheBarrierUsableAgain) {
    Barrier barrier1(kN);
    Barrier barrier2(kN);
    int results1 = 0;
    int results2 = 0;
    int results3 = 0;
    gather_tasks(kN, [&]() -> Coro<void> {
        bool failed = false;
        try {
            std::size_t i = co_await barrier1.wait();
            if (i == kN / 2) throw std::runtime_error("boom");
            co_await barrier1.wait();
            ++results1;
        } catch (const BrokenBarrierError&) {
            ++results2;
        } catch (const std::runtime_error&) {
            failed = true;
        }
        if (failed) co_await barrier1.abort();
        // Everyone out before the reset, and nobody back in before it is done.
        std::size_t i = co_await barrier2.wait();
        if (i == kN / 2) co_await barrier1.reset();
        co_await barrier2.wait();
        co_await barrier1.wait();
        ++results3;
    });
    EXPECT_FALSE(barrier1.broken());
    EXPECT_EQ(results1, 0);
    EXPECT_EQ(results2, static_cast<int>(kN - 1));
    EXPECT_EQ(results3, static_cast<int>(kN));
    EXPECT_EQ(barrier1.n_waiting(), 0u);
}

}  // namespace

}  // namespace sync_barrier_test
