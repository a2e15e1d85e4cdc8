// Tests of Condition (asyncio.Condition, 3.13 semantics), ported from the
// ConditionTests of CPython's Lib/test/test_asyncio/test_locks.py: wait,
// wait_for, notify(n), notify_all, the lock held again after a cancelled
// wait, no lost wake-up when a notified waiter is cancelled, and a Condition
// over a Lock shared with other users.
//
// Where asyncio's tests write `await asyncio.sleep(0)`, these call step():
// exactly one loop iteration.
#include <tulip/sync/condition.hpp>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/sync/lock.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/timeout.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/loop_test.hpp"

namespace sync_condition_test {

using namespace tulip;
using test::all_done;

namespace {

class ConditionTest : public test::WatchdogLoopTest {};

// `await cond.acquire()` in asyncio: the lock stays held after this returns.
Coro<void> acquire_and_keep(Condition& cond) {
    auto held = co_await cond.acquire();
    held.detach();
}

// c1/c2/c3 of test_wait: take the lock, wait, note the id, keep the lock.
Coro<bool> wait_note_keep(Condition& cond, std::vector<int>* order, int id) {
    auto held = co_await cond.acquire();
    held.detach();
    bool woke = co_await cond.wait();  // named first: GCC 12 miscompiles co_await inside an if
    if (woke) order->push_back(id);
    co_return true;
}

// c1/c2/c3 of test_notify: as above, but the lock is released at the end.
Coro<bool> wait_note_release(Condition& cond, std::vector<int>* order, int id) {
    auto held = co_await cond.acquire();
    bool woke = co_await cond.wait();  // named first: GCC 12 miscompiles co_await inside an if
    if (woke) order->push_back(id);
    co_return true;
}

// c1 of test_wait_for.
Coro<bool> wait_for_flag_note(Condition& cond, const bool* flag, std::vector<int>* order, int id) {
    auto held = co_await cond.acquire();
    auto pred = [flag] { return *flag; };
    bool met = co_await cond.wait_for(pred);  // named first: GCC 12 miscompiles co_await inside an if
    if (met) order->push_back(id);
    co_return true;
}

// Waits for the flag; records the message of a CancelledError and re-raises it.
Coro<void> wait_for_flag_record_cancel(Condition& cond, const bool* flag, std::string* message) {
    auto held = co_await cond.acquire();
    try {
        co_await cond.wait_for([flag] { return *flag; });
    } catch (const CancelledError& e) {
        *message = e.message();
        throw;
    }
}

// The consumer of test_cancelled_wakeup: takes one unit of *state per wake-up;
// returns when *state goes negative.
Coro<void> consume_state(Condition& cond, int* state) {
    auto held = co_await cond.acquire();
    for (;;) {
        co_await cond.wait_for([state] { return *state != 0; });
        if (*state < 0) co_return;
        --*state;
    }
}

// Waits until a token is there, takes it, notes the id.
Coro<void> take_token(Condition& cond, int* tokens, std::vector<int>* order, int id) {
    auto held = co_await cond.acquire();
    co_await cond.wait_for([tokens] { return *tokens > 0; });
    --*tokens;
    order->push_back(id);
}

// ---- wait and notify ---------------------------------------------------------

// test_wait, step for step: a notified waiter still needs the lock back.
TEST_F(ConditionTest, NotifiedWaitersReacquireTheLockOneAtATimeInOrder) {
    Condition cond;
    std::vector<int> order;
    auto t1 = loop().create_task(wait_note_keep(cond, &order, 1));
    auto t2 = loop().create_task(wait_note_keep(cond, &order, 2));
    auto t3 = loop().create_task(wait_note_keep(cond, &order, 3));
    step();
    EXPECT_TRUE(order.empty());
    EXPECT_FALSE(cond.locked());  // each waiter released the lock inside wait()

    run(acquire_and_keep(cond));
    cond.notify();
    step();
    EXPECT_TRUE(order.empty());  // t1 is awake but waits for the lock
    EXPECT_TRUE(cond.locked());

    cond.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));
    EXPECT_TRUE(cond.locked());

