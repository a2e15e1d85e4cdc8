// Tests of Queue, LifoQueue and PriorityQueue (asyncio.Queue & co, 3.13),
// ported from CPython's Lib/test/test_asyncio/test_queues.py: ordering,
// maxsize, blocking put/get, the _nowait forms, task_done/join, shutdown,
// cancelled getters and putters (no item lost, none added), wait_for timeouts,
// and many items through a bounded queue.
//
// Where asyncio's tests write `await asyncio.sleep(0)`, these call step():
// exactly one loop iteration.
#include <tulip/sync/queue.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <tulip/sync/event.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/task_group.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/loop_test.hpp"

namespace sync_queue_test {

using namespace tulip;
using test::all_done;

namespace {

class QueueTest : public test::WatchdogLoopTest {};

template <class Q>
std::vector<int> drain_nowait(Q& q) {
    std::vector<int> out;
    while (!q.empty()) out.push_back(q.get_nowait());
    return out;
}

// putter of test_maxsize: puts 0..n-1, noting each once it is in.
Coro<bool> put_range(Queue<int>& q, int n, std::vector<int>* have_been_put) {
    for (int i = 0; i < n; ++i) {
        co_await q.put(i);
        have_been_put->push_back(i);
    }
    co_return true;
}

// Gets n items into *out.
template <class T>
Coro<void> get_n(Queue<T>& q, int n, std::vector<T>* out) {
    for (int i = 0; i < n; ++i) out->push_back(co_await q.get());
}

// Puts `item`, then notes `id`.
Coro<void> put_note(Queue<int>& q, int item, std::vector<int>* order, int id) {
    co_await q.put(item);
    order->push_back(id);
}

// getter of test_why_are_putters_waiting: lets the others run once, then
// empties the queue without waiting.
Coro<void> empty_after_a_step(Queue<int>& q) {
    co_await sleep(0);
    auto n = q.qsize();
    for (std::size_t i = 0; i < n; ++i) q.get_nowait();
}

// Gets one item and records it under `id`.
Coro<int> get_note(Queue<int>& q, std::vector<std::pair<int, int>>* got, int id) {
    int v = co_await q.get();
    got->emplace_back(id, v);
    co_return v;
}

// get() that reports QueueShutDown as a value: true if it was raised.
Coro<bool> get_sees_shutdown(Queue<std::string>& q) {
    try {
        (void)co_await q.get();
    } catch (const QueueShutDown&) {
        co_return true;
    }
    co_return false;
}

Coro<bool> put_sees_shutdown(Queue<std::string>& q, std::string item) {
    try {
        co_await q.put(std::move(item));
    } catch (const QueueShutDown&) {
        co_return true;
    }
    co_return false;
}

// ---- basics ------------------------------------------------------------------

TEST_F(QueueTest, EmptyFullQsizeAndMaxsizeReportTheState) {
    Queue<int> unbounded;
    EXPECT_TRUE(unbounded.empty());
    EXPECT_FALSE(unbounded.full());
    EXPECT_EQ(unbounded.maxsize(), 0);
    for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
    EXPECT_FALSE(unbounded.full());  // maxsize 0: never full
    EXPECT_EQ(unbounded.qsize(), 1000u);

    Queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2);
    q.put_nowait(1);
    EXPECT_FALSE(q.empty());
    EXPECT_FALSE(q.full());
    q.put_nowait(2);
    EXPECT_TRUE(q.full());
    EXPECT_EQ(q.qsize(), 2u);
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_FALSE(q.full());
}

TEST_F(QueueTest, ANegativeMaxsizeMeansUnbounded) {
    Queue<int> q(-1);
    for (int i = 0; i < 10; ++i) q.put_nowait(i);
    EXPECT_FALSE(q.full());
}

TEST_F(QueueTest, QueueIsFirstInFirstOut) {
    Queue<int> q;
    run(([&]() -> Coro<void> {
        for (int i : {1, 3, 2}) co_await q.put(i);
        std::vector<int> items;
        for (int i = 0; i < 3; ++i) items.push_back(co_await q.get());
        EXPECT_EQ(items, (std::vector<int>{1, 3, 2}));
    })());
}

TEST_F(QueueTest, LifoQueueIsLastInFirstOut) {
    LifoQueue<int> q;
    for (int i : {1, 3, 2}) q.put_nowait(i);
    EXPECT_EQ(drain_nowait(q), (std::vector<int>{2, 3, 1}));
}

TEST_F(QueueTest, PriorityQueueGivesTheSmallestFirst) {
    PriorityQueue<int> q;
    for (int i : {1, 3, 2, 5, 4, 0}) q.put_nowait(i);
    EXPECT_EQ(drain_nowait(q), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST_F(QueueTest, PriorityQueueOrdersPairsByPriorityThenValue) {
    PriorityQueue<std::pair<int, std::string>> q;
    q.put_nowait({2, "b"});
    q.put_nowait({1, "z"});
    q.put_nowait({2, "a"});
    q.put_nowait({0, "m"});
    std::vector<std::string> out;
    while (!q.empty()) out.push_back(q.get_nowait().second);
    EXPECT_EQ(out, (std::vector<std::string>{"m", "z", "a", "b"}));
}

TEST_F(QueueTest, PriorityQueueTakesACustomOrdering) {
    PriorityQueue<int, std::greater<int>> q;
    for (int i : {1, 3, 2}) q.put_nowait(i);
    EXPECT_EQ(drain_nowait(q), (std::vector<int>{3, 2, 1}));
}

TEST_F(QueueTest, MoveOnlyItemsPassThrough) {
    Queue<std::unique_ptr<int>> q(1);
    run(([&]() -> Coro<void> {
        // GCC 12.2: no temporary with a destructor inside a co_await expression.
        auto item = std::make_unique<int>(42);
        co_await q.put(std::move(item));
        auto p = co_await q.get();
        EXPECT_TRUE(p != nullptr);
        if (!p) co_return;
        EXPECT_EQ(*p, 42);
    })());
    q.put_nowait(std::make_unique<int>(7));
    EXPECT_EQ(*q.get_nowait(), 7);
}

// put() and get() that need not wait are plain calls (asyncio's put/get do
// not yield either): a hundred of each finish within the task's first step.
TEST_F(QueueTest, PutWithRoomAndGetOfAnItemCompleteWithoutSuspending) {
    Queue<int> q(100);
    int sum = 0;
    // A named lambda: a coroutine lambda's captures live in the lambda
    // object, which must outlive the task.
    auto body = [&]() -> Coro<void> {
        for (int i = 0; i < 100; ++i) co_await q.put(i);
        for (int i = 0; i < 100; ++i) sum += co_await q.get();
    };
    auto t = loop().create_task(body());
    step();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(sum, 4950);
    EXPECT_TRUE(q.empty());
}

// A move-only item given to a put() that must wait is kept until there is room.
TEST_F(QueueTest, AMoveOnlyItemWaitsInABlockedPut) {
    Queue<std::unique_ptr<int>> q(1);
    q.put_nowait(std::make_unique<int>(1));
    auto body = [&]() -> Coro<void> {
        auto item = std::make_unique<int>(2);
        co_await q.put(std::move(item));
    };
    auto t = loop().create_task(body());
    step(2);
    EXPECT_FALSE(t.done());
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(*q.get_nowait(), 1);
    step();
    ASSERT_TRUE(t.done());
    auto p = q.get_nowait();
    ASSERT_TRUE(p != nullptr);
    EXPECT_EQ(*p, 2);
}

// As an un-awaited asyncio coroutine: put() without co_await adds nothing.
TEST_F(QueueTest, APutThatIsNeverAwaitedAddsNothing) {
    Queue<int> q;
    (void)q.put(1);
    EXPECT_TRUE(q.empty());
    (void)q.get();  // and a get that is never awaited takes nothing
    q.put_nowait(2);
    (void)q.get();
    EXPECT_EQ(q.qsize(), 1u);
}

// put() and get() run as tasks and under wait_for whether or not they wait.
TEST_F(QueueTest, PutAndGetWorkAsTasksAndUnderWaitFor) {
    Queue<int> q(1);
    auto p1 = loop().create_task(q.put(1));                // room: done in its first step
    auto p2 = loop().create_task(q.put(2), "second put");  // must wait
    step();
    EXPECT_TRUE(p1.done());
    EXPECT_FALSE(p2.done());
    EXPECT_EQ(p2.get_name(), "second put");
    EXPECT_EQ(run(wait_for(q.get(), 1.0)), 1);
    EXPECT_EQ(run(wait_for(q.get(), 1.0)), 2);
    EXPECT_TRUE(p2.done());
}

// ---- nowait ------------------------------------------------------------------

TEST_F(QueueTest, GetNowaitOnAnEmptyQueueThrowsQueueEmpty) {
    Queue<int> q;
    EXPECT_THROW(q.get_nowait(), QueueEmpty);
    q.put_nowait(1);
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_THROW(q.get_nowait(), QueueEmpty);
}

TEST_F(QueueTest, PutNowaitOnAFullQueueThrowsQueueFullAndAddsNothing) {
    Queue<int> q(1);
    q.put_nowait(1);
    EXPECT_THROW(q.put_nowait(2), QueueFull);
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get_nowait(), 1);
}

// ---- blocking put and get ----------------------------------------------------

// test_maxsize, step for step.
TEST_F(QueueTest, APutterBlocksOnceTheQueueHoldsMaxsizeItems) {
    Queue<int> q(2);
    std::vector<int> have_been_put;
    auto t = loop().create_task(put_range(q, 3, &have_been_put));
    step(2);
    EXPECT_EQ(have_been_put, (std::vector<int>{0, 1}));  // blocked on the third
    EXPECT_EQ(q.get_nowait(), 0);
    step();
    EXPECT_EQ(have_been_put, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_EQ(q.get_nowait(), 2);
    ASSERT_TRUE(t.done());
    EXPECT_TRUE(t.result());
}

TEST_F(QueueTest, GetOfAnAvailableItemDoesNotSuspend) {
    Queue<int> q;
    q.put_nowait(1);
    auto t = loop().create_task(q.get());
    step();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), 1);
}

// test_blocking_get_wait
TEST_F(QueueTest, ABlockedGetReturnsWhenAnItemArrives) {
    Queue<int> q;
    Event started;
    bool finished = false;
    auto queue_get = [&]() -> Coro<int> {
        started.set();
        int v = co_await q.get();
        finished = true;
        co_return v;
    };
    int res = run(([&]() -> Coro<int> {
        auto t = create_task(queue_get());
        co_await started.wait();
        EXPECT_FALSE(finished);
        loop().call_later(0.01, [&] { q.put_nowait(1); });
        int v = co_await t;
        EXPECT_TRUE(finished);
        co_return v;
    })());
    EXPECT_EQ(res, 1);
    EXPECT_NEAR(loop().time(), 0.01, 1e-9);
}

// test_blocking_put_wait
TEST_F(QueueTest, ABlockedPutReturnsWhenRoomIsMade) {
    Queue<int> q(1);
    Event started;
    bool finished = false;
    auto queue_put = [&]() -> Coro<void> {
        started.set();
        co_await q.put(1);
        co_await q.put(2);
        finished = true;
    };
    run(([&]() -> Coro<void> {
        loop().call_later(0.01, [&] { q.get_nowait(); });
        auto t = create_task(queue_put());
        co_await started.wait();
        EXPECT_FALSE(finished);
        co_await t;
        EXPECT_TRUE(finished);
    })());
    EXPECT_NEAR(loop().time(), 0.01, 1e-9);
    EXPECT_EQ(q.get_nowait(), 2);
}

// test_get_with_putters
TEST_F(QueueTest, GetNowaitWakesABlockedPutter) {
    Queue<int> q(1);
    q.put_nowait(1);
    auto putter = loop().create_task(q.put(2));
    step();
    EXPECT_FALSE(putter.done());
    EXPECT_EQ(q.get_nowait(), 1);
    step();
    EXPECT_TRUE(putter.done());
    EXPECT_EQ(q.get_nowait(), 2);
}

// test_put_with_waiting_getters
TEST_F(QueueTest, PutWakesABlockedGetter) {
    Queue<std::string> q;
    auto t = loop().create_task(q.get());
    step();
    run(q.put("a"));
    EXPECT_EQ(run(t), "a");
}

// test_get_with_waiting_putters
TEST_F(QueueTest, GettersTakeTheItemsOfWaitingPuttersInOrder) {
    Queue<std::string> q(1);
    auto pa = loop().create_task(q.put("a"));
    auto pb = loop().create_task(q.put("b"));
    EXPECT_EQ(run(q.get()), "a");
    EXPECT_EQ(run(q.get()), "b");
    EXPECT_TRUE(pa.done());
    EXPECT_TRUE(pb.done());
}

TEST_F(QueueTest, BlockedGettersAreServedInArrivalOrder) {
    Queue<int> q;
    std::vector<std::pair<int, int>> got;
    std::vector<Task<int>> getters;
    for (int i = 0; i < 4; ++i) getters.push_back(loop().create_task(get_note(q, &got, i)));
    step();
    for (int v = 10; v < 14; ++v) q.put_nowait(v);
    step();
    EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{0, 10}, {1, 11}, {2, 12}, {3, 13}}));
}

