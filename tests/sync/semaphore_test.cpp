// Tests of Semaphore and BoundedSemaphore (asyncio.Semaphore,
// asyncio.BoundedSemaphore), ported from the SemaphoreTests of CPython's
// Lib/test/test_asyncio/test_locks.py: FIFO order even while the value is
// positive, a waiter cancelled before or after it was granted a unit, and
// BoundedSemaphore's over-release error.
//
// Where asyncio's tests write `await asyncio.sleep(0)`, these call step():
// exactly one loop iteration.
#include <tulip/sync/semaphore.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/task/coro.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/task_group.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/loop_test.hpp"

namespace sync_semaphore_test {

using namespace tulip;
using test::acquire_and_keep;
using test::acquire_keep_note;
using test::all_done;

namespace {

class SemaphoreTest : public test::WatchdogLoopTest {};

// Takes a unit, notes the id, yields once, gives the unit back.
Coro<void> take_note_release(Semaphore& sem, std::vector<int>* order, int id) {
    auto slot = co_await sem.acquire();
    order->push_back(id);
    co_await sleep(0);
}

// The coro of test_acquire_fifo_order: two rounds of take, note, sleep, release.
Coro<void> two_rounds(Semaphore& sem, std::vector<std::string>* order, std::string tag) {
    {
        auto slot = co_await sem.acquire();
        order->push_back(tag + "_1");
        co_await sleep(0.01);
    }
    auto slot = co_await sem.acquire();
    order->push_back(tag + "_2");
    co_await sleep(0.01);
}

// c2 of test_acquire_fifo_order_2: take, note 2, give back, take again, note 4.
Coro<bool> take_give_back_take(Semaphore& sem, std::vector<int>* order) {
    auto slot = co_await sem.acquire();
    order->push_back(2);
    slot.release();
    auto again = co_await sem.acquire();
    again.detach();
    order->push_back(4);
    co_return true;
}

// ---- construction and basics -------------------------------------------------

TEST_F(SemaphoreTest, AnInitialValueOfZeroIsLocked) {
    Semaphore sem(0);
    EXPECT_TRUE(sem.locked());
    EXPECT_EQ(sem.value(), 0);
}

TEST_F(SemaphoreTest, TheDefaultValueIsOneAndUnlocked) {
    Semaphore sem;
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

TEST_F(SemaphoreTest, ANegativeInitialValueThrowsInvalidArgument) {
    EXPECT_THROW(Semaphore(-1), std::invalid_argument);
    EXPECT_THROW(BoundedSemaphore(-1), std::invalid_argument);
}

TEST_F(SemaphoreTest, ReleaseWithNoWaitersRaisesTheValue) {
    Semaphore sem;
    run(acquire_and_keep(sem));
    EXPECT_TRUE(sem.locked());
    sem.release();
    EXPECT_FALSE(sem.locked());
    sem.release();  // a plain Semaphore may go above its initial value
    EXPECT_EQ(sem.value(), 2);
}

TEST_F(SemaphoreTest, TheGuardGivesTheUnitBackWhenItGoesOutOfScope) {
    Semaphore sem(2);
    run(([&]() -> Coro<void> {
        {
            auto a = co_await sem.acquire();
            auto b = co_await sem.acquire();
            EXPECT_TRUE(a.owns());
            EXPECT_EQ(sem.value(), 0);
            EXPECT_TRUE(sem.locked());
            b.release();
            EXPECT_FALSE(b.owns());
            EXPECT_EQ(sem.value(), 1);
        }
        EXPECT_EQ(sem.value(), 2);
    })());
}

// ---- BoundedSemaphore --------------------------------------------------------

TEST_F(SemaphoreTest, BoundedSemaphoreReleasedPastItsInitialValueThrowsInvalidArgument) {
    BoundedSemaphore sem;
    try {
        sem.release();
        ADD_FAILURE() << "over-release did not throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "BoundedSemaphore released too many times");
    }
    EXPECT_EQ(sem.value(), 1);
}

TEST_F(SemaphoreTest, BoundedSemaphoreAllowsReleasesUpToItsBound) {
    BoundedSemaphore sem(2);
    run(acquire_and_keep(sem));
    run(acquire_and_keep(sem));
    EXPECT_TRUE(sem.locked());
    sem.release();
    sem.release();
    EXPECT_EQ(sem.value(), 2);
    EXPECT_THROW(sem.release(), std::invalid_argument);
    EXPECT_EQ(sem.value(), 2);
}

TEST_F(SemaphoreTest, BoundedSemaphoreGuardsReleaseWithinTheBound) {
    BoundedSemaphore sem(1);
    std::vector<int> order;
    run(([&]() -> Coro<void> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < 3; ++i) tasks.push_back(create_task(take_note_release(sem, &order, i)));
        for (auto& t : tasks) co_await t;
    })());
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(sem.value(), 1);
}

// ---- acquire and FIFO --------------------------------------------------------

// test_acquire, step for step (tulip is deterministic where asyncio's test
// only counts: the two releases go to t2 and t3, which waited first).
TEST_F(SemaphoreTest, ReleasesGrantUnitsToTheWaitersInArrivalOrder) {
    Semaphore sem(3);
    std::vector<int> order;
    EXPECT_TRUE(run(acquire_and_keep(sem)));
    EXPECT_TRUE(run(acquire_and_keep(sem)));
    EXPECT_FALSE(sem.locked());

    auto t1 = loop().create_task(acquire_keep_note(sem, &order, 1));
    auto t2 = loop().create_task(acquire_keep_note(sem, &order, 2));
    auto t3 = loop().create_task(acquire_keep_note(sem, &order, 3));
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));
    EXPECT_TRUE(sem.locked());
    EXPECT_EQ(sem.value(), 0);

    auto t4 = loop().create_task(acquire_keep_note(sem, &order, 4));
    sem.release();
    sem.release();
    EXPECT_EQ(sem.value(), 0);  // both units already promised to t2 and t3

    step();
    EXPECT_EQ(sem.value(), 0);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(sem.locked());
    EXPECT_TRUE(t1.done());
    EXPECT_TRUE(t2.done());
    EXPECT_TRUE(t3.done());
    EXPECT_FALSE(t4.done());

    sem.release();
    EXPECT_TRUE(run(t4));
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