    cond.notify(2);
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));
    EXPECT_TRUE(cond.locked());

    cond.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_TRUE(cond.locked());

    cond.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(cond.locked());

    for (auto* t : {&t1, &t2, &t3}) {
        ASSERT_TRUE(t->done());
        EXPECT_TRUE(t->result());
    }
    cond.release();
}

// test_notify: notify(1) wakes one; notify(1) then notify(2048) wakes the rest.
TEST_F(ConditionTest, NotifyNWakesAtMostNWaitersThatAreNotAlreadyWoken) {
    Condition cond;
    std::vector<int> order;
    auto t1 = loop().create_task(wait_note_release(cond, &order, 1));
    auto t2 = loop().create_task(wait_note_release(cond, &order, 2));
    auto t3 = loop().create_task(wait_note_release(cond, &order, 3));
    step();
    EXPECT_TRUE(order.empty());

    run(acquire_and_keep(cond));
    cond.notify(1);
    cond.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));

    run(acquire_and_keep(cond));
    cond.notify(1);
    cond.notify(2048);
    cond.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    for (auto* t : {&t1, &t2, &t3}) {
        ASSERT_TRUE(t->done());
        EXPECT_TRUE(t->result());
    }
    EXPECT_FALSE(cond.locked());
}

TEST_F(ConditionTest, NotifyAllWakesEveryWaiter) {
    Condition cond;
    std::vector<int> order;
    auto t1 = loop().create_task(wait_note_release(cond, &order, 1));
    auto t2 = loop().create_task(wait_note_release(cond, &order, 2));
    step();
    EXPECT_TRUE(order.empty());

    run(acquire_and_keep(cond));
    cond.notify_all();
    cond.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_TRUE(t1.done());
    EXPECT_TRUE(t2.done());
}

TEST_F(ConditionTest, NotifyWithNoWaitersDoesNothing) {
    Condition cond;
    run(acquire_and_keep(cond));
    cond.notify();
    cond.notify(5);
    cond.notify_all();
    EXPECT_TRUE(cond.locked());
    cond.release();
}

// ---- errors ------------------------------------------------------------------

TEST_F(ConditionTest, WaitWithoutTheLockThrowsRuntimeError) {
    Condition cond;
    EXPECT_THROW(run(cond.wait()), std::runtime_error);
    EXPECT_FALSE(cond.locked());
}

TEST_F(ConditionTest, NotifyWithoutTheLockThrowsRuntimeError) {
    Condition cond;
    EXPECT_THROW(cond.notify(), std::runtime_error);
    EXPECT_THROW(cond.notify(3), std::runtime_error);
}

TEST_F(ConditionTest, NotifyAllWithoutTheLockThrowsRuntimeError) {
    Condition cond;
    EXPECT_THROW(cond.notify_all(), std::runtime_error);
}

TEST_F(ConditionTest, ReleasingAConditionThatIsNotHeldThrowsRuntimeError) {
    Condition cond;
    EXPECT_THROW(cond.release(), std::runtime_error);
}

// ---- wait_for ----------------------------------------------------------------

// test_wait_for: a notify with the predicate still false sends the waiter back.
TEST_F(ConditionTest, WaitForReturnsOnlyOnceThePredicateHolds) {
    Condition cond;
    bool flag = false;
    std::vector<int> order;
    auto t = loop().create_task(wait_for_flag_note(cond, &flag, &order, 1));
    step();
    EXPECT_TRUE(order.empty());

    run(acquire_and_keep(cond));
    cond.notify();
    cond.release();
    step();
    EXPECT_TRUE(order.empty());
    EXPECT_FALSE(t.done());

    flag = true;
    run(acquire_and_keep(cond));
    cond.notify();
    cond.release();
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));
    ASSERT_TRUE(t.done());
    EXPECT_TRUE(t.result());
    EXPECT_FALSE(cond.locked());
}