TEST_F(QueueTest, BlockedPuttersAreServedInArrivalOrder) {
    Queue<int> q(1);
    q.put_nowait(-1);
    std::vector<int> order;
    std::vector<Task<void>> putters;
    for (int i = 0; i < 4; ++i) putters.push_back(loop().create_task(put_note(q, 100 + i, &order, i)));
    step();
    std::vector<int> items;
    run(get_n(q, 5, &items));
    run_until([&] { return all_done(putters); });
    EXPECT_EQ(items, (std::vector<int>{-1, 100, 101, 102, 103}));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

// test_why_are_getters_waiting / test_why_are_putters_waiting
TEST_F(QueueTest, AProducerAndAConsumerThroughAQueueOfOneBothFinish) {
    Queue<int> q(1);
    std::vector<int> put;
    std::vector<int> got;
    run(task_group([&](TaskGroup& tg) -> Coro<void> {
        tg.create_task(put_range(q, 5, &put));
        tg.create_task(get_n(q, 5, &got));
        co_return;
    }));
    EXPECT_EQ(put, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(QueueTest, PuttersBlockedOnAFullQueueAllFinishWhenItIsEmptied) {
    Queue<int> q(2);
    std::vector<int> order;
    run(task_group([&](TaskGroup& tg) -> Coro<void> {
        tg.create_task(empty_after_a_step(q));
        for (int i = 0; i < 4; ++i) tg.create_task(put_note(q, i, &order, i));
        co_return;
    }));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(drain_nowait(q), (std::vector<int>{2, 3}));
}

// ---- cancellation ------------------------------------------------------------

// test_get_cancelled_race
TEST_F(QueueTest, AnItemPutAfterAGetterWasCancelledGoesToTheNextGetter) {
    Queue<std::string> q;
    auto t1 = loop().create_task(q.get());
    auto t2 = loop().create_task(q.get());
    step();
    t1.cancel();
    step();
    EXPECT_TRUE(t1.done());
    EXPECT_TRUE(t1.cancelled());
    q.put_nowait("a");
    step();
    ASSERT_TRUE(t2.done());
    EXPECT_EQ(t2.result(), "a");
}

// test_get_cancel_drop_one_pending_reader: the reader was woken for item 1 and
// then cancelled; 1 must still be the next item.
TEST_F(QueueTest, AGetterCancelledAfterBeingWokenLeavesItsItemInTheQueue) {
    Queue<int> q;
    auto reader = loop().create_task(q.get());
    step();
    q.put_nowait(1);
    q.put_nowait(2);
    reader.cancel();
    int result = 0;
    try {
        result = run(reader);
    } catch (const CancelledError&) {
        result = run(q.get());  // try again
    }
    EXPECT_EQ(result, 1);  // 2 would mean 1 was dropped
    EXPECT_EQ(q.qsize(), 1u);
}

// test_get_cancel_drop_many_pending_readers: reader1 is woken and cancelled;
// its wake-up passes to reader3 and neither item is lost.
TEST_F(QueueTest, AGetterCancelledAfterBeingWokenPassesTheWakeUpToTheNextGetter) {
    Queue<int> q;
    auto r1 = loop().create_task(q.get());
    auto r2 = loop().create_task(q.get());
    auto r3 = loop().create_task(q.get());
    step();
    q.put_nowait(1);
    q.put_nowait(2);
    r1.cancel();
    EXPECT_THROW(run(r1), CancelledError);
    run_until([&] { return r2.done() && r3.done(); });
    EXPECT_EQ(r2.result(), 1);  // asyncio leaves the order open; tulip is FIFO
    EXPECT_EQ(r3.result(), 2);
    EXPECT_TRUE(q.empty());
}

// test_put_cancel_drop
TEST_F(QueueTest, APutterCancelledAfterBeingWokenAddsNothing) {
    Queue<int> q(1);
    q.put_nowait(1);
    auto writer = loop().create_task(q.put(2));
    step();
    EXPECT_EQ(q.get_nowait(), 1);  // wakes the writer
    writer.cancel();
    try {
        run(writer);
    } catch (const CancelledError&) {
        run(q.put(2));  // try again
    }
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_EQ(q.qsize(), 0u);
}

// test_put_cancelled_race
TEST_F(QueueTest, ACancelledPutterBehindAnotherDoesNotDisturbIt) {
    Queue<std::string> q(1);
    auto put_a = loop().create_task(q.put("a"));
    auto put_b = loop().create_task(q.put("b"));
    auto put_c = loop().create_task(q.put("X"));
    step();
    EXPECT_TRUE(put_a.done());
    EXPECT_FALSE(put_b.done());
    put_c.cancel();
    step();
    EXPECT_TRUE(put_c.cancelled());
    EXPECT_EQ(q.get_nowait(), "a");
    step();
    EXPECT_EQ(q.get_nowait(), "b");
    EXPECT_TRUE(q.empty());
    run(put_b);
}

// test_cancelled_put_silence_value_error_exception: the putter was already
// taken off the list by get_nowait() when it is cancelled.
TEST_F(QueueTest, APutterCancelledAfterGetNowaitWokeItRaisesCancelledError) {
    Queue<int> q(1);
    q.put_nowait(1);
    auto t = loop().create_task(q.put(1));
    step();
    q.get_nowait();
    t.cancel();
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(q.empty());
}

// test_cancelled_puts_not_being_held_in_self_putters
TEST_F(QueueTest, ACancelledPutterLeavesThePutterList) {
    Queue<int> q(1);
    q.put_nowait(1);
    auto t = loop().create_task(q.put(2));
    step();
    t.cancel();
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_EQ(q.get_nowait(), 1);  // wakes nobody: the list is empty
    auto later = loop().create_task(q.put(3));
    step();
    EXPECT_TRUE(later.done());
    EXPECT_EQ(q.get_nowait(), 3);
}

class QueueCancelAtPosition : public QueueTest, public ::testing::WithParamInterface<int> {};

TEST_P(QueueCancelAtPosition, TheOtherGettersReceiveTheItemsInOrder) {
    const int pos = GetParam();
    Queue<int> q;
    std::vector<std::pair<int, int>> got;
    std::vector<Task<int>> getters;
    for (int i = 0; i < 4; ++i) getters.push_back(loop().create_task(get_note(q, &got, i)));
    step();
    getters[pos].cancel();
    for (int v = 10; v < 13; ++v) q.put_nowait(v);  // skip the cancelled getter
    run_until([&] { return all_done(getters); });

    std::vector<std::pair<int, int>> expected;
    int v = 10;
    for (int i = 0; i < 4; ++i)
        if (i != pos) expected.emplace_back(i, v++);
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(getters[pos].cancelled());
    EXPECT_TRUE(q.empty());
}

TEST_P(QueueCancelAtPosition, AWokenGetterCancelledAtAnyPlaceLosesNoItem) {
    const int pos = GetParam();
    Queue<int> q;
    std::vector<std::pair<int, int>> got;
    std::vector<Task<int>> getters;
    for (int i = 0; i < 4; ++i) getters.push_back(loop().create_task(get_note(q, &got, i)));
    step();
    for (int v = 10; v < 14; ++v) q.put_nowait(v);  // wakes all four
    getters[pos].cancel();                          // too late for its wake-up
    run_until([&] { return all_done(getters); });

    EXPECT_TRUE(getters[pos].cancelled());
    ASSERT_EQ(got.size(), 3u);
    std::vector<int> received;
    for (auto& [id, value] : got) {
        EXPECT_NE(id, pos);
        received.push_back(value);
    }
    EXPECT_EQ(received, (std::vector<int>{10, 11, 12}));
    ASSERT_EQ(q.qsize(), 1u);  // the fourth item waits for the next get
    EXPECT_EQ(q.get_nowait(), 13);
}

TEST_P(QueueCancelAtPosition, TheOtherPuttersAddTheirItemsInOrder) {
    const int pos = GetParam();
    Queue<int> q(1);
    q.put_nowait(-1);
    std::vector<int> order;
    std::vector<Task<void>> putters;
    for (int i = 0; i < 4; ++i) putters.push_back(loop().create_task(put_note(q, 100 + i, &order, i)));
    step();
    putters[pos].cancel();
    // Room appears while the cancelled putter is still queued: it must be skipped.
    std::vector<int> items{q.get_nowait()};
    run(get_n(q, 3, &items));
    run_until([&] { return all_done(putters); });

    std::vector<int> expected_items{-1};
    std::vector<int> expected_order;
    for (int i = 0; i < 4; ++i)
        if (i != pos) {
            expected_items.push_back(100 + i);
            expected_order.push_back(i);
        }
    EXPECT_EQ(items, expected_items);
    EXPECT_EQ(order, expected_order);
    EXPECT_TRUE(putters[pos].cancelled());
    EXPECT_TRUE(q.empty());
}

TEST_P(QueueCancelAtPosition, AWokenPutterCancelledPassesTheRoomToTheNextPutter) {
    const int pos = GetParam();
    Queue<int> q(1);
    q.put_nowait(-1);
    std::vector<int> order;
    std::vector<Task<void>> putters;
    for (int i = 0; i < 4; ++i) putters.push_back(loop().create_task(put_note(q, 100 + i, &order, i)));
    step();
    // Let putters 0..pos-1 in, one get at a time.
    EXPECT_EQ(q.get_nowait(), -1);
    for (int i = 0; i < pos; ++i) {
        run_until([&] { return putters[i].done(); });
        EXPECT_EQ(q.get_nowait(), 100 + i);
    }
    // The last get woke putter `pos`; cancel it before it runs.
    putters[pos].cancel();
    run_until([&] { return putters[pos].done(); });
    EXPECT_TRUE(putters[pos].cancelled());
    // The room it was woken for went to the next putter, and so on.
    for (int i = pos + 1; i < 4; ++i) {
        run_until([&] { return putters[i].done(); });
        EXPECT_EQ(q.get_nowait(), 100 + i);
    }
    EXPECT_TRUE(all_done(putters));
    EXPECT_TRUE(q.empty());
    std::vector<int> expected_order;
    for (int i = 0; i < 4; ++i)
        if (i != pos) expected_order.push_back(i);
    EXPECT_EQ(order, expected_order);
}

INSTANTIATE_TEST_SUITE_P(EveryPlace, QueueCancelAtPosition, ::testing::Range(0, 4));

// ---- wait_for timeouts -------------------------------------------------------

// test_cancelled_getters_not_being_held_in_self_getters
TEST_F(QueueTest, AGetThatTimesOutLeavesNoGetterBehind) {
    Queue<int> q(5);
    EXPECT_THROW(run(wait_for(q.get(), 0.1)), TimeoutError);
    EXPECT_NEAR(loop().time(), 0.1, 1e-9);
    q.put_nowait(1);  // would wake the departed getter if it had stayed
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(run(q.get()), 1);
}

// A getter with a deadline and a patient one behind it: the timeout leaves the
// patient getter first in line.
TEST_F(QueueTest, AfterAGetTimesOutTheNextItemGoesToTheNextGetter) {
    Queue<int> q;
    auto impatient = loop().create_task(wait_for(q.get(), 1.0));
    auto patient = loop().create_task(q.get());
    loop().call_later(2.0, [&] { q.put_nowait(7); });
    EXPECT_THROW(run(impatient), TimeoutError);
    EXPECT_EQ(run(patient), 7);
    EXPECT_NEAR(loop().time(), 2.0, 1e-9);
    EXPECT_TRUE(q.empty());
}

// The item arrives in the very iteration the deadline passes: the getter was
// woken, then cancelled by its timeout. The item must not be lost.
TEST_F(QueueTest, AnItemThatRacesAGetTimeoutStaysInTheQueue) {
    Queue<int> q;
    loop().call_later(1.0, [&] { q.put_nowait(5); });  // same deadline, runs first
    EXPECT_THROW(run(wait_for(q.get(), 1.0)), TimeoutError);
    ASSERT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get_nowait(), 5);
}

TEST_F(QueueTest, AnItemThatRacesAGetTimeoutGoesToTheNextGetter) {
    Queue<int> q;
    loop().call_later(1.0, [&] { q.put_nowait(5); });
    auto impatient = loop().create_task(wait_for(q.get(), 1.0));
    auto patient = loop().create_task(q.get());
    EXPECT_THROW(run(impatient), TimeoutError);
    EXPECT_EQ(run(patient), 5);
    EXPECT_TRUE(q.empty());
}

TEST_F(QueueTest, APutThatTimesOutAddsNothing) {
    Queue<std::string> q(1);
    q.put_nowait("a");
    EXPECT_THROW(run(wait_for(q.put("x"), 1.0)), TimeoutError);
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get_nowait(), "a");
    EXPECT_TRUE(q.empty());
}

// Room appears in the very iteration the put's deadline passes: the woken
// putter is cancelled by its timeout and must hand the room to the next one.
TEST_F(QueueTest, RoomThatRacesAPutTimeoutGoesToTheNextPutter) {
    Queue<std::string> q(1);
    q.put_nowait("a");
    loop().call_later(1.0, [&] { (void)q.get_nowait(); });  // same deadline, runs first
    auto impatient = loop().create_task(wait_for(q.put("x"), 1.0));
    auto patient = loop().create_task(q.put("y"));
    EXPECT_THROW(run(impatient), TimeoutError);
    run(patient);
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get_nowait(), "y");
}

