// Cancellation torture of the synchronisation primitives and queues
// (reliability program, part 5): Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier, Queue/PriorityQueue/LifoQueue get, put and
// join, each cancelled at every loop iteration it suspends across (the
// harness is tests/support/cancel_torture.hpp), on virtual time, with a
// holder in front of the victim and a follower behind it. The invariants:
// the primitive ends free (a Lock unlocked and acquirable at once, a
// Semaphore's value back), no wake-up is lost (the follower always gets
// through, also when the victim is cancelled after it was woken), and a
// cancelled get() takes no item and a cancelled put() adds none.
#include <algorithm>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/cancel_torture.hpp"
#include "support/loop_test.hpp"

namespace sync_cancel_torture_test {

using namespace tulip;
using test::torture::acquire_would_not_wait;
using test::torture::Case;
using test::torture::RunInfo;
using test::torture::settle_task;
using test::torture::torture;

namespace {

class SyncCancelTorture : public test::LoopTest {};

// Acquires p (after sleep(delay); delay < 0: at once), notes it, keeps it
// `hold_for` seconds.
template <class P>
Coro<void> hold(P& p, double delay, double hold_for, int* count) {
    if (delay >= 0) co_await sleep(delay);
    auto held = co_await p.acquire();
    ++*count;
    co_await sleep(hold_for);
}

// ---- Lock ----------------------------------------------------------------------

struct LockCase : Case {
    Lock lock;
    int holder_n = 0, victim_n = 0, follower_n = 0;
    Task<void> holder, follower;
    void start() override {
        holder = create_task(hold(lock, -1, 1.0, &holder_n));
        // Queues behind the victim: it runs its first step one iteration later.
        follower = create_task(hold(lock, 0.0, 0.0, &follower_n));
    }
    double acquired_at = -1;
    Coro<void> victim() override {
        auto held = co_await lock.acquire();
        ++victim_n;
        acquired_at = get_running_loop().time();
        co_await sleep(0.5);
    }
    Coro<void> settle() override {
        co_await settle_task(holder);
        co_await settle_task(follower);
    }
    void check(const RunInfo& r) override {
        EXPECT_FALSE(lock.locked());
        EXPECT_TRUE(acquire_would_not_wait(lock));
        EXPECT_EQ(holder_n, 1);
        EXPECT_EQ(follower_n, 1);  // no wake-up lost behind a cancelled victim
        if (r.completed()) {
            EXPECT_EQ(victim_n, 1);
        }
        if (r.k < 0) {
            EXPECT_EQ(acquired_at, 1.0);
        }  // it did wait for the holder
    }
};

// ---- Semaphore / BoundedSemaphore ----------------------------------------------

template <class S>
struct SemaphoreCase : Case {
    S sem{2};
    int holders_n = 0, victim_n = 0, follower_n = 0;
    std::vector<Task<void>> helpers;
    void start() override {
        helpers.push_back(create_task(hold(sem, -1, 1.0, &holders_n)));
        helpers.push_back(create_task(hold(sem, -1, 2.0, &holders_n)));
        helpers.push_back(create_task(hold(sem, 0.0, 0.5, &follower_n)));
    }
    double acquired_at = -1;
    Coro<void> victim() override {
        auto held = co_await sem.acquire();
        ++victim_n;
        acquired_at = get_running_loop().time();
        co_await sleep(0.5);
    }
    Coro<void> settle() override {
        for (auto& t : helpers) co_await settle_task(t);
    }
    void check(const RunInfo& r) override {
        EXPECT_EQ(sem.value(), 2);  // every unit given back
        EXPECT_FALSE(sem.locked());
        EXPECT_TRUE(acquire_would_not_wait(sem));
        EXPECT_EQ(holders_n, 2);
        EXPECT_EQ(follower_n, 1);
        if (r.completed()) {
            EXPECT_EQ(victim_n, 1);
        }
        if (r.k < 0) {
            EXPECT_EQ(acquired_at, 1.0);
        }  // it did wait for a unit
        if constexpr (std::is_same_v<S, BoundedSemaphore>) {
            EXPECT_THROW(sem.release(), std::invalid_argument);
        }
    }
};

// ---- Event ---------------------------------------------------------------------

struct EventCase : Case {
    Event first, second;
    int victim_n = 0, follower_n = 0;
    Task<void> setter, follower;
    void start() override {
        setter = create_task([](Event* a, Event* b) -> Coro<void> {
            co_await sleep(1.0);
            a->set();
            co_await sleep(1.0);
            b->set();
        }(&first, &second));
        follower = create_task([](Event* a, int* n) -> Coro<void> {
            co_await a->wait();
            ++*n;
        }(&first, &follower_n));
    }
    Coro<void> victim() override {
        co_await first.wait();
        ++victim_n;
        co_await second.wait();
        ++victim_n;
    }
    Coro<void> settle() override {
        co_await settle_task(setter);
        co_await settle_task(follower);
    }
    void check(const RunInfo& r) override {
        EXPECT_TRUE(first.is_set());
        EXPECT_TRUE(second.is_set());
        EXPECT_EQ(follower_n, 1);
        if (r.completed()) {
            EXPECT_EQ(victim_n, 2);
        }
    }
};

// ---- Condition -----------------------------------------------------------------

struct ConditionCase : Case {
    Condition cond;
    int available = 0, produced = 0, victim_n = 0, follower_n = 0;
    Task<void> producer, follower;

