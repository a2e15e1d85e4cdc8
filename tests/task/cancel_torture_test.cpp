// Cancellation torture of the task layer (reliability program, part 5):
// sleep, awaiting a Future and a Task, gather, wait, wait_for, timeout and
// timeout_at, TaskGroup, shield, as_completed and async generators, each
// cancelled at every loop iteration it suspends across (the harness is
// tests/support/cancel_torture.hpp), on virtual time. The invariants: the
// victim ends as a cancel at that point must end it, no task, callback or
// timer is left behind, children are cancelled exactly when asyncio cancels
// them (gather, wait_for, TaskGroup: yes; wait, shield, as_completed: no),
// and the victim's task has no cancel request left over (cancelling() == 0)
// after a timeout it absorbed.
#include <gtest/gtest-spi.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/cancel_torture.hpp"
#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_cancel_torture_test {

using namespace tulip;
using test::torture::Case;
using test::torture::RunInfo;
using test::torture::settle_task;
using test::torture::torture;

namespace {

class TaskCancelTorture : public test::LoopTest {};

// Children that count how far they got.
struct Counters {
    int started = 0;
    int finished = 0;  // reached their end
    int ended = 0;     // left their frame, however (finished, failed, cancelled)
};

struct EndNote {
    Counters* c;
    ~EndNote() { ++c->ended; }
};

Coro<int> child(Counters* c, double delay, int value) {
    ++c->started;
    EndNote note{c};
    co_await sleep(delay);
    ++c->finished;
    co_return value;
}

Coro<int> failing_child(Counters* c, double delay) {
    ++c->started;
    EndNote note{c};
    co_await sleep(delay);
    ++c->finished;
    throw std::runtime_error("child failed");
}

// Waits until every child started has left its frame.
Coro<void> children_ended(Counters* c) {
    while (c->ended < c->started) co_await sleep(0.5);
    co_await sleep(0);  // their tasks' last callbacks
}

template <class T>
Coro<void> settle_all(std::vector<Task<T>> ts) {
    for (auto& t : ts) co_await settle_task(t);
}

// ---- sleep -------------------------------------------------------------------

struct SleepCase : Case {
    int reached = 0;
    Coro<void> victim() override {
        co_await sleep(0);
        ++reached;
        co_await sleep(1.0);
        ++reached;
        co_await sleep(0.25, 7);
        ++reached;
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(reached, 3);
        }
        if (r.k == 0) {
            EXPECT_EQ(reached, 0);
        }  // cancelled before it ever ran
    }
};

// ---- Future ------------------------------------------------------------------

struct FutureCase : Case {
    Future<int> fut;
    Task<void> setter;
    int got = 0;
    void start() override {
        fut = create_future<int>();
        setter = create_task([](Future<int> f) -> Coro<void> {
            co_await sleep(1.0);
            if (!f.done()) f.set_result(42);
        }(fut));
    }
    Coro<void> victim() override { got = co_await fut; }
    Coro<void> settle() override { co_await setter; }
    void check(const RunInfo& r) override {
        EXPECT_TRUE(fut.done());
        if (r.completed()) {
            EXPECT_EQ(got, 42);
        }
        // Cancelling the task that awaits a Future cancels the Future (asyncio).
        if (r.cancelled() && r.k > 0 && !fut.cancelled()) {
            EXPECT_EQ(fut.result(), 42);
        }
    }
};

// ---- Task --------------------------------------------------------------------

struct TaskCase : Case {
    Counters c;
    Task<int> inner;
    int got = 0;
    void start() override { inner = create_task(child(&c, 1.0, 7)); }
    Coro<void> victim() override { got = co_await inner; }
    Coro<void> settle() override { co_await settle_task(inner); }
    void check(const RunInfo& r) override {
        EXPECT_TRUE(inner.done());
        if (r.completed()) {
            EXPECT_EQ(got, 7);
        }
        // Awaiting a task and being cancelled cancels that task, if still pending.
        if (r.cancelled() && r.k > 0) {
            EXPECT_TRUE(inner.cancelled() || inner.result() == 7);
        }
        if (inner.cancelled()) {
            EXPECT_EQ(c.finished, 0);
        }
    }
};

// ---- gather ------------------------------------------------------------------