// ---- task_done and join ------------------------------------------------------

TEST_F(QueueTest, TaskDoneCalledTooOftenThrowsInvalidArgument) {
    Queue<int> q;
    EXPECT_THROW(q.task_done(), std::invalid_argument);
    q.put_nowait(1);
    q.get_nowait();
    q.task_done();
    EXPECT_THROW(q.task_done(), std::invalid_argument);
    LifoQueue<int> lq;
    EXPECT_THROW(lq.task_done(), std::invalid_argument);
    PriorityQueue<int> pq;
    EXPECT_THROW(pq.task_done(), std::invalid_argument);
}

// test_task_done
TEST_F(QueueTest, JoinReturnsOnceEveryItemIsMarkedDone) {
    Queue<int> q;
    for (int i = 0; i < 100; ++i) q.put_nowait(i);
    int accumulator = 0;
    auto worker = [&]() -> Coro<void> {
        for (;;) {
            int item = co_await q.get();
            if (item < 0) {
                q.task_done();
                co_return;
            }
            accumulator += item;
            q.task_done();
        }
    };
    run(task_group([&](TaskGroup& tg) -> Coro<void> {
        tg.create_task(worker());
        tg.create_task(worker());
        co_await q.join();
        EXPECT_EQ(accumulator, 4950);
        q.put_nowait(-1);  // stop the workers
        q.put_nowait(-1);
    }));
    EXPECT_EQ(accumulator, 4950);
}