    static Coro<void> consume(Condition* c, int* available, int* n) {
        auto held = co_await c->acquire();
        co_await c->wait_for([available] { return *available > 0; });
        --*available;
        ++*n;
    }
    static Coro<void> produce(Condition* c, int* available, int* produced, double delay) {
        co_await sleep(delay);
        auto held = co_await c->acquire();
        ++*available;
        ++*produced;
        c->notify(1);
        co_await sleep(0.5);  // the notified waiter waits for the lock meanwhile
    }
    void start() override {
        producer = create_task(produce(&cond, &available, &produced, 1.0));
        follower = create_task([](Condition* c, int* a, int* n) -> Coro<void> {
            co_await sleep(0);  // behind the victim
            co_await consume(c, a, n);
        }(&cond, &available, &follower_n));
    }
    Coro<void> victim() override {
        auto held = co_await cond.acquire();
        co_await cond.wait_for([this] { return available > 0; });
        --available;
        ++victim_n;
        co_await sleep(0.25);  // the lock held a while
    }
    Coro<void> settle() override {
        co_await settle_task(producer);
        // One notification was made; if the victim took it, the follower needs another.
        if (victim_n == 1) co_await produce(&cond, &available, &produced, 0.0);
        co_await settle_task(follower);
    }
    void check(const RunInfo& r) override {
        EXPECT_FALSE(cond.locked());
        EXPECT_TRUE(acquire_would_not_wait(cond));
        EXPECT_EQ(follower_n, 1);  // the notification a cancelled victim got was passed on
        EXPECT_EQ(available, 0);
        EXPECT_EQ(produced, follower_n + victim_n);
        if (r.completed()) {
            EXPECT_EQ(victim_n, 1);
        }
    }
};

// ---- Barrier -------------------------------------------------------------------

struct BarrierCase : Case {
    Barrier barrier{3};
    int passed = 0;
    std::vector<Task<void>> helpers;
    std::size_t victim_index = 99;
    static Coro<void> party(Barrier* b, double delay, int* passed) {
        co_await sleep(delay);
        (void)co_await b->wait();
        ++*passed;
    }
    void start() override {
        helpers.push_back(create_task(party(&barrier, 0.5, &passed)));
        helpers.push_back(create_task(party(&barrier, 1.0, &passed)));
    }
    Coro<void> victim() override {
        victim_index = co_await barrier.wait();
        co_await sleep(0);
    }
    Coro<void> settle() override {
        co_await sleep(1.5);  // every helper has arrived
        bool all_passed = true;
        for (auto& t : helpers) all_passed = all_passed && t.done();
        // A cancelled victim left the barrier before it filled: a third party is missing.
        if (!all_passed) (void)co_await barrier.wait();
        for (auto& t : helpers) co_await settle_task(t);
    }
    void check(const RunInfo& r) override {
        EXPECT_FALSE(barrier.broken());
        EXPECT_EQ(barrier.n_waiting(), 0u);
        EXPECT_EQ(passed, 2);
        if (r.completed()) {
            EXPECT_LT(victim_index, 3u);
        }
    }
};

// ---- Queue get / put / join ----------------------------------------------------

template <class Q>
struct QueueGetCase : Case {
    Q q;
    std::vector<int> produced, taken_by_victim, taken_by_follower;
    Task<void> producer, follower;
    void start() override {
        producer = create_task([](Q* q, std::vector<int>* produced) -> Coro<void> {
            co_await sleep(1.0);
            q->put_nowait(1);
            produced->push_back(1);
        }(&q, &produced));
        follower = create_task([](Q* q, std::vector<int>* taken) -> Coro<void> {
            co_await sleep(0);
            taken->push_back(co_await q->get());
        }(&q, &taken_by_follower));
    }
    Coro<void> victim() override {
        int v = co_await q.get();
        taken_by_victim.push_back(v);
        co_await sleep(0);
    }
    Coro<void> settle() override {
        co_await settle_task(producer);
        // The one item went to the victim: give the follower another.
        if (!taken_by_victim.empty()) {
            q.put_nowait(2);
            produced.push_back(2);
        }
        co_await settle_task(follower);
    }
    void check(const RunInfo& r) override {
        // No item lost, none taken twice: taken + left == produced.
        std::vector<int> all = taken_by_victim;
        all.insert(all.end(), taken_by_follower.begin(), taken_by_follower.end());
        while (!q.empty()) all.push_back(q.get_nowait());
        std::sort(all.begin(), all.end());
        EXPECT_EQ(all, produced);
        EXPECT_EQ(taken_by_follower.size(), 1u);  // the wake-up a cancelled victim got was passed on
        if (r.completed()) {
            EXPECT_EQ(taken_by_victim.size(), 1u);
        }
        if (r.cancelled() && r.cancel_hit && taken_by_victim.empty()) {
            EXPECT_EQ(produced.size(), 1u);
        }
    }
};

struct QueuePutCase : Case {
    Queue<int> q{1};
    std::vector<int> taken;
    bool victim_put = false;
    Task<void> consumer, follower;
    void start() override {
        q.put_nowait(0);  // full: the victim's put waits
        consumer = create_task([](Queue<int>* q, std::vector<int>* taken) -> Coro<void> {
            co_await sleep(1.0);
            taken->push_back(co_await q->get());
            q->task_done();
            co_await sleep(1.0);
            taken->push_back(co_await q->get());
            q->task_done();
        }(&q, &taken));
        follower = create_task([](Queue<int>* q) -> Coro<void> {
            co_await sleep(0);
            co_await q->put(2);
        }(&q));
    }
    Coro<void> victim() override {
        co_await q.put(1);
        victim_put = true;
        co_await sleep(0);
    }
    Coro<void> settle() override {
        co_await settle_task(consumer);
        co_await settle_task(follower);
        while (!q.empty()) {
            taken.push_back(q.get_nowait());
            q.task_done();
        }
        co_await q.join();  // every item put was marked done: returns at once
    }
    void check(const RunInfo& r) override {
        // FIFO, and a cancelled put() added nothing.
        std::vector<int> want{0};
        if (victim_put) want.push_back(1);
        want.push_back(2);
        EXPECT_EQ(taken, want);
        if (r.completed()) {
            EXPECT_TRUE(victim_put);
        }
        EXPECT_EQ(q.qsize(), 0u);
    }
};

struct QueueJoinCase : Case {
    Queue<int> q;
    int done_n = 0;
    bool joined = false;
    Task<void> worker;
    void start() override {
        q.put_nowait(1);
        q.put_nowait(2);
        worker = create_task([](Queue<int>* q, int* n) -> Coro<void> {
            for (int i = 0; i < 2; ++i) {
                (void)co_await q->get();
                co_await sleep(1.0);
                ++*n;
                q->task_done();
            }
        }(&q, &done_n));
    }
    Coro<void> victim() override {
        co_await q.join();
        joined = true;
    }
    Coro<void> settle() override {
        co_await settle_task(worker);
        co_await q.join();  // nothing unfinished: returns at once
    }
    void check(const RunInfo& r) override {
        EXPECT_EQ(done_n, 2);
        EXPECT_TRUE(q.empty());
        EXPECT_THROW(q.task_done(), std::invalid_argument);  // the unfinished count is exactly 0
        if (r.completed()) {
            EXPECT_TRUE(joined);
        }
    }
};

// ---- Semaphore(0): units granted by release(n) to several waiters ---------------

struct SemaphoreGrantsCase : Case {
    Semaphore sem{0};
    int first_n = 0, victim_n = 0, last_n = 0;
    std::vector<Task<void>> helpers;
    void start() override {
        helpers.push_back(create_task(hold(sem, -1, 0.5, &first_n)));  // queued in front of the victim
        helpers.push_back(create_task(hold(sem, 0.0, 0.5, &last_n)));  // behind it
        helpers.push_back(create_task([](Semaphore* s) -> Coro<void> {
            co_await sleep(1.0);
            s->release();
            s->release();  // the first waiter and the victim
            co_await sleep(1.0);
            s->release();  // the last
        }(&sem)));
    }
    Coro<void> victim() override {
        auto held = co_await sem.acquire();
        ++victim_n;
        co_await sleep(0.5);
    }
    Coro<void> settle() override {
        for (auto& t : helpers) co_await settle_task(t);
    }
    void check(const RunInfo& r) override {
        EXPECT_EQ(first_n, 1);
        EXPECT_EQ(last_n, 1);       // a unit granted to a cancelled victim went on
        EXPECT_EQ(sem.value(), 3);  // three released, every guard gave its unit back
        EXPECT_TRUE(acquire_would_not_wait(sem));
        if (r.completed()) {
            EXPECT_EQ(victim_n, 1);
        }
    }
};

// ---- Condition.wait and notify_all -----------------------------------------------

struct ConditionNotifyAllCase : Case {
    Condition cond;
    int woken = 0, victim_n = 0;
    std::vector<Task<void>> helpers;
    static Coro<void> waiter(Condition* c, int* n) {
        co_await sleep(0);
        auto held = co_await c->acquire();
        co_await c->wait();
        ++*n;
    }
    void start() override {
        helpers.push_back(create_task(waiter(&cond, &woken)));
        helpers.push_back(create_task(waiter(&cond, &woken)));
        helpers.push_back(create_task([](Condition* c) -> Coro<void> {
            co_await sleep(1.0);
            auto held = co_await c->acquire();
            c->notify_all();
        }(&cond)));
    }
    Coro<void> victim() override {
        auto held = co_await cond.acquire();
        co_await cond.wait();
        ++victim_n;
        co_await sleep(0.25);
    }
    Coro<void> settle() override {
        for (auto& t : helpers) co_await settle_task(t);
    }
    void check(const RunInfo& r) override {
        EXPECT_EQ(woken, 2);
        EXPECT_FALSE(cond.locked());
        EXPECT_TRUE(acquire_would_not_wait(cond));
        if (r.completed()) {
            EXPECT_EQ(victim_n, 1);
        }
    }
};

// ---- Queue.get across shutdown() -------------------------------------------------

struct QueueShutdownCase : Case {
    Queue<int> q;
    bool shut_down_seen = false;
    int got = 0;
    Task<void> closer;
    void start() override {
        closer = create_task([](Queue<int>* q) -> Coro<void> {
            co_await sleep(1.0);
            q->put_nowait(5);
            co_await sleep(1.0);
            q->shutdown();
        }(&q));
    }
    Coro<void> victim() override {
        for (;;) {
            int v = 0;
            try {
                v = co_await q.get();
            } catch (const QueueShutDown&) {
                shut_down_seen = true;
                break;
            }
            got += v;
        }
    }
    Coro<void> settle() override { co_await settle_task(closer); }
    void check(const RunInfo& r) override {
        EXPECT_TRUE(q.is_shutdown());
        // A cancelled get() took no item: the victim's plus what is left is the one put.
        int left = 0;
        while (!q.empty()) left += q.get_nowait();
        EXPECT_EQ(got + left, 5);
        EXPECT_THROW((void)q.get_nowait(), QueueShutDown);  // drained and shut down
        if (r.completed()) {
            EXPECT_TRUE(shut_down_seen);
            EXPECT_EQ(got, 5);
        }
    }
};

TEST_F(SyncCancelTorture, LockAcquire) { torture<LockCase>(loop(), "Lock.acquire"); }
TEST_F(SyncCancelTorture, SemaphoreAcquire) { torture<SemaphoreCase<Semaphore>>(loop(), "Semaphore.acquire"); }
TEST_F(SyncCancelTorture, BoundedSemaphoreAcquire) {
    torture<SemaphoreCase<BoundedSemaphore>>(loop(), "BoundedSemaphore.acquire");
}
TEST_F(SyncCancelTorture, EventWait) { torture<EventCase>(loop(), "Event.wait"); }
TEST_F(SyncCancelTorture, ConditionWaitFor) { torture<ConditionCase>(loop(), "Condition.wait_for"); }
TEST_F(SyncCancelTorture, BarrierWait) { torture<BarrierCase>(loop(), "Barrier.wait"); }
TEST_F(SyncCancelTorture, QueueGet) { torture<QueueGetCase<Queue<int>>>(loop(), "Queue.get"); }
TEST_F(SyncCancelTorture, PriorityQueueGet) { torture<QueueGetCase<PriorityQueue<int>>>(loop(), "PriorityQueue.get"); }
TEST_F(SyncCancelTorture, LifoQueueGet) { torture<QueueGetCase<LifoQueue<int>>>(loop(), "LifoQueue.get"); }
TEST_F(SyncCancelTorture, QueuePut) { torture<QueuePutCase>(loop(), "Queue.put"); }
TEST_F(SyncCancelTorture, SemaphoreGrantsToSeveralWaiters) {
    torture<SemaphoreGrantsCase>(loop(), "Semaphore(0).acquire, release()x3");
}
TEST_F(SyncCancelTorture, ConditionWaitNotifyAll) {
    torture<ConditionNotifyAllCase>(loop(), "Condition.wait, notify_all");
}
TEST_F(SyncCancelTorture, QueueGetAcrossShutdown) { torture<QueueShutdownCase>(loop(), "Queue.get across shutdown"); }
TEST_F(SyncCancelTorture, QueueJoin) { torture<QueueJoinCase>(loop(), "Queue.join"); }

}  // namespace

}  // namespace sync_cancel_torture_test