struct GatherCase : Case {
    Counters c;
    int sum = 0;
    Coro<void> victim() override {
        auto [a, b, d] = co_await gather(child(&c, 1.0, 1), child(&c, 2.0, 2), child(&c, 0.0, 4));
        sum = a + b + d;
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(sum, 7);
        }
        // Cancelling the gather cancels every child not done (the harness
        // sees no task left); a child that had finished stays finished.
        EXPECT_LE(c.finished, c.started);
        if (r.k == 0) {
            EXPECT_EQ(c.started, 0);
        }
    }
};

struct GatherTasksCase : Case {
    Counters c;
    std::vector<Task<int>> ts;
    int sum = 0;
    void start() override {
        ts.push_back(create_task(child(&c, 1.0, 1)));
        ts.push_back(create_task(child(&c, 2.0, 2)));
    }
    Coro<void> victim() override {
        auto all = co_await gather(tulip::return_exceptions, ts);
        for (auto& o : all) sum += o.value();
    }
    Coro<void> settle() override { co_await settle_all(ts); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(sum, 3);
        }
        for (auto& t : ts) EXPECT_TRUE(t.done());
        // Cancelled gather: each child is either finished or cancelled.
        for (auto& t : ts)
            if (!t.cancelled()) {
                EXPECT_FALSE(t.exception());
            }
    }
};

// ---- wait --------------------------------------------------------------------

struct WaitCase : Case {
    Counters c;
    std::vector<Task<int>> ts;
    std::size_t done_n = 0;
    void start() override {
        ts.push_back(create_task(child(&c, 1.0, 1)));
        ts.push_back(create_task(child(&c, 3.0, 2)));
    }
    Coro<void> victim() override {
        WaitOptions o;
        o.timeout = Seconds(2.0);
        auto [done, pending] = co_await wait(ts, o);
        done_n = done.size();
        auto [done2, pending2] = co_await wait(pending);
        done_n += done2.size();
    }
    Coro<void> settle() override { co_await settle_all(ts); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(done_n, 2u);
        }
        // wait() never cancels the futures it waits on.
        for (auto& t : ts) EXPECT_FALSE(t.cancelled());
        EXPECT_EQ(c.finished, 2);
    }
};

// ---- wait_for ----------------------------------------------------------------

struct WaitForCoroCase : Case {
    Counters c;
    int got = 0;
    bool timed_out = false;
    Coro<void> victim() override {
        got = co_await wait_for(child(&c, 1.0, 5), Seconds(2.0));
        timed_out = co_await test::times_out(wait_for(child(&c, 3.0, 6), Seconds(1.0)));
        EXPECT_EQ(current_task().cancelling(), 0);  // the expiry's cancel was taken back
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(got, 5);
            EXPECT_TRUE(timed_out);
            EXPECT_EQ(c.finished, 1);
        }
    }
};

struct WaitForTaskCase : Case {
    Counters c;
    Task<int> inner;
    int got = 0;
    void start() override { inner = create_task(child(&c, 1.0, 9)); }
    Coro<void> victim() override { got = co_await wait_for(inner, Seconds(5.0)); }
    Coro<void> settle() override { co_await settle_task(inner); }
    void check(const RunInfo& r) override {
        EXPECT_TRUE(inner.done());
        if (r.completed()) {
            EXPECT_EQ(got, 9);
        }
        // Cancelling the caller cancels the inner work.
        if (r.cancelled() && r.cancel_hit) {
            EXPECT_TRUE(inner.cancelled() || c.finished == 1);
        }
    }
};

struct WaitForExpiresOnTaskCase : Case {
    Counters c;
    Task<int> inner;
    bool timed_out = false;
    void start() override { inner = create_task(child(&c, 3.0, 9)); }
    Coro<void> victim() override { timed_out = co_await test::times_out(wait_for(inner, Seconds(1.0))); }
    Coro<void> settle() override { co_await settle_task(inner); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(timed_out);
            EXPECT_TRUE(inner.cancelled());  // on expiry the inner task is cancelled and waited for
        }
        if (r.k != 0) {
            EXPECT_EQ(c.finished, 0);
        }  // k = 0: never awaited, so never cancelled
    }
};

// ---- timeout / timeout_at ----------------------------------------------------

struct TimeoutExpiresCase : Case {
    int reached = 0;
    bool timed_out = false;
    bool expired = false;
    Coro<void> victim() override {
        auto body = [this](Timeout& t) -> Coro<void> {
            co_await sleep(0.5);
            ++reached;
            co_await sleep(1.0);  // the deadline (1 s) falls here
            ++reached;
            expired = t.expired();
        };
        try {
            co_await timeout(Seconds(1.0), body);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_EQ(current_task().cancelling(), 0);
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(timed_out);
            EXPECT_EQ(reached, 1);
        }
        // An outside cancel is never turned into TimeoutError.
        if (r.cancelled()) {
            EXPECT_FALSE(timed_out);
        }
        EXPECT_FALSE(expired);
    }
};