// test_join_empty_queue
TEST_F(QueueTest, JoinOnAQueueWithNothingUnfinishedReturnsAtOnce) {
    Queue<int> q;
    auto join_twice = [&]() -> Coro<void> {
        co_await q.join();
        co_await q.join();
    };
    auto t = loop().create_task(join_twice());
    step();
    EXPECT_TRUE(t.done());
}

TEST_F(QueueTest, JoinWaitsForTheLastTaskDone) {
    Queue<int> q;
    q.put_nowait(1);
    q.put_nowait(2);
    auto j = loop().create_task(q.join());
    step();
    EXPECT_FALSE(j.done());
    q.get_nowait();
    q.get_nowait();
    step();
    EXPECT_FALSE(j.done());  // gotten is not done
    q.task_done();
    step();
    EXPECT_FALSE(j.done());
    q.task_done();
    step();
    EXPECT_TRUE(j.done());
}

TEST_F(QueueTest, JoinWaitsAgainAfterNewItemsArrive) {
    Queue<int> q;
    q.put_nowait(1);
    q.get_nowait();
    q.task_done();
    run(q.join());
    q.put_nowait(2);
    auto j = loop().create_task(q.join());
    step();
    EXPECT_FALSE(j.done());
    q.get_nowait();
    q.task_done();
    step();
    EXPECT_TRUE(j.done());
}

