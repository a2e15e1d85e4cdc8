// Tests of Lock (asyncio.Lock), ported from the LockTests of CPython's
// Lib/test/test_asyncio/test_locks.py, plus the cancellation cases that
// DESIGN.md asks for: a waiter cancelled at every place in the queue, and a
// waiter cancelled after it was woken, which must hand the lock on.
//
// Where asyncio's tests write `await asyncio.sleep(0)` to let the other tasks
// take one step, these tests call step(): exactly one loop iteration.
#include <tulip/sync/lock.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/loop_test.hpp"

namespace sync_lock_test {

using namespace tulip;
using test::acquire_and_keep;
using test::acquire_keep_note;
using test::all_done;

namespace {

class LockTest : public test::WatchdogLoopTest {};

// lockit of test_cancel_race: hold the lock while awaiting `blocker` (if any).
Coro<void> hold_until(Lock& lock, Future<void> blocker) {
    auto held = co_await lock.acquire();
    if (blocker) co_await blocker;
}

// Takes the lock, notes the id, yields once, releases.
Coro<void> take_note_release(Lock& lock, std::vector<int>* order, int id) {
    auto held = co_await lock.acquire();
    order->push_back(id);
    co_await sleep(0);
}

// Holds the lock for `seconds` of (virtual) time.
Coro<void> hold_for(Lock& lock, double seconds) {
    auto held = co_await lock.acquire();
    co_await sleep(seconds);
}

Coro<Lock::Guard> take(Lock& lock) { co_return co_await lock.acquire(); }

// True if the lock was had within `timeout`, false on TimeoutError.
Coro<bool> acquire_within(Lock& lock, double timeout) {
    try {
        auto held = co_await wait_for(take(lock), timeout);
        co_return held.owns_lock();
    } catch (const TimeoutError&) {
        co_return false;
    }
}

// ---- basics ------------------------------------------------------------------

TEST_F(LockTest, AFreeLockIsTakenAtOnceAndTheGuardReleasesIt) {
    Lock lock;
    EXPECT_FALSE(lock.locked());
    run(([&]() -> Coro<void> {
        {
            auto held = co_await lock.acquire();
            EXPECT_TRUE(held.owns_lock());
            EXPECT_TRUE(lock.locked());
        }
        EXPECT_FALSE(lock.locked());
    })());
}

TEST_F(LockTest, AcquiringAFreeLockDoesNotSuspendTheTask) {
    Lock lock;
    auto t = loop().create_task(acquire_and_keep(lock));
    step();  // the task's first step takes the lock and finishes
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(lock.locked());
    lock.release();
}

TEST_F(LockTest, ReleaseWithNoWaitersUnlocks) {
    Lock lock;
    EXPECT_TRUE(run(acquire_and_keep(lock)));
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
}

TEST_F(LockTest, ReleasingAnUnlockedLockThrowsRuntimeError) {
    Lock lock;
    try {
        lock.release();
        ADD_FAILURE() << "release() of an unlocked Lock did not throw";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "Lock is not acquired.");
    }
    EXPECT_FALSE(lock.locked());
}

TEST_F(LockTest, ReleasingTwiceThrowsTheSecondTime) {
    Lock lock;
    run(acquire_and_keep(lock));
    lock.release();
    EXPECT_THROW(lock.release(), std::runtime_error);
}

// Releasing the lock by hand and then letting the guard go is a bug in the
// caller; it must cost a logged error, not std::terminate from a throwing
// destructor.
TEST_F(LockTest, AGuardWhoseLockWasReleasedByHandLogsInsteadOfThrowing) {
    Lock lock;
    run(([&]() -> Coro<void> {
        auto g = co_await lock.acquire();
        lock.release();
    })());
    EXPECT_FALSE(lock.locked());
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_NE(logs[0].find("Lock is not acquired."), std::string::npos) << logs[0];
    logs.clear();
}

TEST_F(LockTest, GuardReleaseIsIdempotentAndDetachKeepsTheLockHeld) {
    Lock lock;
    run(([&]() -> Coro<void> {
        auto g = co_await lock.acquire();
        g.release();
        EXPECT_FALSE(g.owns_lock());
        EXPECT_FALSE(lock.locked());
        g.release();  // no second release of the lock: it would throw
        EXPECT_FALSE(lock.locked());

        auto kept = co_await lock.acquire();
        kept.detach();
    })());
    EXPECT_TRUE(lock.locked());  // the detached guard left it held
    lock.release();
}

TEST_F(LockTest, AMovedGuardReleasesExactlyOnce) {
    Lock lock;
    run(([&]() -> Coro<void> {
        Lock::Guard outer;
        {
            auto inner = co_await lock.acquire();
            outer = std::move(inner);
            EXPECT_FALSE(inner.owns_lock());
        }
        EXPECT_TRUE(lock.locked());  // the moved-from guard did not release
        EXPECT_TRUE(outer.owns_lock());
    })());
    EXPECT_FALSE(lock.locked());
}

// ---- FIFO --------------------------------------------------------------------

// test_acquire, step for step.
TEST_F(LockTest, WaitersGetTheLockInArrivalOrderOneReleaseAtATime) {
    Lock lock;
    std::vector<int> order;
    EXPECT_TRUE(run(acquire_and_keep(lock)));

    auto t1 = loop().create_task(acquire_keep_note(lock, &order, 1));
    auto t2 = loop().create_task(acquire_keep_note(lock, &order, 2));
    step();
    EXPECT_TRUE(order.empty());

    lock.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));

    auto t3 = loop().create_task(acquire_keep_note(lock, &order, 3));
    lock.release();
    step();  // t3 runs first but queues behind t2, which was already woken
    EXPECT_EQ(order, (std::vector<int>{1, 2}));

    lock.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));

    for (auto* t : {&t1, &t2, &t3}) {
        ASSERT_TRUE(t->done());
        EXPECT_TRUE(t->result());
    }
    lock.release();
}