struct TimeoutAtInTimeCase : Case {
    int got = 0;
    Coro<void> victim() override {
        auto body = [](Timeout& t) -> Coro<int> {
            co_await sleep(0.5);
            t.reschedule(get_running_loop().time() + 2.0);
            co_await sleep(1.0);
            co_return 3;
        };
        got = co_await timeout_at(get_running_loop().time() + 1.0, body);
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(got, 3);
        }
    }
};

// ---- TaskGroup ---------------------------------------------------------------

struct TaskGroupCase : Case {
    Counters c;
    int body_done = 0;
    int sum = 0;
    Coro<void> victim() override {
        co_await task_group([this](TaskGroup& tg) -> Coro<void> {
            auto a = tg.create_task(child(&c, 1.0, 1));
            auto b = tg.create_task(child(&c, 2.0, 2));
            co_await sleep(0.5);
            ++body_done;
            sum = co_await a;
        });
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(c.finished, 2);
            EXPECT_EQ(sum, 1);
        }
        // task_group() returned: every child ended (the harness sees no task left).
        EXPECT_LE(c.finished, c.started);
    }
};

struct TaskGroupFailingCase : Case {
    Counters c;
    std::size_t errors = 0;
    Coro<void> victim() override {
        try {
            co_await task_group([this](TaskGroup& tg) -> Coro<void> {
                tg.create_task(child(&c, 2.0, 1));
                tg.create_task(failing_child(&c, 1.0));
                co_await sleep(3.0);
            });
        } catch (const ExceptionGroup& eg) {
            errors = eg.exceptions().size();
        }
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(errors, 1u);
            EXPECT_EQ(c.finished, 1);  // the failure cancelled the sibling
        }
        // Cancelled after the failure, the group still raises its ExceptionGroup
        // and re-cancels the task (asyncio 3.13's "keep the cancel count
        // stable"): the victim catches it and still ends cancelled.
        EXPECT_LE(errors, 1u);
        EXPECT_LE(c.finished, 1);
    }
};

// ---- shield ------------------------------------------------------------------

struct ShieldTaskCase : Case {
    Counters c;
    Task<int> inner;
    int got = 0;
    void start() override { inner = create_task(child(&c, 2.0, 9)); }
    Coro<void> victim() override { got = co_await shield(inner); }
    Coro<void> settle() override { co_await settle_task(inner); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(got, 9);
        }
        // The shielded task runs on whatever happened to its awaiter.
        EXPECT_FALSE(inner.cancelled());
        EXPECT_EQ(inner.result(), 9);
    }
};

struct ShieldCoroCase : Case {
    Counters c;
    int got = 0;
    Coro<void> victim() override { got = co_await shield(child(&c, 2.0, 4)); }
    // The coroutine shield made a task of runs to its end.
    Coro<void> settle() override { co_await children_ended(&c); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(got, 4);
        }
        EXPECT_EQ(c.finished, c.started);
    }
};

// ---- as_completed ------------------------------------------------------------

struct AsCompletedCase : Case {
    Counters c;
    std::vector<Task<int>> ts;
    int sum = 0;
    int timeouts = 0;
    void start() override {
        ts.push_back(create_task(child(&c, 2.0, 1)));
        ts.push_back(create_task(child(&c, 1.0, 2)));
        ts.push_back(create_task(child(&c, 5.0, 4)));
    }
    Coro<void> victim() override {
        auto it = as_completed(ts, Seconds(3.0));
        while (it.remaining()) {
            std::optional<Task<int>> f;
            try {
                f = co_await it.next();
            } catch (const TimeoutError&) {
                ++timeouts;
            }
            if (f) sum += co_await *f;
        }
    }
    Coro<void> settle() override { co_await settle_all(ts); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(sum, 3);
            EXPECT_EQ(timeouts, 1);
        }
        // as_completed never cancels the futures.
        for (auto& t : ts) EXPECT_FALSE(t.cancelled());
        EXPECT_EQ(c.finished, 3);
    }
};