// test_wait_for_unacquired: a predicate that already holds needs no lock.
TEST_F(ConditionTest, WaitForWithATruePredicateReturnsWithoutTheLock) {
    Condition cond;
    EXPECT_TRUE(run(cond.wait_for([] { return true; })));
    EXPECT_THROW(run(cond.wait_for([] { return false; })), std::runtime_error);
    EXPECT_FALSE(cond.locked());
}

// asyncio returns the predicate's last value, not just True: a predicate that
// returns what it found (here a pointer) hands it to the waiter.
TEST_F(ConditionTest, WaitForReturnsThePredicatesValue) {
    Condition cond;
    std::vector<int> items;
    const int* found = nullptr;
    // A named lambda: a coroutine lambda's captures live in the lambda
    // object, which must outlive the task.
    auto body = [&]() -> Coro<void> {
        auto held = co_await cond.acquire();
        found = co_await cond.wait_for([&]() -> const int* { return items.empty() ? nullptr : &items.front(); });
    };
    auto t = loop().create_task(body());
    step();
    EXPECT_EQ(found, nullptr);
    run(acquire_and_keep(cond));
    items.push_back(7);
    cond.notify();
    cond.release();
    step(2);
    ASSERT_TRUE(t.done());
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(*found, 7);
}

TEST_F(ConditionTest, WaitForEvaluatesThePredicateOncePerWakeUpWithTheLockHeld) {
    Condition cond;
    int calls = 0;
    int calls_without_lock = 0;
    int value = 0;
    auto waiter = [&]() -> Coro<void> {
        auto held = co_await cond.acquire();
        co_await cond.wait_for([&] {
            ++calls;
            if (!cond.locked()) ++calls_without_lock;
            return value >= 3;
        });
    };
    auto t = loop().create_task(waiter());
    step();
    for (int i = 1; i <= 3; ++i) {
        run(acquire_and_keep(cond));
        value = i;
        cond.notify();
        cond.release();
        step();
    }
    EXPECT_TRUE(t.done());
    EXPECT_EQ(calls, 4);  // once up front, once per notify
    EXPECT_EQ(calls_without_lock, 0);
}

// ---- cancellation ------------------------------------------------------------

// test_wait_cancel: the cancelled wait() has the lock again when it raises.
TEST_F(ConditionTest, ACancelledWaitReacquiresTheLockBeforeRaising) {
    Condition cond;
    run(acquire_and_keep(cond));
    auto t = loop().create_task(cond.wait());
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(cond.locked());
    cond.release();
    EXPECT_FALSE(cond.locked());
}

// test_wait_cancel_contested: notified, then cancelled while it waits for the
// lock, which is released in the same iteration.
TEST_F(ConditionTest, AWaitCancelledWhileContestingTheLockStillEndsWithTheLock) {
    Condition cond;
    run(acquire_and_keep(cond));
    auto t = loop().create_task(cond.wait());
    step();
    EXPECT_FALSE(cond.locked());

    run(acquire_and_keep(cond));
    cond.notify();
    loop().call_soon([&] { t.cancel(); });
    loop().call_soon([&] { cond.release(); });
    try {
        run(t);
    } catch (const CancelledError&) {
        // asyncio allows either outcome here; the lock is what matters.
    }
    EXPECT_TRUE(cond.locked());
    cond.release();
}

// test_wait_cancel_after_notify (bpo-32841).
TEST_F(ConditionTest, AWaiterCancelledWhileReacquiringRaisesOnceItHasTheLock) {
    Condition cond;
    bool waited = false;
    auto wait_on_cond = [&]() -> Coro<void> {
        auto held = co_await cond.acquire();
        waited = true;
        co_await cond.wait();
    };
    auto waiter = loop().create_task(wait_on_cond());
    step();  // waiting

    run(acquire_and_keep(cond));
    cond.notify();
    step();  // now waiting for the lock
    waiter.cancel();
    step();  // the cancellation arrives; the lock is still ours
    EXPECT_FALSE(waiter.done());
    cond.release();
    step();  // it gets the lock, then raises
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(waited);
    EXPECT_FALSE(cond.locked());  // its guard released the lock as it left
}

