#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace sync_sync_smoke_test {

using namespace tulip;

class SyncSmoke : public test::LoopTest {};

TEST_F(SyncSmoke, QueueProducerConsumer) {
    Queue<int> q(2);
    auto producer = [&]() -> Coro<void> {
        for (int i = 0; i < 10; ++i) co_await q.put(i);
    };
    auto consumer = [&]() -> Coro<int> {
        int sum = 0;
        for (int i = 0; i < 10; ++i) sum += co_await q.get();
        co_return sum;
    };
    auto main = [&]() -> Coro<int> {
        auto [a, b] = co_await gather(producer(), consumer());
        (void)a;
        co_return b;
    };
    EXPECT_EQ(run(main()), 45);
}

TEST_F(SyncSmoke, LockIsFifo) {
    Lock lock;
    std::vector<int> order;
    auto worker = [&](int id) -> Coro<void> {
        auto held = co_await lock.acquire();
        order.push_back(id);
        co_await sleep(0.1);
    };
    auto main = [&]() -> Coro<void> { co_await gather(worker(1), worker(2), worker(3)); };
    run(main());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(SyncSmoke, ConditionAndBarrier) {
    Condition cond;
    Barrier barrier(3);
    int ready = 0;
    auto waiter = [&]() -> Coro<std::size_t> {
        {
            auto held = co_await cond.acquire();
            co_await cond.wait_for([&] { return ready > 0; });
        }
        co_return co_await barrier.wait();
    };
    auto main = [&]() -> Coro<void> {
        auto t1 = create_task(waiter());
        auto t2 = create_task(waiter());
        auto t3 = create_task(waiter());
        co_await sleep(1);
        {
            auto held = co_await cond.acquire();
            ready = 1;
            cond.notify_all();
        }
        auto [a, b, c] = co_await gather(t1, t2, t3);
        EXPECT_EQ(a + b + c, 3u);
    };
    run(main());
}

}  // namespace sync_sync_smoke_test