struct AsCompletedResultCase : Case {
    Counters c;
    int sum = 0;
    Coro<void> victim() override {
        std::vector<Coro<int>> cs;
        cs.push_back(child(&c, 1.0, 1));
        cs.push_back(child(&c, 0.0, 2));
        auto it = as_completed(std::move(cs));
        while (it.remaining()) sum += co_await it.next_result();
    }
    Coro<void> settle() override {
        co_await children_ended(&c);  // the tasks it made run on
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(sum, 3);
        }
        EXPECT_EQ(c.finished, r.k == 0 ? 0 : 2);  // as_completed never cancels what it made
    }
};

// ---- async generator ---------------------------------------------------------

struct GenState {
    int yielded = 0;
    int closed = 0;  // the generator's frame was finalised
};

struct CloseNote {
    GenState* s;
    ~CloseNote() { ++s->closed; }
};

AsyncGenerator<int> ticker(GenState* s, int n) {
    CloseNote note{s};
    for (int i = 0; i < n; ++i) {
        co_await sleep(0.5);
        ++s->yielded;
        co_yield i;
    }
}

struct AsyncGeneratorCase : Case {
    GenState s;
    int sum = 0;
    Coro<void> victim() override {
        auto g = ticker(&s, 3);
        while (auto v = co_await g.next()) sum += *v;
    }
    Coro<void> settle() override { co_await sleep(0); }  // a dropped generator may be finalised in a task
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(sum, 3);
        }
        if (r.k != 0) {
            EXPECT_EQ(s.closed, 1);
        }  // its frame ended (k = 0: it never started)
    }
};

// ---- nested timeouts, a TaskGroup inside a timeout ---------------------------

// Inner and outer deadlines at the same instant: both fire in one iteration;
// the outer scope raises TimeoutError, the inner passes the cancellation on
// (asyncio 3.12+'s uncancel() accounting).
struct NestedTimeoutsCase : Case {
    bool inner_timed_out = false, outer_timed_out = false;
    int reached = 0;
    Coro<void> victim() override {
        auto inner_body = [this](Timeout&) -> Coro<void> {
            co_await sleep(0.5);
            ++reached;
            co_await sleep(5.0);
            ++reached;
        };
        auto outer_body = [this, &inner_body](Timeout&) -> Coro<void> {
            try {
                co_await timeout(Seconds(1.0), inner_body);
            } catch (const TimeoutError&) {
                inner_timed_out = true;
            }
        };
        try {
            co_await timeout(Seconds(1.0), outer_body);
        } catch (const TimeoutError&) {
            outer_timed_out = true;
        }
        EXPECT_EQ(current_task().cancelling(), 0);
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(outer_timed_out);
            EXPECT_FALSE(inner_timed_out);  // the outer deadline's cancel is not the inner's to take
            EXPECT_EQ(reached, 1);
        }
        if (r.cancelled()) {
            EXPECT_FALSE(outer_timed_out);
        }
    }
};

struct TaskGroupInTimeoutCase : Case {
    Counters c;
    bool timed_out = false;
    Coro<void> victim() override {
        auto body = [this](Timeout&) -> Coro<void> {
            co_await task_group([this](TaskGroup& tg) -> Coro<void> {
                tg.create_task(child(&c, 0.5, 1));
                tg.create_task(child(&c, 2.0, 2));  // still running at the deadline
                co_return;
            });
        };
        try {
            co_await timeout(Seconds(1.0), body);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_EQ(current_task().cancelling(), 0);
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(timed_out);
            EXPECT_EQ(c.finished, 1);
        }
        if (r.cancelled()) {
            EXPECT_FALSE(timed_out);
        }
    }
};

// ---- failures nobody is left to read -------------------------------------------

// shield() of a coroutine that fails after its awaiter was cancelled: as in
// asyncio 3.12+ (shield's _outer_done_callback removes the inner callback),
// nobody reads the failure, so it is reported once as "never retrieved" when
// the task goes; keep the task and await it to read it. Failing before the
// cancel, it is passed on (no report).
struct ShieldFailingCase : Case {
    Counters c;
    bool failed = false;
    Coro<void> victim() override {
        try {
            co_await shield(failing_child(&c, 1.0));
        } catch (const std::runtime_error&) {
            failed = true;
        }
    }
    Coro<void> settle() override { co_await children_ended(&c); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(failed);
        }
        EXPECT_EQ(c.finished, c.started);
    }
};