// test_cancelled_error_wakeup: the message reaches the task unchanged.
TEST_F(ConditionTest, CancellingAWaiterRaisesCancelledErrorWithItsMessage) {
    Condition cond;
    bool wake = false;
    std::string seen;
    auto t = loop().create_task(wait_for_flag_record_cancel(cond, &wake, &seen));
    step();
    t.cancel("foo");
    try {
        run(t);
        ADD_FAILURE() << "the task was not cancelled";
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "foo");
    }
    EXPECT_EQ(seen, "foo");
    EXPECT_FALSE(cond.locked());
}

// test_cancelled_error_re_aquire: cancelled while taking the lock back.
TEST_F(ConditionTest, CancellingAWaiterThatIsReacquiringRaisesWithItsMessage) {
    Condition cond;
    bool wake = false;
    std::string seen;
    auto t = loop().create_task(wait_for_flag_record_cancel(cond, &wake, &seen));
    step();
    run(acquire_and_keep(cond));
    wake = true;
    cond.notify();
    step();  // now waiting for the lock
    t.cancel("foo");
    cond.release();
    try {
        run(t);
        ADD_FAILURE() << "the task was not cancelled";
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "foo");
    }
    EXPECT_EQ(seen, "foo");
    EXPECT_FALSE(cond.locked());
}

// test_cancelled_wakeup: notify(1) picks a consumer that is then cancelled
// before it runs; the notification must reach the other consumer.
TEST_F(ConditionTest, ANotifiedWaiterCancelledBeforeItRunsPassesTheWakeUpOn) {
    Condition cond;
    int state = 0;
    auto c0 = loop().create_task(consume_state(cond, &state));
    auto c1 = loop().create_task(consume_state(cond, &state));
    run(([&]() -> Coro<void> {
        co_await sleep(0);
        auto held = co_await cond.acquire();
        state += 1;
        cond.notify(1);
        c0.cancel();  // while it waits to be run
        try {
            co_await timeout(Seconds(0.01),
                             [&](Timeout&) -> Coro<void> { co_await cond.wait_for([&] { return state == 0; }); });
        } catch (const TimeoutError&) {}
        EXPECT_EQ(state, 0);  // the item was consumed: the wake-up was not lost
        state = -1;
        cond.notify_all();
    })());
    run(c1);
    EXPECT_TRUE(c0.cancelled());
    EXPECT_FALSE(cond.locked());
}

// test_cancelled_wakeup_relock: as above, but the consumer is cancelled while it
// waits to take the lock back.
TEST_F(ConditionTest, ANotifiedWaiterCancelledWhileRelockingPassesTheWakeUpOn) {
    Condition cond;
    int state = 0;
    auto c0 = loop().create_task(consume_state(cond, &state));
    auto c1 = loop().create_task(consume_state(cond, &state));
    run(([&]() -> Coro<void> {
        co_await sleep(0);
        auto held = co_await cond.acquire();
        state += 1;
        cond.notify(1);
        co_await sleep(0);  // c0 wakes and queues for the lock
        c0.cancel();
        try {
            co_await timeout(Seconds(0.01),
                             [&](Timeout&) -> Coro<void> { co_await cond.wait_for([&] { return state == 0; }); });
        } catch (const TimeoutError&) {}
        EXPECT_EQ(state, 0);
        state = -1;
        cond.notify_all();
    })());
    run(c1);
    EXPECT_TRUE(c0.cancelled());
    EXPECT_FALSE(cond.locked());
}

