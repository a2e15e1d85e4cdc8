// The lifetime matrix, task layer (issue 8): loop and task, task and the
// future it awaits, the combinators and their children, async generators and
// the loop. Each case ends one of two related objects before, during or
// after the other's operation and checks: no memory error (ASan), no leak
// (LSan), no hang (virtual time, bounded), and a clear outcome where the
// operation can no longer succeed.
#include <tulip/task/task.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/sync/event.hpp>
#include <tulip/sync/lock.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/runner.hpp>
#include <tulip/task/shield.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task_group.hpp>
#include <tulip/task/wait.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace lifetime_task_future_test {

using namespace tulip;
using test::value_after;

namespace {

class LoopAndTask : public test::WatchdogLoopTest {};
class TaskAndFuture : public test::WatchdogLoopTest {};
class CombinatorAndChildren : public test::WatchdogLoopTest {};
class GeneratorAndLoop : public test::WatchdogLoopTest {};

bool mentions(const std::vector<std::string>& logs, const std::string& what) {
    for (auto& l : logs)
        if (l.find(what) != std::string::npos) return true;
    return false;
}

Coro<int> await_future(Future<int> f) { co_return co_await f; }

// ---- loop and task ------------------------------------------------------------

TEST_F(LoopAndTask, LoopClosedWithATaskThatNeverStarted) {
    bool ran = false;
    auto body = [&]() -> Coro<void> {
        ran = true;
        co_return;
    };
    auto t = loop().create_task(body());
    loop().close();
    EXPECT_FALSE(ran);
    EXPECT_TRUE(t.cancelled()) << "a task destroyed by close() ends cancelled";
    EXPECT_THROW(t.exception(), CancelledError);
    EXPECT_TRUE(mentions(logs, "Task was destroyed but it is pending"));
}

TEST_F(LoopAndTask, LoopClosedWithATaskSuspendedOnAFuture) {
    auto f = loop().create_future<int>();
    auto t = loop().create_task(await_future(f));
    run_briefly();
    loop().close();
    EXPECT_TRUE(t.cancelled());
    // The future outlives the task that waited on it; completing it now wakes nobody.
    f.set_result(1);
    EXPECT_EQ(f.result(), 1);
}

TEST_F(LoopAndTask, LoopClosedWithATaskSuspendedOnASleep) {
    auto t = loop().create_task(value_after(1000, 1));
    run_briefly();
    loop().close();
    EXPECT_TRUE(t.cancelled());
}

TEST_F(LoopAndTask, LoopClosedWithTasksWaitingOnALockAndAnEvent) {
    auto lock = std::make_unique<Lock>();
    auto ev = std::make_unique<Event>();
    auto hold = [&]() -> Coro<void> {
        auto g = co_await lock->acquire();
        co_await ev->wait();
    };
    auto want = [&]() -> Coro<void> { auto g = co_await lock->acquire(); };
    auto a = loop().create_task(hold());
    auto b = loop().create_task(want());
    run_briefly();
    loop().close();  // the frames unlink their waiters from the primitives
    ev.reset();
    lock.reset();
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
}

TEST_F(LoopAndTask, TaskHandleDroppedBeforeItRuns) {
    int result = 0;
    auto body = [&]() -> Coro<void> {
        co_await sleep(1);
        result = 7;
    };
    { (void)loop().create_task(body()); }
    run(sleep(2));
    EXPECT_EQ(result, 7) << "the loop owns a pending task";
}

TEST_F(LoopAndTask, TaskHandleDroppedWhileItRuns) {
    std::optional<Task<int>> handle;
    auto body = [&]() -> Coro<int> {
        handle.reset();  // the only user handle goes while the task runs
        co_await sleep(1);
        co_return 3;
    };
    handle = loop().create_task(body());
    auto probe = AnyTask(*handle);
    run(sleep(2));
    EXPECT_FALSE(handle.has_value());
    EXPECT_TRUE(probe.done());
}

TEST_F(LoopAndTask, TaskHandleDroppedAfterItFailedReportsTheExceptionOnce) {
    expect_handler_calls = true;
    auto body = []() -> Coro<void> {
        co_await sleep(0);
        throw std::runtime_error("lost");
    };
    {
        auto t = loop().create_task(body());
        run(sleep(1));
        EXPECT_TRUE(t.done());
    }
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(handler_calls[0].message, "Task exception was never retrieved");
}

TEST_F(LoopAndTask, RunFinishesWithLeftoverTasksCancelled) {
    bool saw_cancel = false;
    Task<void> leftover;
    auto sleeper = [&]() -> Coro<void> {
        try {
            co_await sleep(1e6);
        } catch (const CancelledError&) {
            saw_cancel = true;
            throw;
        }
    };
    auto main = [&]() -> Coro<int> {
        leftover = create_task(sleeper());
        co_await sleep(0);
        co_return 1;
    };
    RunnerOptions o;
    o.virtual_time = true;
    EXPECT_EQ(tulip::run(main(), o), 1);
    EXPECT_TRUE(saw_cancel);
    EXPECT_TRUE(leftover.cancelled());
    leftover = Task<void>();  // its loop is gone: the handle is the last owner
}

// ---- task and the future it awaits ---------------------------------------------

TEST_F(TaskAndFuture, EveryHandleOfTheFutureDroppedWhileATaskAwaitsIt) {
    auto holder = std::make_unique<Future<int>>(loop().create_future<int>());
    auto body = [&]() -> Coro<int> { co_return co_await *holder; };
    auto t = loop().create_task(body());
    run_briefly();
    holder.reset();  // only the task's awaiter refers to the future now
    t.cancel();      // cancels what the task awaits: the future must still be there
    EXPECT_THROW(run(t), CancelledError);
}

TEST_F(TaskAndFuture, GivenAwayFutureKeptAliveByItsAwaiterOnly) {
    Future<int> setter;
    auto body = [&]() -> Coro<int> {
        auto f = create_future<int>();
        setter = f;
        co_return co_await std::move(f);
    };
    auto t = loop().create_task(body());
    run_briefly();
    setter.set_result(5);
    setter = Future<int>();
    EXPECT_EQ(run(t), 5);
}

TEST_F(TaskAndFuture, TaskCancelledWhileTheFutureCompletesInTheSameIteration) {
    auto f = loop().create_future<int>();
    auto t = loop().create_task(await_future(f));
    run_briefly();
    loop().call_soon([&] { f.set_result(1); });
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError) << "the cancel came in before the task resumed";
    EXPECT_EQ(f.result(), 1);
}