// gather() whose two children fail one after the other: the first failure
// ends the gather, the second is marked retrieved, also when the gather's
// awaiter was cancelled in between.
struct GatherTwoFailuresCase : Case {
    Counters c;
    bool failed = false;
    Coro<void> victim() override {
        try {
            co_await gather(failing_child(&c, 1.0), failing_child(&c, 2.0), child(&c, 3.0, 1));
        } catch (const std::runtime_error&) {
            failed = true;
        }
    }
    Coro<void> settle() override { co_await children_ended(&c); }
    // Cancelled in the iteration where the first failure is on its way to the
    // gather (the child is done, its done-callback not run yet): the gather's
    // cancel() succeeds (children still pending), then the failure completes
    // it, and its awaiter gets the failure, not CancelledError — asyncio's
    // _GatheringFuture does the same (Task.cancel() returned True through the
    // waiter, so no _must_cancel is left).
    bool may_absorb_cancel() const override { return true; }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(failed);
        }
        if (r.cancel_hit && r.completed()) {
            ++absorbed_runs();
        }
    }
    static int& absorbed_runs() {
        static int n = 0;
        return n;
    }
};

// ---- to_thread -------------------------------------------------------------------

struct ToThreadCase : Case {
    std::atomic<int> ran{0};
    int got = 0;
    Coro<void> victim() override {
        co_await sleep(0.5);
        auto fn = [this] {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            return ++ran;
        };
        got = co_await to_thread(fn);
    }
    // The job runs on to its end even when its awaiter was cancelled.
    Coro<void> settle() override { co_await test::torture::thread_work_done(); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(got, 1);
        }
        // Started (the victim got past its sleep): it ran to its end, cancelled or not.
        if (!r.cancel_hit || r.k > 2) {
            EXPECT_EQ(ran.load(), 1);
        }
        EXPECT_LE(ran.load(), 1);
    }
};

// ---- the harness's own test: it must catch what it is there to catch ---------

// A mailbox that hands an item straight to the first waiting getter's
// Future: a getter cancelled after that loses the item (the bug a cancel-safe
// get() must not have), and nobody else is woken for it.
struct LossyMailbox {
    std::deque<int> items;
    std::deque<Future<int>> getters;
    void put(int v) {
        while (!getters.empty()) {
            Future<int> f = getters.front();
            getters.pop_front();
            if (!f.done()) {
                f.set_result(v);
                return;
            }
        }
        items.push_back(v);
    }
    Coro<int> get() {
        if (!items.empty()) {
            int v = items.front();
            items.pop_front();
            co_return v;
        }
        Future<int> f = create_future<int>();
        getters.push_back(f);
        co_return co_await f;
    }
};

struct LossyMailboxCase : Case {
    LossyMailbox box;
    std::vector<int> produced, taken;
    Task<void> producer, follower;
    void start() override {
        producer = create_task([](LossyMailbox* b, std::vector<int>* p) -> Coro<void> {
            co_await sleep(1.0);
            b->put(1);
            p->push_back(1);
        }(&box, &produced));
        follower = create_task([](LossyMailbox* b, std::vector<int>* t) -> Coro<void> {
            co_await sleep(0);
            t->push_back(co_await b->get());
        }(&box, &taken));
    }
    bool victim_took = false;
    Coro<void> victim() override {
        taken.push_back(co_await box.get());
        victim_took = true;
    }
    Coro<void> settle() override {
        co_await settle_task(producer);
        if (victim_took) {  // the one item went to the victim: give the follower another
            box.put(2);
            produced.push_back(2);
        }
        co_await settle_task(follower);
    }
    void check(const RunInfo&) override {
        std::vector<int> all = taken;
        all.insert(all.end(), box.items.begin(), box.items.end());
        EXPECT_EQ(all.size(), produced.size()) << "an item was lost";
    }
};

struct LeakyTimerCase : Case {
    Coro<void> victim() override {
        get_running_loop().call_later(100.0, [] {});  // never cancelled
        co_await sleep(1.0);
    }
    void check(const RunInfo&) override {}
};