// test_acquire_fifo_order
TEST_F(SemaphoreTest, TasksThatComeBackForMoreQueueBehindTheOthers) {
    Semaphore sem(1);
    std::vector<std::string> order;
    run(task_group([&](TaskGroup& tg) -> Coro<void> {
        tg.create_task(two_rounds(sem, &order, "c1"));
        tg.create_task(two_rounds(sem, &order, "c2"));
        tg.create_task(two_rounds(sem, &order, "c3"));
        co_return;
    }));
    EXPECT_EQ(order, (std::vector<std::string>{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
    EXPECT_NEAR(loop().time(), 0.06, 1e-9);
}

// test_acquire_fifo_order_2: the value is positive while t3 (granted, not yet
// run) is still queued, and t2's new acquire must wait behind it.
TEST_F(SemaphoreTest, ANewAcquireWaitsBehindGrantedWaitersEvenWhileTheValueIsPositive) {
    Semaphore sem(1);
    std::vector<int> order;
    auto t1 = loop().create_task(acquire_keep_note(sem, &order, 1));
    auto t2 = loop().create_task(take_give_back_take(sem, &order));
    auto t3 = loop().create_task(acquire_keep_note(sem, &order, 3));
    step();
    sem.release();
    sem.release();
    run_until([&] { return t1.done() && t2.done() && t3.done(); });
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(sem.value(), 0);
}

TEST_F(SemaphoreTest, LockedIsTrueWhileALiveWaiterIsQueuedEvenIfTheValueIsPositive) {
    Semaphore sem(0);
    std::vector<int> order;
    auto waiter = loop().create_task(acquire_keep_note(sem, &order, 1));
    step();
    auto newcomer = loop().create_task(acquire_keep_note(sem, &order, 2));
    sem.release();  // granted to `waiter`
    sem.release();  // nobody left to grant: the value stays at 1
    EXPECT_EQ(sem.value(), 1);
    EXPECT_TRUE(sem.locked());  // `waiter` is still queued
    step();                     // `newcomer` runs first and queues; `waiter` then wakes it
    EXPECT_EQ(order, (std::vector<int>{1}));
    EXPECT_FALSE(newcomer.done());
    step();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_EQ(sem.value(), 0);
}

// ---- cancellation ------------------------------------------------------------

// test_acquire_cancel
TEST_F(SemaphoreTest, ACancelledAcquireTakesNothing) {
    Semaphore sem;
    run(acquire_and_keep(sem));
    auto t = loop().create_task(acquire_and_keep(sem));
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_EQ(sem.value(), 0);
    sem.release();
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

// test_acquire_cancel_before_awoken: two cancelled at the head, one release:
// the unit skips them and goes to t3, not t4.
TEST_F(SemaphoreTest, AReleaseSkipsWaitersCancelledBeforeTheyWereWoken) {
    Semaphore sem(0);
    auto t1 = loop().create_task(acquire_and_keep(sem));
    auto t2 = loop().create_task(acquire_and_keep(sem));
    auto t3 = loop().create_task(acquire_and_keep(sem));
    auto t4 = loop().create_task(acquire_and_keep(sem));
    step();
    t1.cancel();
    t2.cancel();
    sem.release();
    step(2);
    EXPECT_TRUE(t1.cancelled());
    EXPECT_TRUE(t2.cancelled());
    EXPECT_TRUE(t3.done());
    EXPECT_FALSE(t4.done());
    EXPECT_EQ(sem.value(), 0);
    t4.cancel();
    step();
    EXPECT_TRUE(t4.cancelled());
}

// test_acquire_hang
TEST_F(SemaphoreTest, AReleaseAfterTheFirstWaiterIsCancelledGoesToTheSecond) {
    Semaphore sem(0);
    auto t1 = loop().create_task(acquire_and_keep(sem));
    auto t2 = loop().create_task(acquire_and_keep(sem));
    step();
    t1.cancel();
    sem.release();
    step(2);
    EXPECT_TRUE(sem.locked());
    EXPECT_TRUE(t1.cancelled());
    EXPECT_TRUE(t2.done());
}

// test_acquire_no_hang: c2 is granted the unit and cancelled before it runs;
// the unit must come back.
TEST_F(SemaphoreTest, AWaiterCancelledAfterBeingGrantedGivesTheUnitBack) {
    Semaphore sem(1);
    Task<void> t2;
    bool c2_ran = false;
    auto c1 = [&]() -> Coro<void> {
        {
            auto slot = co_await sem.acquire();
            co_await sleep(0);
        }
        t2.cancel();
    };
    auto c2 = [&]() -> Coro<void> {
        auto slot = co_await sem.acquire();
        c2_ran = true;
    };
    auto t1 = loop().create_task(c1());
    t2 = loop().create_task(c2());
    run_until([&] { return t1.done() && t2.done(); });
    EXPECT_FALSE(t1.cancelled());
    EXPECT_TRUE(t2.cancelled());
    EXPECT_FALSE(c2_ran);
    EXPECT_EQ(sem.value(), 1);
    EXPECT_TRUE(run(wait_for(acquire_and_keep(sem), 1.0)));
}

TEST_F(SemaphoreTest, AGrantedWaiterThatIsCancelledPassesTheUnitToTheNextWaiter) {
    Semaphore sem(0);
    auto a = loop().create_task(acquire_and_keep(sem));
    auto b = loop().create_task(acquire_and_keep(sem));
    step();
    sem.release();  // granted to a
    a.cancel();     // before a runs
    step();
    EXPECT_TRUE(a.cancelled());
    EXPECT_FALSE(b.done());  // woken by a as it left, runs next
    EXPECT_EQ(sem.value(), 0);
    step();
    EXPECT_TRUE(b.done());
    EXPECT_EQ(sem.value(), 0);
}

// test_acquire_fifo_order_3: a cancelled head waiter; two releases go to the
// next two in order.
TEST_F(SemaphoreTest, ReleasesAfterACancelledHeadGoToTheRestInOrder) {
    Semaphore sem(0);
    std::vector<int> order;
    auto t1 = loop().create_task(acquire_keep_note(sem, &order, 1));
    auto t2 = loop().create_task(acquire_keep_note(sem, &order, 2));
    auto t3 = loop().create_task(acquire_keep_note(sem, &order, 3));
    step();
    t1.cancel();
    step();
    sem.release();
    sem.release();
    run_until([&] { return t1.done() && t2.done() && t3.done(); });
    EXPECT_TRUE(t1.cancelled());
    EXPECT_EQ(order, (std::vector<int>{2, 3}));
}

TEST_F(SemaphoreTest, AnAcquireThatTimesOutLeavesTheValueAsItWas) {
    Semaphore sem(0);
    bool timed_out = false;
    run(([&]() -> Coro<void> {
        try {
            co_await wait_for(acquire_and_keep(sem), 1.0);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
    })());
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(sem.value(), 0);
    sem.release();
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());  // no stale waiter holds the queue
}

TEST_F(SemaphoreTest, AGrantThatRacesATimeoutIsNotLost) {
    Semaphore sem(0);
    std::vector<int> order;
    // Same deadline as the wait_for below, scheduled first: release, then timeout.
    loop().call_later(1.0, [&] { sem.release(); });
    auto impatient = loop().create_task(wait_for(acquire_and_keep(sem), 1.0));
    auto patient = loop().create_task(acquire_keep_note(sem, &order, 2));
    EXPECT_THROW(run(impatient), TimeoutError);
    run_until([&] { return patient.done(); });
    EXPECT_EQ(order, (std::vector<int>{2}));
    EXPECT_EQ(sem.value(), 0);
}

// `await asyncio.wait_for(sem.acquire(), t)`: the awaiter goes to wait_for as is.
TEST_F(SemaphoreTest, AnAcquireCanBeGivenToWaitForDirectly) {
    Semaphore sem(0);
    bool timed_out = false;
    run(([&]() -> Coro<void> {
        try {
            auto slot = co_await wait_for(sem.acquire(), 1.0);
            ADD_FAILURE() << "acquired a unit of an empty semaphore";
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        loop().call_later(1.0, [&] { sem.release(); });
        auto slot = co_await wait_for(sem.acquire(), 5.0);
        EXPECT_TRUE(slot.owns());
        EXPECT_EQ(sem.value(), 0);
    })());
    EXPECT_TRUE(timed_out);
    EXPECT_NEAR(loop().time(), 2.0, 1e-9);
    EXPECT_EQ(sem.value(), 1);
}

class SemaphoreCancelAtPosition : public SemaphoreTest, public ::testing::WithParamInterface<int> {};

TEST_P(SemaphoreCancelAtPosition, TheOtherWaitersStillGetUnitsInOrder) {
    const int pos = GetParam();
    Semaphore sem(0);
    std::vector<int> order;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(loop().create_task(take_note_release(sem, &order, i)));
    step();
    tasks[pos].cancel();
    sem.release();
    run_until([&] { return all_done(tasks); });

    std::vector<int> expected;
    for (int i = 0; i < 5; ++i)
        if (i != pos) expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_TRUE(tasks[pos].cancelled());
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

TEST_P(SemaphoreCancelAtPosition, AGrantedWaiterCancelledAtAnyPlaceLosesNoUnit) {
    const int pos = GetParam();
    Semaphore sem(0);
    std::vector<int> order;
    std::vector<Task<bool>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(loop().create_task(acquire_keep_note(sem, &order, i)));
    step();
    for (int i = 0; i < 5; ++i) sem.release();  // every waiter is granted a unit
    EXPECT_EQ(sem.value(), 0);
    tasks[pos].cancel();  // too late for its grant
    run_until([&] { return all_done(tasks); });

    std::vector<int> expected;
    for (int i = 0; i < 5; ++i)
        if (i != pos) expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_TRUE(tasks[pos].cancelled());
    EXPECT_EQ(sem.value(), 1);  // the cancelled waiter's unit came back
}

INSTANTIATE_TEST_SUITE_P(EveryPlace, SemaphoreCancelAtPosition, ::testing::Range(0, 5));

}  // namespace

}  // namespace sync_semaphore_test