TEST_F(TaskAndFuture, TaskCancelledWhileTheFutureFailsInTheSameIteration) {
    auto f = loop().create_future<int>();
    auto t = loop().create_task(await_future(f));
    run_briefly();
    loop().call_soon([&] { f.set_exception(std::runtime_error("boom")); });
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    f = Future<int>();  // no "never retrieved": the task looked at it (asyncio's __wakeup)
}

TEST_F(TaskAndFuture, ResultSetAfterTheAwaitingTaskWasCancelledAndDropped) {
    auto f = loop().create_future<int>();
    {
        auto body = [&]() -> Coro<int> { co_return co_await shield(f); };
        auto t = loop().create_task(body());
        run_briefly();
        t.cancel();
        EXPECT_THROW(run(t), CancelledError);
    }
    f.set_result(2);  // the shield's callback finds its outer future done
    run_briefly();
    EXPECT_EQ(f.result(), 2);
}

TEST_F(TaskAndFuture, ResultSetAfterTheLoopDestroyedTheAwaitingTask) {
    auto f = loop().create_future<int>();
    auto cb_ran = std::make_shared<bool>(false);
    f.add_done_callback([cb_ran] { *cb_ran = true; });
    auto t = loop().create_task(await_future(f));
    run_briefly();
    loop().close();
    f.set_result(3);  // on a closed loop the callbacks are dropped, not run
    EXPECT_FALSE(*cb_ran);
    EXPECT_EQ(f.result(), 3);
}