// test_timeout_in_block
TEST_F(ConditionTest, AWaitThatTimesOutReturnsWithTheLockHeld) {
    Condition cond;
    bool timed_out = false;
    run(([&]() -> Coro<void> {
        auto held = co_await cond.acquire();
        try {
            co_await wait_for(cond.wait(), 0.5);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(cond.locked());
    })());
    EXPECT_TRUE(timed_out);
    EXPECT_NEAR(loop().time(), 0.5, 1e-9);
    EXPECT_FALSE(cond.locked());
}

// Waiters are cancelled in the same iteration as a notify(3) that skips them:
// the three others each get a token, in the order they waited.
class ConditionCancelAtPosition : public ConditionTest, public ::testing::WithParamInterface<int> {};

TEST_P(ConditionCancelAtPosition, NotifyReachesEveryOtherWaiterInOrder) {
    const int pos = GetParam();
    Condition cond;
    int tokens = 0;
    std::vector<int> order;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(loop().create_task(take_token(cond, &tokens, &order, i)));
    step();
    run(acquire_and_keep(cond));
    tasks[pos].cancel();
    tokens = 3;
    cond.notify(3);
    cond.release();
    run_until([&] { return all_done(tasks); });

    std::vector<int> expected;
    for (int i = 0; i < 4; ++i)
        if (i != pos) expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_EQ(tokens, 0);
    EXPECT_TRUE(tasks[pos].cancelled());
    EXPECT_FALSE(cond.locked());
}

INSTANTIATE_TEST_SUITE_P(EveryPlace, ConditionCancelAtPosition, ::testing::Range(0, 4));

// The waiter is cancelled after notify(1) chose it: its wake-up passes to the
// next waiter (asyncio 3.13; a spurious wake-up is allowed, a lost one is not).
// Every place that has a waiter behind it.
class ConditionNotifiedCancelAtPosition : public ConditionTest, public ::testing::WithParamInterface<int> {};

TEST_P(ConditionNotifiedCancelAtPosition, ANotifiedWaiterCancelledHandsItsTokenToAnother) {
    const int pos = GetParam();
    Condition cond;
    int tokens = 0;
    std::vector<int> order;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(loop().create_task(take_token(cond, &tokens, &order, i)));
    step();
    // Wake waiters one by one until `pos` is the one notified, then cancel it.
    for (int i = 0; i <= pos; ++i) {
        run(acquire_and_keep(cond));
        tokens += 1;
        cond.notify(1);
        if (i == pos) tasks[pos].cancel();
        cond.release();
        if (i < pos) run_until([&] { return tasks[i].done(); });
    }
    run_until([&] { return tokens == 0; });
    EXPECT_TRUE(tasks[pos].cancelled());
    ASSERT_EQ(order.size(), static_cast<std::size_t>(pos + 1));
    for (int i = 0; i < pos; ++i) EXPECT_EQ(order[i], i);
    EXPECT_EQ(order.back(), pos + 1);  // the next in line took it

    // Let the rest go.
    run(acquire_and_keep(cond));
    tokens = 4;
    cond.notify_all();
    cond.release();
    run_until([&] { return all_done(tasks); });
    EXPECT_FALSE(cond.locked());
}

INSTANTIATE_TEST_SUITE_P(EveryPlaceButTheLast, ConditionNotifiedCancelAtPosition, ::testing::Range(0, 3));

TEST_F(ConditionTest, ANotifiedWaiterCancelledWithNobodyBehindLeavesTheTokenForTheNextComer) {
    Condition cond;
    int tokens = 0;
    std::vector<int> order;
    auto only = loop().create_task(take_token(cond, &tokens, &order, 0));
    step();
    run(acquire_and_keep(cond));
    tokens = 1;
    cond.notify(1);
    only.cancel();
    cond.release();
    step();
    EXPECT_TRUE(only.cancelled());
    EXPECT_EQ(tokens, 1);
    EXPECT_FALSE(cond.locked());
    auto next = loop().create_task(take_token(cond, &tokens, &order, 1));
    step();
    EXPECT_TRUE(next.done());
    EXPECT_EQ(order, (std::vector<int>{1}));
    EXPECT_EQ(tokens, 0);
}

// ---- the lock ----------------------------------------------------------------

// test_explicit_lock
TEST_F(ConditionTest, AConditionOverAGivenLockSharesItsState) {
    Lock lock;
    Condition cond(lock);
    EXPECT_EQ(&cond.lock(), &lock);
    run(([&]() -> Coro<void> {
        {
            auto held = co_await cond.acquire();
            EXPECT_TRUE(lock.locked());
            EXPECT_TRUE(cond.locked());
        }
        EXPECT_FALSE(lock.locked());
        EXPECT_FALSE(cond.locked());
        {
            auto held = co_await lock.acquire();
            EXPECT_TRUE(cond.locked());
        }
        EXPECT_FALSE(cond.locked());
    })());
}

TEST_F(ConditionTest, WaitReleasesASharedLockSoOtherUsersOfTheLockCanRun) {
    Lock lock;
    Condition cond(lock);
    std::vector<std::string> log;
    auto waiter = [&]() -> Coro<void> {
        auto held = co_await lock.acquire();
        log.push_back("waiter waits");
        co_await cond.wait();
        log.push_back("waiter woke with the lock");
        EXPECT_TRUE(lock.locked());
    };
    auto other = [&]() -> Coro<void> {
        auto held = co_await lock.acquire();  // plain Lock user, no Condition
        log.push_back("other has the lock");
        cond.notify();
    };
    run(([&]() -> Coro<void> {
        auto w = create_task(waiter());
        co_await sleep(0);
        auto o = create_task(other());
        co_await o;
        co_await w;
    })());
    EXPECT_EQ(log, (std::vector<std::string>{"waiter waits", "other has the lock", "waiter woke with the lock"}));
    EXPECT_FALSE(lock.locked());
}

// Two Conditions over one Lock (not-empty and not-full of a bounded buffer).
TEST_F(ConditionTest, TwoConditionsOverOneLockRunABoundedBuffer) {
    Lock lock;
    Condition not_empty(lock);
    Condition not_full(lock);
    std::deque<int> buffer;
    constexpr std::size_t kCapacity = 2;
    std::size_t most = 0;
    std::vector<int> received;

    auto producer = [&](int base) -> Coro<void> {
        for (int i = 0; i < 10; ++i) {
            auto held = co_await lock.acquire();
            co_await not_full.wait_for([&] { return buffer.size() < kCapacity; });
            buffer.push_back(base + i);
            most = std::max(most, buffer.size());
            not_empty.notify();
        }
    };
    auto consumer = [&](int count) -> Coro<void> {
        for (int i = 0; i < count; ++i) {
            auto held = co_await lock.acquire();
            co_await not_empty.wait_for([&] { return !buffer.empty(); });
            received.push_back(buffer.front());
            buffer.pop_front();
            not_full.notify();
            held.release();
            co_await sleep(0.001);
        }
    };
    run(([&]() -> Coro<void> {
        std::vector<Task<void>> tasks;
        tasks.push_back(create_task(consumer(15)));
        tasks.push_back(create_task(consumer(15)));
        for (int p = 0; p < 3; ++p) tasks.push_back(create_task(producer(100 * p)));
        for (auto& t : tasks) co_await t;
    })());
    EXPECT_LE(most, kCapacity);
    ASSERT_EQ(received.size(), 30u);
    std::vector<int> sorted = received;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> expected;
    for (int p = 0; p < 3; ++p)
        for (int i = 0; i < 10; ++i) expected.push_back(100 * p + i);
    EXPECT_EQ(sorted, expected);
    EXPECT_TRUE(buffer.empty());
    EXPECT_FALSE(lock.locked());
}

}  // namespace

}  // namespace sync_condition_test
