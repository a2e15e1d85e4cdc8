// Cases of CPython 3.13's Lib/test/test_asyncio/test_locks.py that the other
// sync tests check only in part: a Condition waiter's CancelledError reaches
// the task as the very object the waiter raised (not a copy with the same
// message), and one acquire that succeeds hands the surplus of a
// Semaphore on to the waiters queued behind it.
#include <tulip/sync/condition.hpp>
#include <tulip/sync/semaphore.hpp>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

#include "support/loop_test.hpp"

namespace sync_conformance_locks_test {

using namespace tulip;

namespace {

class ConformanceLocksTest : public test::WatchdogLoopTest {
protected:
    // Runs t, which must end in CancelledError("foo"), and checks that it
    // raises `raised`, the object its coroutine raised, not a copy.
    void expect_raises_the_same_cancelled_error(Task<void>& t, const std::exception_ptr& raised) {
        try {
            run(t);
            ADD_FAILURE() << "the task was not cancelled";
        } catch (const CancelledError& e) {
            EXPECT_EQ(e.message(), "foo");
            EXPECT_TRUE(std::current_exception() == raised) << "the task raised another object than its coroutine";
        }
    }
};

// func of test_cancelled_error_wakeup / _re_aquire: waits for the flag under
// the lock, keeps the CancelledError it gets and raises that same object.
Coro<void> wait_for_flag_keep_error(Condition& cond, const bool* flag, std::exception_ptr* raised) {
    auto held = co_await cond.acquire();
    try {
        co_await cond.wait_for([flag] { return *flag; });
    } catch (const CancelledError&) {
        *raised = std::current_exception();
        throw;
    }
}

// test_cancelled_error_wakeup
TEST_F(ConformanceLocksTest, AConditionWaiterCancelledWhileWaitingRaisesTheSameCancelledErrorObject) {
    Condition cond;
    bool wake = false;
    std::exception_ptr raised;
    auto t = loop().create_task(wait_for_flag_keep_error(cond, &wake, &raised));
    step();
    t.cancel("foo");
    expect_raises_the_same_cancelled_error(t, raised);
    EXPECT_FALSE(cond.locked());
}

// test_cancelled_error_re_aquire
TEST_F(ConformanceLocksTest, AConditionWaiterCancelledWhileRelockingRaisesTheSameCancelledErrorObject) {
    Condition cond;
    bool wake = false;
    std::exception_ptr raised;
    auto t = loop().create_task(wait_for_flag_keep_error(cond, &wake, &raised));
    step();
    run(test::acquire_and_keep(cond));
    wake = true;
    cond.notify();
    step();  // the waiter now waits for the lock
    t.cancel("foo");
    cond.release();
    expect_raises_the_same_cancelled_error(t, raised);
    EXPECT_FALSE(cond.locked());
}

// test_acquire_fifo_order_4: c2 releases three units while c1 is the only
// waiter, then queues behind it with c3; c1's successful acquire wakes both,
// and a task c1 creates runs after them.
struct FifoOrder4 {
    explicit FifoOrder4(EventLoop& l) : loop(l) {}
    EventLoop& loop;  // step() runs the loop without making it the running one
    Semaphore sem{0};
    std::vector<int> result;
    std::optional<Task<bool>> t4;

    Coro<bool> c4() {
        result.push_back(4);
        co_return true;
    }
    Coro<bool> c1() {
        EXPECT_EQ(sem.value(), 0);
        auto slot = co_await sem.acquire();
        slot.detach();
        EXPECT_EQ(sem.value(), 0) << "c1 should have woken every waiter it could";
        t4 = loop.create_task(c4());
        result.push_back(1);
        co_return true;
    }
    Coro<bool> c2() {
        sem.release();
        sem.release();
        sem.release();
        EXPECT_EQ(sem.value(), 2);
        EXPECT_TRUE(sem.locked());  // c1 was granted a unit but has not run yet
        auto slot = co_await sem.acquire();
        slot.detach();
        result.push_back(2);
        co_return true;
    }
    Coro<bool> c3() {
        auto slot = co_await sem.acquire();
        slot.detach();
        EXPECT_TRUE(sem.locked());
        result.push_back(3);
        co_return true;
    }
};

TEST_F(ConformanceLocksTest, AnAcquireThatSucceedsWakesTheWaitersBehindItWhileUnitsAreLeft) {
    FifoOrder4 s(loop());
    auto t1 = loop().create_task(s.c1());
    auto t2 = loop().create_task(s.c2());
    auto t3 = loop().create_task(s.c3());
    step();
    EXPECT_EQ(s.sem.value(), 2);
    run_until([&] { return t1.done() && t2.done() && t3.done() && s.t4 && s.t4->done(); });
    EXPECT_EQ(s.result, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(s.sem.value(), 0);
}

}  // namespace

}  // namespace sync_conformance_locks_test