TEST_F(TaskAndFuture, LoopClosedWhileADoneCallbackIsScheduled) {
    auto f = loop().create_future<int>();
    auto cb_ran = std::make_shared<bool>(false);
    f.add_done_callback([cb_ran] { *cb_ran = true; });
    f.set_result(1);  // the callback is in the ready queue now
    loop().close();
    EXPECT_FALSE(*cb_ran);
    EXPECT_EQ(cb_ran.use_count(), 1) << "close() must release the dropped callback (and its future)";
}

TEST_F(TaskAndFuture, FutureWithACallbackCompletedAfterItsLoopWasDestroyed) {
    auto f = loop().create_future<int>();
    auto cb_ran = std::make_shared<bool>(false);
    f.add_done_callback([cb_ran] { *cb_ran = true; });
    loop().close();
    loop_.reset();    // the future outlives its loop object
    f.set_result(1);  // must not touch the freed loop
    EXPECT_FALSE(*cb_ran);
    EXPECT_EQ(cb_ran.use_count(), 1);
}

// ---- the combinators and their children -------------------------------------------

TEST_F(CombinatorAndChildren, GatherFutureDroppedWhileItsChildrenRun) {
    auto a = loop().create_task(value_after(1, 1));
    auto b = loop().create_task(value_after(2, 2));
    auto start = [&]() -> Coro<void> {
        { auto g = gather(a, b); }  // nobody will await it
        co_return;
    };
    run(start());
    run(sleep(3));
    EXPECT_EQ(a.result() + b.result(), 3);
}

TEST_F(CombinatorAndChildren, GatherFutureOfCoroutinesDroppedWhileTheyRun) {
    int done = 0;
    auto child = [&](double d) -> Coro<int> {
        co_await sleep(d);
        ++done;
        co_return 1;
    };
    auto start = [&]() -> Coro<void> {
        auto g = gather(child(1), child(2));  // dropped at once; the children are the loop's
        co_return;
    };
    run(start());
    run(sleep(3));
    EXPECT_EQ(done, 2);
}

TEST_F(CombinatorAndChildren, ParentCancelledWhileAGatherChildCompletes) {
    auto f = loop().create_future<int>();
    auto body = [&]() -> Coro<void> {
        [[maybe_unused]] auto r = co_await gather(await_future(f), value_after(1000, 2));
    };
    auto t = loop().create_task(body());
    run_briefly();
    loop().call_soon([&] { f.set_result(1); });
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    run_briefly();
}

TEST_F(CombinatorAndChildren, WaitCancelledWhileItsFuturesComplete) {
    auto f = loop().create_future<int>();
    auto g = loop().create_future<int>();
    auto body = [&]() -> Coro<void> {
        std::vector<Future<int>> fs{f, g};
        [[maybe_unused]] auto r = co_await wait(fs);
    };
    auto t = loop().create_task(body());
    run_briefly();
    loop().call_soon([&] { f.set_result(1); });
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    g.set_result(2);  // its done callback was removed by the cancelled wait
    run_briefly();
}

