// Tests of Event (asyncio.Event), ported from the EventTests of CPython's
// Lib/test/test_asyncio/test_locks.py, plus cancellation of a waiter at every
// place in the queue and after set() has woken it.
//
// Where asyncio's tests write `await asyncio.sleep(0)`, these call step():
// exactly one loop iteration.
#include <tulip/sync/event.hpp>

#include <algorithm>
#include <vector>

#include <tulip/task/coro.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/loop_test.hpp"

namespace sync_event_test {

using namespace tulip;
using test::all_done;

namespace {

class EventTest : public test::WatchdogLoopTest {};

Coro<bool> wait_on(Event& ev) { co_return co_await ev.wait(); }

// c1/c2/c3 of test_wait: wait, then note the id.
Coro<bool> wait_note(Event& ev, std::vector<int>* order, int id) {
    bool r = co_await ev.wait();
    if (r) order->push_back(id);
    co_return r;
}

TEST_F(EventTest, SetAndClearFlipTheFlag) {
    Event ev;
    EXPECT_FALSE(ev.is_set());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    ev.clear();
    EXPECT_FALSE(ev.is_set());
}

TEST_F(EventTest, WaitingOnASetEventReturnsTrueWithoutSuspending) {
    Event ev;
    ev.set();
    auto t = loop().create_task(wait_on(ev));
    step();
    ASSERT_TRUE(t.done());
    EXPECT_TRUE(t.result());
}

// test_wait: t3 arrives after set() was called and runs first; t1 and t2 are
// woken in the order they waited.
TEST_F(EventTest, SetWakesEveryWaiterInTheOrderTheyWaited) {
    Event ev;
    std::vector<int> order;
    auto t1 = loop().create_task(wait_note(ev, &order, 1));
    auto t2 = loop().create_task(wait_note(ev, &order, 2));
    step();
    EXPECT_TRUE(order.empty());

    auto t3 = loop().create_task(wait_note(ev, &order, 3));
    ev.set();
    step();
    EXPECT_EQ(order, (std::vector<int>{3, 1, 2}));
    for (auto* t : {&t1, &t2, &t3}) {
        ASSERT_TRUE(t->done());
        EXPECT_TRUE(t->result());
    }
}

TEST_F(EventTest, SetFromATimerWakesTheWaiterAtThatTime) {
    Event ev;
    loop().call_later(2.5, [&] { ev.set(); });
    EXPECT_TRUE(run(wait_on(ev)));
    EXPECT_NEAR(loop().time(), 2.5, 1e-9);
}

// test_wait_cancel
TEST_F(EventTest, ACancelledWaitRaisesCancelledErrorAndLeaves) {
    Event ev;
    auto t = loop().create_task(wait_on(ev));
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(t.cancelled());
    ev.set();  // would touch the departed waiter if it had stayed linked
    EXPECT_TRUE(run(wait_on(ev)));
}

// test_clear_with_waiters: set/clear/set/set before the waiter runs wakes it once.
TEST_F(EventTest, AWaiterWokenBeforeAClearStillReturnsTrueOnce) {
    Event ev;
    std::vector<int> order;
    auto t = loop().create_task(wait_note(ev, &order, 1));
    step();
    EXPECT_TRUE(order.empty());

    ev.set();
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    ev.set();
    ev.set();
    step();
    EXPECT_EQ(order, (std::vector<int>{1}));
    ASSERT_TRUE(t.done());
    EXPECT_TRUE(t.result());
    step();  // a second wake-up of the finished task would run here
    EXPECT_EQ(order, (std::vector<int>{1}));
}

TEST_F(EventTest, AfterClearNewWaitersWaitForTheNextSet) {
    Event ev;
    ev.set();
    ev.clear();
    auto t = loop().create_task(wait_on(ev));
    step(3);
    EXPECT_FALSE(t.done());
    ev.set();
    step();
    EXPECT_TRUE(t.done());
}

// set() wakes the waiter, then the waiter's task is cancelled before it runs:
// as in asyncio it raises CancelledError, and the flag stays set.
TEST_F(EventTest, AWaiterCancelledAfterSetRaisesCancelledErrorAndOthersReturnTrue) {
    Event ev;
    auto t1 = loop().create_task(wait_on(ev));
    auto t2 = loop().create_task(wait_on(ev));
    step();
    ev.set();
    t1.cancel();
    step();
    EXPECT_TRUE(t1.cancelled());
    ASSERT_TRUE(t2.done());
    EXPECT_TRUE(t2.result());
    EXPECT_TRUE(ev.is_set());
}

TEST_F(EventTest, AWaitThatTimesOutLeavesNoWaiterBehind) {
    Event ev;
    auto late = loop().create_task(wait_on(ev));
    bool timed_out = false;
    run(([&]() -> Coro<void> {
        try {
            co_await wait_for(wait_on(ev), 1.0);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
    })());
    EXPECT_TRUE(timed_out);
    EXPECT_NEAR(loop().time(), 1.0, 1e-9);
    EXPECT_FALSE(late.done());
    ev.set();
    EXPECT_TRUE(run(late));
}

TEST_F(EventTest, ACancelledWaiterCanWaitAgainAndSeeTheNextSet) {
    Event ev;
    int cancelled = 0;
    auto twice = [&]() -> Coro<bool> {
        try {
            co_await ev.wait();
        } catch (const CancelledError&) {
            ++cancelled;
        }
        co_return co_await ev.wait();
    };
    auto t = loop().create_task(twice());
    step();
    t.cancel();
    step();
    EXPECT_EQ(cancelled, 1);
    EXPECT_FALSE(t.done());
    ev.set();
    step();
    ASSERT_TRUE(t.done());
    EXPECT_TRUE(t.result());
}

// asyncio's most common Event idiom, `await asyncio.wait_for(event.wait(), t)`:
// the awaiter itself goes to wait_for, no wrapping coroutine needed.
TEST_F(EventTest, EventWaitCanBeGivenToWaitForDirectly) {
    Event ev;
    bool timed_out = false;
    bool woke = false;
    run(([&]() -> Coro<void> {
        try {
            co_await wait_for(ev.wait(), 1.0);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        loop().call_later(0.5, [&] { ev.set(); });
        woke = co_await wait_for(ev.wait(), 1.0);
    })());
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(woke);
    EXPECT_NEAR(loop().time(), 1.5, 1e-9);
}

TEST_F(EventTest, EventWaitsCanBeGathered) {
    Event a;
    Event b;
    loop().call_later(1.0, [&] { a.set(); });
    loop().call_later(2.0, [&] { b.set(); });
    run(([&]() -> Coro<void> {
        auto [x, y] = co_await gather(a.wait(), b.wait());
        EXPECT_TRUE(x);
        EXPECT_TRUE(y);
    })());
    EXPECT_NEAR(loop().time(), 2.0, 1e-9);
}

class EventCancelAtPosition : public EventTest, public ::testing::WithParamInterface<int> {};

TEST_P(EventCancelAtPosition, SetStillWakesEveryOtherWaiter) {
    const int pos = GetParam();
    Event ev;
    std::vector<int> order;
    std::vector<Task<bool>> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(loop().create_task(wait_note(ev, &order, i)));
    step();
    tasks[pos].cancel();
    ev.set();
    run_until([&] { return all_done(tasks); });

    std::vector<int> expected;
    for (int i = 0; i < 4; ++i)
        if (i != pos) expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_TRUE(tasks[pos].cancelled());
}

INSTANTIATE_TEST_SUITE_P(EveryPlace, EventCancelAtPosition, ::testing::Range(0, 4));

}  // namespace

}  // namespace sync_event_test