TEST_F(LockTest, ANewcomerDoesNotBargeAheadOfAWokenWaiter) {
    Lock lock;
    std::vector<int> order;
    run(acquire_and_keep(lock));
    auto first = loop().create_task(acquire_keep_note(lock, &order, 1));
    step();
    auto newcomer = loop().create_task(acquire_keep_note(lock, &order, 2));
    lock.release();  // wakes `first`; the lock is free until it runs
    EXPECT_FALSE(lock.locked());
    step();  // `newcomer` runs before `first` and still has to queue
    EXPECT_EQ(order, (std::vector<int>{1}));
    EXPECT_FALSE(newcomer.done());
    lock.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_TRUE(newcomer.done());
    lock.release();
}

TEST_F(LockTest, ManyTasksPassThroughOneAtATimeInFifoOrder) {
    Lock lock;
    std::vector<int> order;
    int inside = 0;
    int most_inside = 0;
    auto worker = [&](int id) -> Coro<void> {
        auto held = co_await lock.acquire();
        most_inside = std::max(most_inside, ++inside);
        order.push_back(id);
        co_await sleep(0.1);
        --inside;
    };
    run(([&]() -> Coro<void> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < 10; ++i) tasks.push_back(create_task(worker(i)));
        for (auto& t : tasks) co_await t;
    })());
    EXPECT_EQ(most_inside, 1);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_NEAR(loop().time(), 1.0, 1e-9);
    EXPECT_FALSE(lock.locked());
}

// ---- cancellation ------------------------------------------------------------

TEST_F(LockTest, ACancelledAcquireLeavesTheLockWithItsHolder) {
    Lock lock;
    run(acquire_and_keep(lock));
    auto t = loop().create_task(acquire_and_keep(lock));
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(lock.locked());
    lock.release();  // the cancelled waiter is gone: nobody to wake
    EXPECT_FALSE(lock.locked());
    EXPECT_TRUE(run(acquire_and_keep(lock)));
    lock.release();
}

// test_cancel_race: B is cancelled while A releases; the lock must go to C.
TEST_F(LockTest, ReleaseSkipsAWaiterCancelledInTheSameIteration) {
    Lock lock;
    auto fa = loop().create_future<void>();
    auto ta = loop().create_task(hold_until(lock, fa));
    step();
    EXPECT_TRUE(lock.locked());
    auto tb = loop().create_task(hold_until(lock, {}));
    step();
    auto tc = loop().create_task(hold_until(lock, {}));
    step();

    fa.set_result();
    tb.cancel();
    step();
    EXPECT_FALSE(lock.locked());  // C is woken but has not run yet
    EXPECT_TRUE(ta.done());
    EXPECT_TRUE(tb.cancelled());
    EXPECT_FALSE(tc.done());
    run(tc);
    EXPECT_FALSE(lock.locked());
}

// test_cancel_release_race (bpo-32734): cancel the first waiter and release in
// one callback; exactly one task must end up with the lock.
TEST_F(LockTest, CancellingTheFirstWaiterWhileReleasingGivesTheLockToOneTaskOnly) {
    Lock lock;
    int calls = 0;
    int owners = 0;
    auto lockit = [&]() -> Coro<void> {
        ++calls;
        auto held = co_await lock.acquire();
        held.detach();
        ++owners;
    };
    run(acquire_and_keep(lock));
    auto t1 = loop().create_task(lockit());
    auto t2 = loop().create_task(lockit());
    auto t3 = loop().create_task(lockit());
    step();
    loop().call_soon([&] {
        t1.cancel();
        lock.release();
    });
    EXPECT_THROW(run(t1), CancelledError);
    EXPECT_EQ(owners, 1);
    EXPECT_EQ(calls, 3);
    EXPECT_TRUE(t1.cancelled());
    EXPECT_TRUE(t2.done());
    EXPECT_FALSE(t3.done());
    t3.cancel();
    step();
    EXPECT_TRUE(t3.cancelled());
    lock.release();
}