// ---- shutdown (3.13) ---------------------------------------------------------

// test_shutdown_empty
TEST_F(QueueTest, ShutdownOfAnEmptyQueueWakesGettersWithQueueShutDown) {
    Queue<std::string> q;
    auto getter = loop().create_task(get_sees_shutdown(q));
    step();
    q.shutdown();
    EXPECT_TRUE(q.is_shutdown());
    EXPECT_EQ(q.qsize(), 0u);
    run(q.join());
    step();
    ASSERT_TRUE(getter.done());
    EXPECT_TRUE(getter.result());

    EXPECT_THROW(run(q.put("data")), QueueShutDown);
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_THROW(run(q.get()), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
}

// test_shutdown_nonempty
TEST_F(QueueTest, ShutdownLetsGettersDrainWhatIsLeftAndFailsPutters) {
    Queue<std::string> q(1);
    q.put_nowait("data");
    auto join_task = loop().create_task(q.join());
    auto put_task = loop().create_task(put_sees_shutdown(q, "data2"));
    step();
    EXPECT_FALSE(put_task.done());

    q.shutdown(false);
    EXPECT_EQ(q.qsize(), 1u);
    step();
    ASSERT_TRUE(put_task.done());
    EXPECT_TRUE(put_task.result());

    EXPECT_EQ(run(q.get()), "data");
    step();
    EXPECT_FALSE(join_task.done());

    EXPECT_THROW(run(q.put("data")), QueueShutDown);
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_THROW(run(q.get()), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);

    q.task_done();
    step();
    EXPECT_TRUE(join_task.done());
    EXPECT_THROW(q.task_done(), std::invalid_argument);
}

// test_shutdown_immediate
TEST_F(QueueTest, ImmediateShutdownDropsTheItemsAndReleasesJoin) {
    Queue<std::string> q;
    q.put_nowait("data");
    auto join_task = loop().create_task(q.join());
    q.shutdown(true);
    EXPECT_EQ(q.qsize(), 0u);
    step();
    EXPECT_TRUE(join_task.done());

    EXPECT_THROW(run(q.put("data")), QueueShutDown);
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_THROW(run(q.get()), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
    EXPECT_THROW(q.task_done(), std::invalid_argument);
}

// test_shutdown_immediate_with_unfinished
TEST_F(QueueTest, ImmediateShutdownKeepsCountingItemsAlreadyGotten) {
    Queue<std::string> q;
    q.put_nowait("data");
    q.put_nowait("data");
    auto join_task = loop().create_task(q.join());
    EXPECT_EQ(run(q.get()), "data");
    q.shutdown(true);  // one dropped, one gotten but not done
    EXPECT_EQ(q.qsize(), 0u);
    step();
    EXPECT_FALSE(join_task.done());

    EXPECT_THROW(run(q.put("data")), QueueShutDown);
    EXPECT_THROW(run(q.get()), QueueShutDown);

    q.task_done();
    EXPECT_THROW(q.task_done(), std::invalid_argument);
    step();
    EXPECT_TRUE(join_task.done());
}

TEST_F(QueueTest, ShutdownWakesEveryBlockedGetter) {
    Queue<std::string> q;
    std::vector<Task<bool>> getters;
    for (int i = 0; i < 3; ++i) getters.push_back(loop().create_task(get_sees_shutdown(q)));
    step();
    q.shutdown();
    step();
    for (auto& g : getters) {
        ASSERT_TRUE(g.done());
        EXPECT_TRUE(g.result());
    }
}

TEST_F(QueueTest, ShutdownWakesEveryBlockedPutterAndAddsNothing) {
    for (bool immediate : {false, true}) {
        SCOPED_TRACE(immediate ? "immediate" : "not immediate");
        Queue<std::string> q(2);
        q.put_nowait("E");
        q.put_nowait("W");
        std::vector<Task<bool>> putters;
        for (int i = 0; i < 3; ++i) putters.push_back(loop().create_task(put_sees_shutdown(q, "Y")));
        step();
        q.shutdown(immediate);
        step();
        for (auto& p : putters) {
            ASSERT_TRUE(p.done());
            EXPECT_TRUE(p.result());
        }
        EXPECT_EQ(q.qsize(), immediate ? 0u : 2u);
        if (!immediate) {
            EXPECT_EQ(q.get_nowait(), "E");
            EXPECT_EQ(q.get_nowait(), "W");
        }
        EXPECT_THROW(q.get_nowait(), QueueShutDown);
    }
}

TEST_F(QueueTest, ShutdownWorksTheSameForLifoAndPriorityQueues) {
    LifoQueue<int> lq;
    lq.put_nowait(1);
    lq.put_nowait(2);
    lq.shutdown();
    EXPECT_THROW(lq.put_nowait(3), QueueShutDown);
    EXPECT_EQ(lq.get_nowait(), 2);
    EXPECT_EQ(lq.get_nowait(), 1);
    EXPECT_THROW(lq.get_nowait(), QueueShutDown);

    PriorityQueue<int> pq;
    pq.put_nowait(2);
    pq.put_nowait(1);
    pq.shutdown(true);
    EXPECT_EQ(pq.qsize(), 0u);
    EXPECT_THROW(pq.get_nowait(), QueueShutDown);
    run(pq.join());
}

TEST_F(QueueTest, WorkersStoppedByShutdownAfterJoinProcessEveryItem) {
    Queue<int> q(3);
    int processed = 0;
    int stopped = 0;
    auto worker = [&]() -> Coro<void> {
        for (;;) {
            int item = 0;
            try {
                item = co_await q.get();
            } catch (const QueueShutDown&) {
                ++stopped;
                co_return;
            }
            co_await sleep(0.001 * (item % 3));
            ++processed;
            q.task_done();
        }
    };
    run(([&]() -> Coro<void> {
        std::vector<Task<void>> workers;
        for (int i = 0; i < 3; ++i) workers.push_back(create_task(worker()));
        for (int i = 0; i < 20; ++i) co_await q.put(i);
        co_await q.join();
        q.shutdown();
        for (auto& w : workers) co_await w;
    })());
    EXPECT_EQ(processed, 20);
    EXPECT_EQ(stopped, 3);
}

// ---- many items --------------------------------------------------------------

// 1,000 items through a queue of 10 between four producers and three consumers:
// every item arrives exactly once, each producer's items in the order put, and
// the queue never holds more than maxsize.
TEST_F(QueueTest, AThousandItemsPassThroughABoundedQueueBetweenManyTasks) {
    constexpr int kProducers = 4;
    constexpr int kPerProducer = 250;
    constexpr int kConsumers = 3;
    constexpr long kMaxsize = 10;
    Queue<std::pair<int, int>> q(kMaxsize);
    std::vector<std::pair<int, int>> received;
    std::size_t most = 0;

    auto producer = [&](int id) -> Coro<void> {
        for (int seq = 0; seq < kPerProducer; ++seq) {
            co_await q.put(std::pair<int, int>(id, seq));
            most = std::max(most, q.qsize());
            if (seq % (7 + id) == 0) co_await sleep(0);
        }
    };
    auto consumer = [&](int id) -> Coro<void> {
        for (;;) {
            std::pair<int, int> item;
            try {
                item = co_await q.get();
            } catch (const QueueShutDown&) {
                co_return;
            }
            received.push_back(item);
            if ((item.second + id) % 5 == 0) co_await sleep(0);
            q.task_done();
        }
    };
    run(([&]() -> Coro<void> {
        std::vector<Task<void>> consumers;
        for (int c = 0; c < kConsumers; ++c) consumers.push_back(create_task(consumer(c)));
        std::vector<Task<void>> producers;
        for (int p = 0; p < kProducers; ++p) producers.push_back(create_task(producer(p)));
        for (auto& t : producers) co_await t;
        co_await q.join();
        q.shutdown();
        for (auto& t : consumers) co_await t;
    })());

    ASSERT_EQ(received.size(), static_cast<std::size_t>(kProducers * kPerProducer));
    EXPECT_LE(most, static_cast<std::size_t>(kMaxsize));
    std::map<int, int> next;  // per producer: the next sequence number expected
    for (auto& [id, seq] : received) {
        EXPECT_EQ(seq, next[id]) << "producer " << id;
        next[id] = seq + 1;
    }
    for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kPerProducer);
    EXPECT_TRUE(q.empty());
}

}  // namespace

}  // namespace sync_queue_test