TEST_F(CombinatorAndChildren, TaskGroupParentCancelledWhileAChildCompletes) {
    auto f = loop().create_future<int>();
    int seen_cancel = 0;
    auto slow = [&]() -> Coro<void> {
        try {
            co_await sleep(1000);
        } catch (const CancelledError&) {
            ++seen_cancel;
            throw;
        }
    };
    auto body = [&]() -> Coro<void> {
        auto group = [&](TaskGroup& tg) -> Coro<void> {
            tg.create_task(await_future(f));
            tg.create_task(slow());
            co_return;
        };
        co_await task_group(group);
    };
    auto t = loop().create_task(body());
    run_briefly();
    loop().call_soon([&] { f.set_result(1); });
    loop().call_soon([&] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_EQ(seen_cancel, 1) << "the group waits for its children before it lets the cancellation out";
}

TEST_F(CombinatorAndChildren, ShieldOuterDroppedWhileTheInnerTaskRuns) {
    auto inner = loop().create_task(value_after(1, 4));
    auto start = [&]() -> Coro<void> {
        { auto outer = shield(inner); }
        co_return;
    };
    run(start());
    EXPECT_EQ(run(inner), 4);
}

TEST_F(CombinatorAndChildren, LoopClosedWhileAGatherAndAWaitForArePending) {
    auto f = loop().create_future<int>();
    auto g_body = [&]() -> Coro<void> {
        [[maybe_unused]] auto r = co_await gather(await_future(f), value_after(1000, 1));
    };
    auto w_body = [&]() -> Coro<int> { co_return co_await wait_for(await_future(f), 1000.0); };
    auto a = loop().create_task(g_body());
    auto b = loop().create_task(w_body());
    run_briefly();
    loop().close();
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
}

// ---- async generators and the loop ---------------------------------------------

AsyncGenerator<int> ticks(int* cleaned) {
    struct Cleanup {
        int* n;
        ~Cleanup() { ++*n; }
    } cleanup{cleaned};
    for (int i = 0;; ++i) {
        co_await sleep(1);
        co_yield i;
    }
}

TEST_F(GeneratorAndLoop, LoopClosedWithAGeneratorSuspendedInsideAnAwait) {
    int cleaned = 0;
    auto body = [&]() -> Coro<void> {
        auto gen = ticks(&cleaned);
        while (auto v = co_await gen.next()) {}
    };
    auto t = loop().create_task(body());
    run_briefly();  // the generator is now inside its sleep
    loop().close();
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(cleaned, 1) << "the generator's frame was destroyed with its consumer's";
}

TEST_F(GeneratorAndLoop, LoopClosedWithAGeneratorSuspendedAtAYieldThenDropped) {
    int cleaned = 0;
    std::optional<AsyncGenerator<int>> gen;
    gen.emplace(ticks(&cleaned));
    auto first = [&]() -> Coro<int> {
        auto v = co_await gen->next();
        co_return *v;
    };
    EXPECT_EQ(run(first()), 0);
    loop().close();
    gen.reset();  // no loop to finalise it in: destroyed, its destructors run
    EXPECT_EQ(cleaned, 1);
}

TEST_F(GeneratorAndLoop, GeneratorDroppedAfterItsLoopWasDestroyed) {
    int cleaned = 0;
    std::optional<AsyncGenerator<int>> gen;
    gen.emplace(ticks(&cleaned));
    auto first = [&]() -> Coro<int> {
        auto v = co_await gen->next();
        co_return *v;
    };
    EXPECT_EQ(run(first()), 0);
    loop().close();
    loop_.reset();
    gen.reset();  // must not unlink itself from the freed loop
    EXPECT_EQ(cleaned, 1);
}

TEST_F(GeneratorAndLoop, RunnerFinalisesAGeneratorLeftSuspendedAtAYield) {
    int cleaned = 0;
    std::optional<AsyncGenerator<int>> gen;
    auto main = [&]() -> Coro<int> {
        gen.emplace(ticks(&cleaned));
        auto v = co_await gen->next();
        co_return *v;
    };
    {
        RunnerOptions o;
        o.virtual_time = true;
        Runner r(o);
        EXPECT_EQ(r.run(main()), 0);
    }  // close(): shutdown_asyncgens runs the generator's cleanup
    EXPECT_EQ(cleaned, 1);
    gen.reset();
}

}  // namespace

}  // namespace lifetime_task_future_test
