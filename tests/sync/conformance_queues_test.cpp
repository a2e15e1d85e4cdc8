// Cases of CPython 3.13's Lib/test/test_asyncio/test_queues.py that the other
// queue tests check only in part: a get() that waits on an empty queue is
// served by a put() running in another task.
#include <tulip/sync/queue.hpp>

#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

#include "support/loop_test.hpp"

namespace sync_conformance_queues_test {

using namespace tulip;

namespace {

class ConformanceQueuesTest : public test::WatchdogLoopTest {};

Coro<bool> put_one(Queue<int>& q) {
    co_await q.put(1);
    co_return true;
}

// test_put_cancelled: the main coroutine's get() runs first and waits; the
// put task then hands it the item and finishes.
TEST_F(ConformanceQueuesTest, AGetWaitingOnAnEmptyQueueReceivesTheItemOfAPutTask) {
    Queue<int> q;
    auto body = [&]() -> Coro<void> {
        auto t = create_task(put_one(q));
        int got = co_await q.get();
        EXPECT_EQ(got, 1);
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(t.result());
        EXPECT_TRUE(q.empty());
    };
    run(body());
}

}  // namespace

}  // namespace sync_conformance_queues_test