// Runs f with gtest's failures intercepted; returns their messages.
template <class F>
std::vector<std::string> failures_of(F f) {
    ::testing::TestPartResultArray results;
    {
        ::testing::ScopedFakeTestPartResultReporter reporter(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
        f();
    }
    std::vector<std::string> out;
    for (int i = 0; i < results.size(); ++i) out.push_back(results.GetTestPartResult(i).message());
    return out;
}

bool any_contains(const std::vector<std::string>& msgs, const std::string& what) {
    for (auto& m : msgs)
        if (m.find(what) != std::string::npos) return true;
    return false;
}

TEST_F(TaskCancelTorture, TheHarnessCatchesALostItemAndALostWakeUp) {
    auto msgs = failures_of([&] { torture<LossyMailboxCase>(loop(), "harness self-test: lossy mailbox"); });
    EXPECT_TRUE(any_contains(msgs, "an item was lost"));
    EXPECT_TRUE(any_contains(msgs, "settle() did not finish"));
}

TEST_F(TaskCancelTorture, TheHarnessCatchesALeftoverTimer) {
    auto msgs = failures_of([&] { torture<LeakyTimerCase>(loop(), "harness self-test: leaky timer"); });
    EXPECT_TRUE(any_contains(msgs, "the loop was not idle"));
}

TEST_F(TaskCancelTorture, Sleep) { torture<SleepCase>(loop(), "sleep"); }
TEST_F(TaskCancelTorture, AwaitFuture) { torture<FutureCase>(loop(), "await Future"); }
TEST_F(TaskCancelTorture, AwaitTask) { torture<TaskCase>(loop(), "await Task"); }
TEST_F(TaskCancelTorture, GatherOfCoroutines) { torture<GatherCase>(loop(), "gather(coros)"); }
TEST_F(TaskCancelTorture, GatherOfTasksReturnExceptions) {
    torture<GatherTasksCase>(loop(), "gather(return_exceptions, tasks)");
}
TEST_F(TaskCancelTorture, Wait) { torture<WaitCase>(loop(), "wait"); }
TEST_F(TaskCancelTorture, WaitForCoroutine) { torture<WaitForCoroCase>(loop(), "wait_for(coro)"); }
TEST_F(TaskCancelTorture, WaitForTask) { torture<WaitForTaskCase>(loop(), "wait_for(task)"); }
TEST_F(TaskCancelTorture, WaitForTaskExpires) { torture<WaitForExpiresOnTaskCase>(loop(), "wait_for(task) expiring"); }
TEST_F(TaskCancelTorture, TimeoutExpires) { torture<TimeoutExpiresCase>(loop(), "timeout expiring"); }
TEST_F(TaskCancelTorture, TimeoutAtRescheduled) { torture<TimeoutAtInTimeCase>(loop(), "timeout_at rescheduled"); }
TEST_F(TaskCancelTorture, TaskGroup) { torture<TaskGroupCase>(loop(), "TaskGroup"); }
TEST_F(TaskCancelTorture, TaskGroupWithAFailingChild) { torture<TaskGroupFailingCase>(loop(), "TaskGroup failing"); }
TEST_F(TaskCancelTorture, ShieldTask) { torture<ShieldTaskCase>(loop(), "shield(task)"); }
TEST_F(TaskCancelTorture, ShieldCoroutine) { torture<ShieldCoroCase>(loop(), "shield(coro)"); }
TEST_F(TaskCancelTorture, AsCompleted) { torture<AsCompletedCase>(loop(), "as_completed next()"); }
TEST_F(TaskCancelTorture, AsCompletedNextResult) {
    torture<AsCompletedResultCase>(loop(), "as_completed next_result()");
}
TEST_F(TaskCancelTorture, NestedTimeoutsWithOneDeadline) {
    torture<NestedTimeoutsCase>(loop(), "timeout in timeout, same deadline");
}
TEST_F(TaskCancelTorture, TaskGroupInsideATimeout) { torture<TaskGroupInTimeoutCase>(loop(), "TaskGroup in timeout"); }
TEST_F(TaskCancelTorture, ShieldOfAFailingCoroutine) {
    expect_handler_calls = true;
    auto s = torture<ShieldFailingCase>(loop(), "shield(failing coro)");
    // One report per run whose awaiter was cancelled before the failure, no more.
    EXPECT_GT(handler_calls.size(), 0u);
    EXPECT_LT(handler_calls.size(), static_cast<std::size_t>(s.runs));
    for (auto& c : handler_calls) {
        EXPECT_EQ(c.message, "Task exception was never retrieved");
        EXPECT_EQ(describe_exception(c.exception), "std::runtime_error: child failed");
    }
}
TEST_F(TaskCancelTorture, GatherWithTwoFailures) {
    GatherTwoFailuresCase::absorbed_runs() = 0;
    torture<GatherTwoFailuresCase>(loop(), "gather, two failures");
    EXPECT_GT(GatherTwoFailuresCase::absorbed_runs(), 0);  // the case above does occur
}
TEST_F(TaskCancelTorture, ToThread) { torture<ToThreadCase>(loop(), "to_thread"); }
TEST_F(TaskCancelTorture, AsyncGenerator) { torture<AsyncGeneratorCase>(loop(), "async generator next()"); }

}  // namespace

}  // namespace task_cancel_torture_test