// test_finished_waiter_cancelled: the only waiter is cancelled as the lock is
// released; a task that arrives next takes the lock at once.
TEST_F(LockTest, ANewcomerTakesAFreeLockWhenEveryWaiterIsCancelled) {
    Lock lock;
    run(acquire_and_keep(lock));
    auto tb = loop().create_task(acquire_and_keep(lock));
    step();
    auto tc = loop().create_task(acquire_and_keep(lock));
    tb.cancel();
    lock.release();
    step();
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(tb.cancelled());
    EXPECT_TRUE(tc.done());
    EXPECT_TRUE(run(tc));
    lock.release();
}

// The waiter was woken by release() and then cancelled before it ran: it must
// not keep the lock, and the next waiter must get it (no lost wake-up).
TEST_F(LockTest, AWaiterCancelledAfterBeingWokenPassesTheLockOn) {
    Lock lock;
    std::vector<int> order;
    run(acquire_and_keep(lock));
    auto tb = loop().create_task(acquire_keep_note(lock, &order, 2));
    auto tc = loop().create_task(acquire_keep_note(lock, &order, 3));
    step();
    lock.release();  // wakes tb
    tb.cancel();     // too late for its waiter: tb sees CancelledError when it resumes
    step();
    EXPECT_TRUE(tb.cancelled());
    EXPECT_FALSE(lock.locked());  // tc has been woken in turn
    EXPECT_FALSE(tc.done());
    step();
    EXPECT_TRUE(tc.done());
    EXPECT_TRUE(lock.locked());
    EXPECT_EQ(order, (std::vector<int>{3}));
    lock.release();
    EXPECT_FALSE(lock.locked());
}

TEST_F(LockTest, AWokenWaiterCancelledWithNobodyBehindLeavesTheLockFree) {
    Lock lock;
    run(acquire_and_keep(lock));
    auto t = loop().create_task(acquire_and_keep(lock));
    step();
    lock.release();
    t.cancel();
    step();
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(lock.locked());
    EXPECT_TRUE(run(acquire_and_keep(lock)));
    lock.release();
}

TEST_F(LockTest, AnAcquireThatTimesOutLeavesNoWaiterBehind) {
    Lock lock;
    auto holder = loop().create_task(hold_for(lock, 10));
    auto impatient = loop().create_task(acquire_within(lock, 1));
    auto patient = loop().create_task(acquire_within(lock, 20));
    EXPECT_FALSE(run(impatient));
    EXPECT_NEAR(loop().time(), 1.0, 1e-9);
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(run(patient));  // the lock went to the next live waiter
    EXPECT_NEAR(loop().time(), 10.0, 1e-9);
    EXPECT_TRUE(holder.done());
    EXPECT_FALSE(lock.locked());
}

// `await asyncio.wait_for(lock.acquire(), t)`: the awaiter goes to wait_for as is.
TEST_F(LockTest, AnAcquireCanBeGivenToWaitForDirectly) {
    Lock lock;
    auto holder = loop().create_task(hold_for(lock, 2));
    bool timed_out = false;
    bool got = false;
    run(([&]() -> Coro<void> {
        try {
            auto held = co_await wait_for(lock.acquire(), 1.0);
            ADD_FAILURE() << "acquired a held lock";
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        auto held = co_await wait_for(lock.acquire(), 5.0);
        got = held.owns_lock();
        EXPECT_NEAR(loop().time(), 2.0, 1e-9);
    })());
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(got);
    EXPECT_TRUE(holder.done());
    EXPECT_FALSE(lock.locked());
}

// A waiter cancelled at each place in a queue of five: the others still get
// the lock in arrival order and it ends up free.
class LockCancelAtPosition : public LockTest, public ::testing::WithParamInterface<int> {};

TEST_P(LockCancelAtPosition, TheOtherWaitersStillGetTheLockInOrder) {
    const int pos = GetParam();
    Lock lock;
    std::vector<int> order;
    run(acquire_and_keep(lock));
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(loop().create_task(take_note_release(lock, &order, i)));
    step();
    tasks[pos].cancel();
    lock.release();  // in the same iteration as the cancellation
    run_until([&] { return all_done(tasks); });

    std::vector<int> expected;
    for (int i = 0; i < 5; ++i)
        if (i != pos) expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_TRUE(tasks[pos].cancelled());
    EXPECT_FALSE(lock.locked());
}

TEST_P(LockCancelAtPosition, TheOtherWaitersStillGetTheLockWhenCancelledWhileQueued) {
    const int pos = GetParam();
    Lock lock;
    std::vector<int> order;
    run(acquire_and_keep(lock));
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(loop().create_task(take_note_release(lock, &order, i)));
    step();
    tasks[pos].cancel();
    step();  // the cancelled waiter leaves the queue while the lock is still held
    EXPECT_TRUE(tasks[pos].cancelled());
    EXPECT_TRUE(lock.locked());
    lock.release();
    run_until([&] { return all_done(tasks); });

    std::vector<int> expected;
    for (int i = 0; i < 5; ++i)
        if (i != pos) expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_FALSE(lock.locked());
}

INSTANTIATE_TEST_SUITE_P(EveryPlace, LockCancelAtPosition, ::testing::Range(0, 5));

}  // namespace

}  // namespace sync_lock_test
