// Task<T>, create_task, current_task, all_tasks, sleep and cancellation, as
// CPython's Lib/test/test_asyncio/test_tasks.py checks them, with the hop
// rules of DESIGN.md counted in loop iterations.
#include <tulip/task/task.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/sleep.hpp>

#include "support/loop_test.hpp"

namespace task_task_test {

using namespace tulip;

namespace {

using WatchedLoopTest = test::WatchdogLoopTest;

class ATask : public WatchedLoopTest {};
class TaskNames : public WatchedLoopTest {};
class CurrentTask : public WatchedLoopTest {};
class AllTasks : public WatchedLoopTest {};
class TaskCancellation : public WatchedLoopTest {};
class CancellingCount : public WatchedLoopTest {};
class UnretrievedTaskException : public WatchedLoopTest {};
class Sleep : public WatchedLoopTest {};
class HopRules : public WatchedLoopTest {};
class RunUntilComplete : public WatchedLoopTest {};

// Records at which loop iteration things happen. The test drives the loop with
// step(), which counts iterations; coroutines note the current count.
struct Steps {
    int iteration = 0;
    std::vector<std::pair<std::string, int>> events;
    void note(std::string what) { events.emplace_back(std::move(what), iteration); }
    int at(const std::string& what) const {
        for (auto& [w, i] : events)
            if (w == what) return i;
        return -1;
    }
};

// ---- coroutines used by the tests --------------------------------------------

Coro<int> mark_and_return(bool* ran, int v) {
    *ran = true;
    co_return v;
}

Coro<void> noop() { co_return; }

Coro<int> await_future(Future<int> f) { co_return co_await f; }

template <class T>
Coro<T> await_task(Task<T> t) {
    co_return co_await std::move(t);
}

Coro<void> sleep_for(double d) { co_await sleep(d); }

Coro<int> sleep_then(double d, int v) {
    co_await sleep(d);
    co_return v;
}

Coro<void> bump_after_sleeps(int* counter) {
    co_await sleep(1);
    ++*counter;
    co_await sleep(1);
    ++*counter;
}

Coro<int> fail_with(std::string what) {
    throw std::runtime_error(what);
    co_return 0;
}

Coro<int> fail_after_yield(std::string what) {
    co_await sleep(0);
    throw std::runtime_error(what);
}

Coro<void> yield_twice_then(int* reached) {
    co_await sleep(0);
    co_await sleep(0);
    *reached = 12;
}

Coro<std::string> catch_cancel_message_of(Task<int> t) {
    try {
        co_await t;
    } catch (const CancelledError& e) {
        co_return "caught: " + e.message();
    }
    co_return "not cancelled";
}

std::size_t count_messages(const std::vector<ExceptionContext>& calls, const std::string& text) {
    std::size_t n = 0;
    for (auto& c : calls)
        if (c.message.find(text) != std::string::npos) ++n;
    return n;
}

}  // namespace

// ---- creation and completion ------------------------------------------------------------

TEST_F(ATask, IsScheduledAtCreationAndRunsItsFirstStepInTheNextIteration) {
    bool ran = false;
    auto t = loop().create_task(mark_and_return(&ran, 1));
    EXPECT_FALSE(ran) << "create_task ran the body inline";
    EXPECT_FALSE(t.done());
    run_once();
    EXPECT_TRUE(ran);
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), 1);
    EXPECT_EQ(&t.get_loop(), &loop());
}

TEST_F(ATask, RunsToCompletionEvenWhenItsHandleIsDropped) {
    int counter = 0;
    (void)loop().create_task(bump_after_sleeps(&counter));
    EXPECT_EQ(run(sleep_then(5, 0)), 0);
    EXPECT_EQ(counter, 2) << "the loop must own a pending task (asyncio keeps only a weak reference)";
}

TEST_F(ATask, ReturnsTheResultOfItsCoroutine) {
    auto t = loop().create_task(sleep_then(0.5, 1042));
    EXPECT_EQ(run(t), 1042);
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.result(), 1042);
    EXPECT_EQ(t.exception(), nullptr);
    EXPECT_DOUBLE_EQ(loop().time(), 0.5);
}

TEST_F(ATask, ResultBeforeDoneRaisesInvalidStateError) {
    auto t = loop().create_task(sleep_then(1, 1));
    EXPECT_THROW((void)t.result(), InvalidStateError);
    EXPECT_THROW((void)t.exception(), InvalidStateError);
    run(t);
}

TEST_F(ATask, ThatRaisesKeepsTheExceptionAndRethrowsTheSameObject) {
    auto t = loop().create_task(fail_after_yield("boom"));
    EXPECT_THROW(run(t), std::runtime_error);
    ASSERT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    const void* a = nullptr;
    const void* b = nullptr;
    try {
        (void)t.result();
    } catch (const std::runtime_error& e) {
        a = &e;
        EXPECT_STREQ(e.what(), "boom");
    }
    try {
        std::rethrow_exception(t.exception());
    } catch (const std::runtime_error& e) {
        b = &e;
    }
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a, b);
}

TEST_F(ATask, AwaitedByManyTasksGivesEachTheResultInTheOrderTheyWaited) {
    auto inner = loop().create_task(sleep_then(1, 7));
    std::vector<int> order;
    auto waiter = [&](int id) -> Coro<int> {
        int v = co_await inner;
        order.push_back(id);
        co_return v* id;
    };
    auto a = loop().create_task(waiter(1));
    auto b = loop().create_task(waiter(2));
    auto c = loop().create_task(waiter(3));
    EXPECT_EQ(run(c), 21);
    EXPECT_EQ(a.result(), 7);
    EXPECT_EQ(b.result(), 14);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(ATask, AwaitedByManyTasksRethrowsTheSameExceptionToEach) {
    auto inner = loop().create_task(fail_after_yield("shared"));
    std::vector<const void*> seen;
    auto waiter = [&]() -> Coro<void> {
        try {
            co_await inner;
        } catch (const std::runtime_error& e) {
            seen.push_back(&e);
        }
    };
    auto a = loop().create_task(waiter());
    auto b = loop().create_task(waiter());
    run(b);
    run(a);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], seen[1]);
}

TEST_F(ATask, WithAMoveOnlyResultHandsItToItsAwaiter) {
    auto make = []() -> Coro<std::unique_ptr<int>> { co_return std::make_unique<int>(6); };
    auto t = loop().create_task(make());
    auto p = run(await_task(std::move(t)));  // given away: the awaiter is its only reader
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 6);
}

TEST_F(ATask, OffersItsCoroutineUntilItIsDone) {
    auto t = loop().create_task(sleep_for(1));
    EXPECT_TRUE(static_cast<bool>(t.get_coro()));
    run(t);
    EXPECT_FALSE(static_cast<bool>(t.get_coro())) << "a done task has released its frame";
}

TEST_F(ATask, RefusesSetResultAndSetException) {
    // asyncio: "Task does not support set_result()" / set_exception().
    auto t = loop().create_task(sleep_then(1, 10));
    Future<int>& as_future = t;
    EXPECT_THROW(as_future.set_result(1), std::runtime_error);
    EXPECT_THROW(as_future.set_exception(std::logic_error("x")), std::runtime_error);
    EXPECT_FALSE(t.done());
    EXPECT_EQ(run(t), 10);
}

TEST_F(ATask, DoneCallbacksAreScheduledWhenItFinishes) {
    auto t = loop().create_task(sleep_then(1, 3));
    int seen = 0;
    t.add_done_callback([&](Task<int>& self) { seen = self.result(); });
    run(t);
    EXPECT_EQ(seen, 3);
}

TEST_F(ATask, InDebugModeRemembersWhereItWasCreated) {
    loop().set_debug(true);
    auto t = loop().create_task(noop());
    EXPECT_FALSE(t.get_creation_traceback().empty());
    run(t);
    loop().set_debug(false);
    auto u = loop().create_task(noop());
    if (!loop().get_debug()) {  // TULIP_DEBUG in the environment keeps debug mode on
        EXPECT_TRUE(u.get_creation_traceback().empty());
    }
    run(u);
}

// ---- names -------------------------------------------------------------------------------

TEST_F(TaskNames, DefaultToTaskDashNWithIncreasingNumbers) {
    auto t1 = loop().create_task(noop());
    auto t2 = loop().create_task(noop());
    std::string n1 = t1.get_name(), n2 = t2.get_name();
    ASSERT_EQ(n1.rfind("Task-", 0), 0u) << n1;
    ASSERT_EQ(n2.rfind("Task-", 0), 0u) << n2;
    EXPECT_LT(std::stoul(n1.substr(5)), std::stoul(n2.substr(5)));
    run(t1);
    run(t2);
}

TEST_F(TaskNames, CanBeGivenAtCreationAndChangedLater) {
    auto t = loop().create_task(noop(), "worker");
    EXPECT_EQ(t.get_name(), "worker");
    t.set_name("renamed");
    EXPECT_EQ(t.get_name(), "renamed");
    run(t);
    EXPECT_EQ(t.get_name(), "renamed");
}

TEST_F(TaskNames, AreGivenByTheFreeCreateTask) {
    auto make_named = []() -> Coro<std::string> {
        auto t = create_task(noop(), "No-op");
        std::string name = t.get_name();
        co_await t;
        co_return name;
    };
    EXPECT_EQ(run(make_named()), "No-op");
}

// ---- current_task / all_tasks ------------------------------------------------------------

TEST_F(CurrentTask, IsEmptyOutsideATask) {
    EXPECT_FALSE(static_cast<bool>(current_task()));
    run(noop());
    EXPECT_FALSE(static_cast<bool>(current_task()));
}

TEST_F(CurrentTask, IsTheRunningTaskInsideItAndInsideCorosItAwaits) {
    AnyTask seen_top, seen_nested;
    auto nested = [&]() -> Coro<void> {
        seen_nested = current_task();
        co_return;
    };
    auto top = [&]() -> Coro<void> {
        seen_top = current_task();
        co_await nested();
    };
    auto t = loop().create_task(top());
    run(t);
    EXPECT_TRUE(seen_top == t);
    EXPECT_TRUE(seen_nested == t);
    EXPECT_EQ(seen_top.get_name(), t.get_name());
}

TEST_F(CurrentTask, FollowsInterleavingTasks) {
    // test_current_task_with_interleaving_tasks
    auto fut1 = loop().create_future<bool>();
    auto fut2 = loop().create_future<bool>();
    Task<void> task1, task2;
    int checks = 0;
    auto coro1 = [&]() -> Coro<void> {
        EXPECT_TRUE(current_task() == task1);
        co_await fut1;
        EXPECT_TRUE(current_task() == task1);
        fut2.set_result(true);
        ++checks;
    };
    auto coro2 = [&]() -> Coro<void> {
        EXPECT_TRUE(current_task() == task2);
        fut1.set_result(true);
        co_await fut2;
        EXPECT_TRUE(current_task() == task2);
        ++checks;
    };
    task1 = loop().create_task(coro1());
    task2 = loop().create_task(coro2());
    run(task1);
    run(task2);
    EXPECT_EQ(checks, 2);
    EXPECT_FALSE(static_cast<bool>(current_task()));
}

TEST_F(CurrentTask, IsEmptyInsideADoneCallback) {
    auto t = loop().create_task(noop());
    bool had_task = true;
    t.add_done_callback([&] { had_task = static_cast<bool>(current_task()); });
    run(t);
    run_briefly();
    EXPECT_FALSE(had_task);
}

TEST_F(AllTasks, ListsThePendingTasksInCreationOrder) {
    auto a = loop().create_task(sleep_for(1), "a");
    auto b = loop().create_task(sleep_for(2), "b");
    auto listed = all_tasks(loop());
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_TRUE(listed[0] == a);
    EXPECT_TRUE(listed[1] == b);
    run(a);
    listed = all_tasks(loop());
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].get_name(), "b");
    run(b);
    EXPECT_TRUE(all_tasks(loop()).empty());
}

TEST_F(AllTasks, InsideATaskIncludesTheCurrentTask) {
    auto inspect = []() -> Coro<bool> {
        auto tasks = all_tasks();
        co_return tasks.size() == 1 && tasks[0] == current_task();
    };
    EXPECT_TRUE(run(inspect()));
}

TEST_F(AllTasks, DropsATaskCancelledBeforeItStarted) {
    auto t = loop().create_task(noop());
    t.cancel();
    EXPECT_EQ(all_tasks(loop()).size(), 1u) << "cancel() only asks; the task is pending until its step";
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(all_tasks(loop()).empty());
}

// ---- cancellation --------------------------------------------------------------------------

TEST_F(TaskCancellation, BeforeTheFirstStepMeansTheBodyNeverRuns) {
    bool ran = false;
    auto t = loop().create_task(mark_and_return(&ran, 1));
    EXPECT_TRUE(t.cancel());
    EXPECT_FALSE(t.done()) << "cancel() takes effect at the next step, as in asyncio";
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel()) << "a done task cannot be cancelled again";
}

TEST_F(TaskCancellation, BeforeTheFirstStepKeepsTheMessage) {
    // test_cancel_with_message_before_starting_task
    auto t = loop().create_task(sleep_then(10, 1));
    t.cancel("my message");
    EXPECT_EQ(run(catch_cancel_message_of(t)), "caught: my message");
    try {
        (void)t.result();
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "my message");
    }
}

TEST_F(TaskCancellation, SleepsAmidSweptCancelledTimersStillCancelAndWakeInOrder) {
    // Sleeps' timers keep their heap position in the node (they leave the heap
    // at once when cancelled); call_later's are swept lazily. A sweep that
    // rebuilds the heap must leave every sleep's position right.
    std::vector<TimerHandle> handles;
    for (int i = 0; i < 600; ++i) handles.push_back(loop().call_later(0.5 + 0.001 * i, [] {}));
    std::vector<Task<int>> sleepers;
    for (int i = 0; i < 20; ++i) sleepers.push_back(loop().create_task(sleep_then(1.0 + 0.01 * i, i)));
    run(sleep(0));  // every sleeper is now in the heap
    for (auto& h : handles) h.cancel();
    run(sleep(0));  // the sweep (600 of 620 cancelled)
    for (int i = 0; i < 20; i += 2) sleepers[static_cast<std::size_t>(i)].cancel();
    std::vector<int> woke;
    for (int i = 0; i < 20; ++i) {
        auto& t = sleepers[static_cast<std::size_t>(i)];
        if (i % 2 == 0) {
            EXPECT_THROW(run(t), CancelledError);
        } else {
            woke.push_back(run(t));
            EXPECT_NEAR(loop().time(), 1.0 + 0.01 * i, 1e-9);
        }
    }
    EXPECT_EQ(woke, (std::vector<int>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19}));
}

TEST_F(TaskCancellation, WhileSleepingStopsTheSleepAtOnce) {
    // test_cancel: loop.call_soon(t.cancel) while the task sleeps 10 s.
    auto t = loop().create_task(sleep_then(10, 12));
    loop().call_soon([t] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_DOUBLE_EQ(loop().time(), 0.0) << "the cancelled sleep's timer must not run";
}

TEST_F(TaskCancellation, WhileYieldingRaisesAtTheNextStep) {
    // test_cancel_yield
    int reached = 0;
    auto t = loop().create_task(yield_twice_then(&reached));
    run_briefly();  // start the coroutine
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(reached, 0);
    EXPECT_FALSE(t.cancel());
}

TEST_F(TaskCancellation, OfTheAwaitedFutureCancelsTheTask) {
    // test_cancel_inner_future
    auto f = loop().create_future<int>();
    auto t = loop().create_task(await_future(f));
    run_briefly();
    f.cancel();
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(t.cancelled());
}

TEST_F(TaskCancellation, OfBothTheTaskAndItsFutureCancelsTheTask) {
    // test_cancel_both_task_and_inner_future
    auto f = loop().create_future<int>();
    auto t = loop().create_task(await_future(f));
    run_briefly();
    f.cancel();
    t.cancel();
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(t.cancelled());
}

TEST_F(TaskCancellation, WhileSuspendedOnAFutureCancelsThatFuture) {
    // test_task_cancel_waiter_future
    auto f = loop().create_future<int>();
    auto t = loop().create_task(await_future(f));
    run_briefly();
    EXPECT_TRUE(t.cancel("stop"));
    EXPECT_TRUE(f.cancelled()) << "cancel() must cancel what the task waits on at once";
    try {
        run(t);
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "stop");
    }
}

TEST_F(TaskCancellation, CaughtByTheCoroutineLetsItReturnNormally) {
    // test_cancel_task_catching
    auto fut1 = loop().create_future<int>();
    auto fut2 = loop().create_future<int>();
    auto body = [&]() -> Coro<int> {
        co_await fut1;
        try {
            co_await fut2;
        } catch (const CancelledError&) {
            co_return 42;
        }
        co_return 0;
    };
    auto t = loop().create_task(body());
    run_briefly();
    fut1.set_result(0);
    run_briefly();
    t.cancel();
    EXPECT_TRUE(fut2.cancelled());
    EXPECT_EQ(run(t), 42);
    EXPECT_FALSE(t.cancelled());
}

TEST_F(TaskCancellation, IgnoredByTheCoroutineLetsItGoOnAwaiting) {
    // test_cancel_task_ignoring
    auto fut1 = loop().create_future<int>();
    auto fut2 = loop().create_future<int>();
    auto fut3 = loop().create_future<int>();
    auto body = [&]() -> Coro<int> {
        co_await fut1;
        try {
            co_await fut2;
        } catch (const CancelledError&) {}
        co_return co_await fut3;
    };
    auto t = loop().create_task(body());
    run_briefly();
    fut1.set_result(0);
    run_briefly();
    t.cancel();
    EXPECT_TRUE(fut2.cancelled());
    run_briefly();
    EXPECT_FALSE(t.done());
    fut3.set_result(42);
    EXPECT_EQ(run(t), 42);
    EXPECT_FALSE(fut3.cancelled());
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1u) << "catching does not withdraw the request; uncancel() does";
}

TEST_F(TaskCancellation, OfItselfWhileRunningCancelsItsNextAwait) {
    // test_cancel_current_task
    Task<int> t;
    auto body = [&]() -> Coro<int> {
        t.cancel();
        co_await sleep(100);  // cancelled immediately
        co_return 12;
    };
    t = loop().create_task(body());
    EXPECT_FALSE(t.cancelled());
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
}

TEST_F(TaskCancellation, RightBeforeReturningEndsTheTaskCancelled) {
    // test_cancel_at_end
    Task<int> t;
    auto body = [&]() -> Coro<int> {
        t.cancel("late");
        co_return 12;
    };
    t = loop().create_task(body());
    try {
        run(t);
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "late");
    }
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
}

TEST_F(TaskCancellation, OfItselfCancelsTheTaskItThenAwaits) {
    // test_cancel_awaited_task (bpo-34872)
    auto fut = loop().create_future<int>();
    Task<void> task;
    Task<int> nested_task;
    auto coro = [&]() -> Coro<void> {
        nested_task = loop().create_task(await_future(fut));
        co_await sleep(0);
        task.cancel();
        co_await nested_task;  // must be cancelled at once
    };
    task = loop().create_task(coro());
    EXPECT_THROW(run(task), CancelledError);
    EXPECT_TRUE(task.cancelled());
    EXPECT_TRUE(nested_task.cancelled());
    EXPECT_TRUE(fut.cancelled());
}

TEST_F(TaskCancellation, PropagatesDownAChainOfAwaitedTasks) {
    auto f = loop().create_future<int>();
    auto c = loop().create_task(await_future(f), "c");
    auto b = loop().create_task(await_task(c), "b");
    auto a = loop().create_task(await_task(b), "a");
    run_briefly();
    EXPECT_TRUE(a.cancel("from the top"));
    EXPECT_TRUE(f.cancelled());
    EXPECT_EQ(b.cancelling(), 1u);
    EXPECT_EQ(c.cancelling(), 1u);
    try {
        run(a);
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "from the top");
    }
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
    EXPECT_TRUE(c.cancelled());
}

TEST_F(TaskCancellation, PassesThroughCorosTheTaskAwaits) {
    // test_yield_future_passes_cancel, with a task in the middle.
    auto waiter = loop().create_future<int>();
    int proof = 0;
    auto inner = [&]() -> Coro<void> {
        try {
            co_await waiter;
        } catch (const CancelledError&) {
            proof += 1;
            throw;
        }
    };
    auto outer = [&]() -> Coro<void> {
        try {
            co_await inner();
        } catch (const CancelledError&) {
            proof += 100;
        }
    };
    auto f = loop().create_task(outer());
    run_briefly();
    f.cancel();
    run(f);
    EXPECT_EQ(proof, 101);
    EXPECT_TRUE(waiter.cancelled());
}

TEST_F(TaskCancellation, OfASleepingTaskFromATimerIsSeenByItsAwaiter) {
    // test_task_cancel_sleeping_task
    auto doit = [&]() -> Coro<std::string> {
        auto sleeper = loop().create_task(sleep_for(5000));
        loop().call_later(0.1, [sleeper] { sleeper.cancel(); });
        try {
            co_await sleeper;
        } catch (const CancelledError&) {
            co_return "cancelled";
        }
        co_return "slept in";
    };
    EXPECT_EQ(run(doit()), "cancelled");
    EXPECT_DOUBLE_EQ(loop().time(), 0.1);
}

TEST_F(TaskCancellation, TurnedIntoAnotherExceptionEndsTheTaskWithThatException) {
    // test_baseexception_during_cancel: the coroutine turns CancelledError
    // into another exception; the task ends with that one, not cancelled.
    auto body = []() -> Coro<void> {
        try {
            co_await sleep(10);
        } catch (const CancelledError&) {
            throw std::logic_error("converted");
        }
    };
    auto t = loop().create_task(body());
    run_briefly();
    t.cancel();
    EXPECT_FALSE(t.done());
    EXPECT_THROW(run(t), std::logic_error);
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
}

TEST_F(TaskCancellation, OfADoneTaskReturnsFalse) {
    auto t = loop().create_task(sleep_then(1, 1));
    run(t);
    EXPECT_FALSE(t.cancel());
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 0u);
    EXPECT_EQ(t.result(), 1);
}

TEST_F(TaskCancellation, GivesTheMessageToEveryAwaiterOfTheTask) {
    auto inner = loop().create_task(sleep_then(10, 0));
    auto w1 = loop().create_task(catch_cancel_message_of(inner));
    auto w2 = loop().create_task(catch_cancel_message_of(inner));
    run_briefly();
    inner.cancel("bye");
    EXPECT_EQ(run(w1), "caught: bye");
    EXPECT_EQ(run(w2), "caught: bye");
    EXPECT_FALSE(w1.cancelled()) << "the awaiter caught it";
}

// ---- cancelling() / uncancel() ----------------------------------------------------------

TEST_F(CancellingCount, CountsEachRequestAndEveryCancelOfAPendingTaskSucceeds) {
    // test_cancelling (3.11: a second cancel() also returns true)
    auto t = loop().create_task(sleep_for(10));
    EXPECT_EQ(t.cancelling(), 0u);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1u);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 2u);
    EXPECT_THROW(run(t), CancelledError);
}

TEST_F(CancellingCount, UncancelWithdrawsOneRequestAndReturnsTheRest) {
    auto t = loop().create_task(sleep_for(10));
    t.cancel();
    t.cancel();
    EXPECT_EQ(t.uncancel(), 1u);
    EXPECT_EQ(t.uncancel(), 0u);
    EXPECT_EQ(t.uncancel(), 0u) << "uncancel() never goes below zero";
    t.cancel();
    EXPECT_THROW(run(t), CancelledError);
}

TEST_F(CancellingCount, AfterUncancelTheTaskCanSleepAgainAndBeCancelledAgain) {
    // test_uncancel
    auto body = []() -> Coro<void> {
        bool cancelled = false;
        try {
            co_await sleep(10);
        } catch (const CancelledError&) {
            current_task().uncancel();
            cancelled = true;
        }
        if (cancelled) co_await sleep(10);  // (no co_await inside a handler in C++)
    };
    auto t = loop().create_task(body());
    run(sleep_for(0.01));
    EXPECT_TRUE(t.cancel());  // cancels the first sleep
    EXPECT_EQ(t.cancelling(), 1u);
    run(sleep_for(0.01));
    EXPECT_EQ(t.cancelling(), 0u) << "after uncancel()";
    EXPECT_FALSE(t.done());
    EXPECT_TRUE(t.cancel());  // cancels the second sleep
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_LT(loop().time(), 10.0);
}

TEST_F(CancellingCount, UncancelToZeroWithdrawsAPendingSelfCancel) {
    auto body = []() -> Coro<int> {
        current_task().cancel();
        current_task().uncancel();
        co_await sleep(1);  // not cancelled: the request was withdrawn
        co_return 5;
    };
    EXPECT_EQ(run(body()), 5);
    EXPECT_DOUBLE_EQ(loop().time(), 1.0);
}

TEST_F(CancellingCount, StaysAboveZeroWhileOneOfTwoRequestsIsWithdrawn) {
    auto body = []() -> Coro<int> {
        current_task().cancel();
        current_task().cancel();
        current_task().uncancel();
        co_await sleep(1);  // still one request: cancelled
        co_return 5;
    };
    EXPECT_THROW(run(body()), CancelledError);
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
}

// ---- exceptions nobody retrieved -----------------------------------------------------------

TEST_F(UnretrievedTaskException, IsReportedWhenTheTaskWasDropped) {
    expect_handler_calls = true;
    (void)loop().create_task(fail_with("lost"));
    run_briefly();
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(handler_calls[0].message, "Task exception was never retrieved");
    EXPECT_NE(handler_calls[0].source.find("Task"), std::string::npos);
    EXPECT_NE(describe_exception(handler_calls[0].exception).find("lost"), std::string::npos);
}

TEST_F(UnretrievedTaskException, IsReportedWhenTheLastHandleGoes) {
    expect_handler_calls = true;
    {
        auto t = loop().create_task(fail_with("held"), "holder");
        run_briefly();
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(handler_calls.empty()) << "reported while a handle still exists";
    }
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(handler_calls[0].message, "Task exception was never retrieved");
    EXPECT_NE(handler_calls[0].source.find("holder"), std::string::npos);
}

TEST_F(UnretrievedTaskException, IsNotReportedWhenAwaited) {
    auto t = loop().create_task(fail_with("seen"));
    EXPECT_THROW(run(await_task(t)), std::runtime_error);
    t = Task<int>();
    run_briefly();
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(UnretrievedTaskException, IsNotReportedWhenExceptionWasCalled) {
    {
        auto t = loop().create_task(fail_with("seen"));
        run_briefly();
        EXPECT_NE(t.exception(), nullptr);
    }
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(UnretrievedTaskException, IsNotReportedAfterCancelOfTheDoneTask) {
    // test_tb_logger_not_called_after_cancel
    auto runner = [&]() -> Coro<void> {
        auto task = loop().create_task(fail_with("type error"));
        co_await sleep(0.05);
        EXPECT_FALSE(task.cancel());
    };
    run(runner());
    run_briefly();
    EXPECT_EQ(count_messages(handler_calls, "never retrieved"), 0u);
}

TEST_F(UnretrievedTaskException, IsNotReportedForACancelledTask) {
    {
        auto t = loop().create_task(sleep_for(10));
        run_briefly();
        t.cancel();
        run_briefly();
        EXPECT_TRUE(t.cancelled());
    }
    EXPECT_TRUE(handler_calls.empty());
}

// ---- sleep -------------------------------------------------------------------------------

TEST_F(Sleep, AddsUpOnTheLoopClock) {
    // test_sleep
    auto sleeper = [](double dt, std::string arg) -> Coro<std::string> {
        co_await sleep(dt / 2);
        co_return co_await sleep(Seconds(dt / 2), std::move(arg));
    };
    EXPECT_EQ(run(sleeper(0.1, "yeah")), "yeah");
    EXPECT_NEAR(loop().time(), 0.1, 1e-9);
}

TEST_F(Sleep, WakesSleepersInDeadlineOrder) {
    std::vector<int> order;
    auto sleeper = [&](double d, int id) -> Coro<void> {
        co_await sleep(d);
        order.push_back(id);
    };
    auto a = loop().create_task(sleeper(3, 3));
    auto b = loop().create_task(sleeper(1, 1));
    auto c = loop().create_task(sleeper(2, 2));
    run(a);
    EXPECT_TRUE(b.done() && c.done());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_DOUBLE_EQ(loop().time(), 3.0);
}

TEST_F(Sleep, WakesEqualDeadlinesInTheOrderTheySlept) {
    std::vector<int> order;
    auto sleeper = [&](int id) -> Coro<void> {
        co_await sleep(1);
        order.push_back(id);
    };
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(loop().create_task(sleeper(i)));
    for (auto& t : tasks) run(t);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(Sleep, OfZeroLetsOtherTasksRunInBetween) {
    std::vector<std::string> order;
    auto worker = [&](std::string name) -> Coro<void> {
        for (int i = 0; i < 3; ++i) {
            order.push_back(name + std::to_string(i));
            co_await sleep(0);
        }
    };
    auto a = loop().create_task(worker("a"));
    auto b = loop().create_task(worker("b"));
    run(a);
    run(b);
    EXPECT_EQ(order, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"}));
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
}

TEST_F(Sleep, OfANegativeDelayIsAPlainYield) {
    Steps s;
    auto body = [&]() -> Coro<void> {
        s.note("before");
        co_await sleep(-1.0);
        s.note("after");
    };
    auto t = loop().create_task(body());
    for (int i = 0; i < 5 && !t.done(); ++i) {
        ++s.iteration;
        run_once();
    }
    EXPECT_EQ(s.at("after") - s.at("before"), 1);
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
}

TEST_F(Sleep, CancelledRemovesItsTimer) {
    // test_sleep_cancel: after the cancel nothing is left for the clock to reach.
    auto t = loop().create_task(sleep_then(10, 1));
    run_briefly();
    t.cancel();
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    // An idle virtual clock jumps to the next timer: a leftover 10 s timer
    // would show up as a stop at 10 on the way to 20.
    auto later = loop().create_task(sleep_for(20));
    std::vector<double> clock;
    for (int i = 0; i < 10 && !later.done(); ++i) {
        run_once();
        clock.push_back(loop().time());
    }
    ASSERT_TRUE(later.done());
    for (double when : clock) EXPECT_TRUE(when == 0.0 || when == 20.0) << "the clock stopped at " << when;
}

TEST_F(Sleep, OutsideATaskRaises) {
    auto outside = []() -> Coro<void> { co_await sleep(0); };
    auto c = outside();
    // No task runs this Coro: drive it by hand to reach the sleep.
    auto h = c.release();
    h.resume();
    ASSERT_TRUE(h.done());
    EXPECT_THROW(h.promise().take(), std::runtime_error);
    h.destroy();
}

// ---- hop rules (DESIGN.md), counted in loop iterations ------------------------------------

TEST_F(HopRules, AwaitingACoroDoesNotGoThroughTheLoop) {
    Steps s;
    auto leaf = [&]() -> Coro<int> {
        s.note("leaf");
        co_return 1;
    };
    auto body = [&]() -> Coro<int> {
        s.note("start");
        int a = co_await leaf();
        int b = co_await leaf();
        s.note("end");
        co_return a + b;
    };
    auto t = loop().create_task(body());
    ++s.iteration;
    run_once();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), 2);
    EXPECT_EQ(s.at("start"), 1);
    EXPECT_EQ(s.at("end"), 1);
}

TEST_F(HopRules, AwaitingADoneTaskDoesNotSuspend) {
    auto inner = loop().create_task(noop());
    run_briefly();
    ASSERT_TRUE(inner.done());
    auto t = loop().create_task(await_task(inner));
    run_once();
    EXPECT_TRUE(t.done());
}

TEST_F(HopRules, AwaitingAPendingTaskResumesOneIterationAfterItFinishes) {
    Steps s;
    auto child = [&]() -> Coro<int> {
        s.note("child runs");
        co_await sleep(0);
        s.note("child returns");
        co_return 3;
    };
    auto parent = [&]() -> Coro<int> {
        auto c = loop().create_task(child());
        s.note("parent awaits");
        int v = co_await c;
        s.note("parent resumes");
        co_return v;
    };
    auto t = loop().create_task(parent());
    for (int i = 0; i < 10 && !t.done(); ++i) {
        ++s.iteration;
        run_once();
    }
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), 3);
    EXPECT_EQ(s.at("parent awaits"), 1);
    EXPECT_EQ(s.at("child runs"), 2) << "create_task schedules the first step for the next iteration";
    EXPECT_EQ(s.at("child returns"), 3) << "sleep(0) costs one iteration";
    EXPECT_EQ(s.at("parent resumes"), 4) << "the parent wakes from the ready queue after the child is done";
}

TEST_F(HopRules, SleepWithADelayCostsATimerIterationAndAWakeUp) {
    Steps s;
    auto body = [&]() -> Coro<void> {
        s.note("sleeps");
        co_await sleep(1);
        s.note("wakes");
    };
    auto t = loop().create_task(body());
    for (int i = 0; i < 10 && !t.done(); ++i) {
        ++s.iteration;
        run_once();
    }
    ASSERT_TRUE(t.done());
    EXPECT_EQ(s.at("sleeps"), 1);
    // asyncio: the timer callback completes a future (iteration 2); the task
    // wakes from the ready queue in iteration 3.
    EXPECT_EQ(s.at("wakes"), 3);
    EXPECT_DOUBLE_EQ(loop().time(), 1.0);
}

TEST_F(HopRules, SleepZeroGoesToTheTailOfTheReadyQueue) {
    std::vector<std::string> order;
    auto body = [&]() -> Coro<void> {
        order.push_back("task before");
        loop().call_soon([&] { order.push_back("callback scheduled by the task"); });
        co_await sleep(0);
        order.push_back("task after");
    };
    auto t = loop().create_task(body());
    run_once();
    loop().call_soon([&] { order.push_back("callback scheduled between iterations"); });
    run_once();
    EXPECT_TRUE(t.done());
    EXPECT_EQ(order, (std::vector<std::string>{"task before", "callback scheduled by the task", "task after",
                                               "callback scheduled between iterations"}));
}

TEST_F(HopRules, CancelOfASuspendedTaskWakesItInTheNextIteration) {
    auto f = loop().create_future<int>();
    auto t = loop().create_task(await_future(f));
    run_once();
    t.cancel();
    EXPECT_FALSE(t.done());
    run_once();
    EXPECT_TRUE(t.cancelled());
}

TEST_F(HopRules, CancelPropagationUpAChainTakesOneIterationPerTask) {
    auto f = loop().create_future<int>();
    auto c = loop().create_task(await_future(f));
    auto b = loop().create_task(await_task(c));
    auto a = loop().create_task(await_task(b));
    run_once();  // all three are suspended
    a.cancel();
    run_once();
    EXPECT_TRUE(c.cancelled());
    EXPECT_FALSE(b.done());
    run_once();
    EXPECT_TRUE(b.cancelled());
    EXPECT_FALSE(a.done());
    run_once();
    EXPECT_TRUE(a.cancelled());
}

TEST_F(HopRules, ResultOfAnAwaitedFutureIsTheSameObject) {
    // test_step_result_future: the task waits on the future and gets its result.
    auto fut = loop().create_future<std::shared_ptr<int>>();
    std::shared_ptr<int> result;
    auto wait_for_future = [&]() -> Coro<void> { result = co_await fut; };
    auto t = loop().create_task(wait_for_future());
    run_briefly();
    auto res = std::make_shared<int>(1);
    fut.set_result(res);
    run_briefly();
    EXPECT_EQ(res, result);
    EXPECT_TRUE(t.done());
}

// ---- errors: awaiting itself, other loops ---------------------------------------------------

TEST_F(ATask, AwaitingItselfRaisesAClearError) {
    Task<void> task;
    auto body = [&]() -> Coro<void> { co_await task; };
    task = loop().create_task(body());
    try {
        run(task);
        ADD_FAILURE() << "a task awaiting itself did not raise";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot await on itself"), std::string::npos) << e.what();
    }
}

TEST_F(ATask, AwaitingAFutureOfAnotherLoopRaisesAClearError) {
    EventLoop other(EventLoopOptions{.virtual_time = true});
    {
        auto f = Future<int>::create(other);
        try {
            run(await_future(f));
            ADD_FAILURE() << "awaiting a future of another loop did not raise";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("different loop"), std::string::npos) << e.what();
        }
        f.cancel();
    }
    other.close();
}

// ---- run_until_complete --------------------------------------------------------------------

TEST_F(RunUntilComplete, RunsACoroInATask) {
    EXPECT_EQ(run(sleep_then(1, 4)), 4);
    EXPECT_TRUE(all_tasks(loop()).empty());
}

TEST_F(RunUntilComplete, RunsATask) {
    auto t = loop().create_task(sleep_then(1, 5));
    EXPECT_EQ(run(t), 5);
    EXPECT_TRUE(t.done());
}

TEST_F(RunUntilComplete, RunsAFuture) {
    auto f = loop().create_future<int>();
    loop().call_later(2.0, [f] { f.set_result(6); });
    EXPECT_EQ(run(f), 6);
    EXPECT_DOUBLE_EQ(loop().time(), 2.0);
}

TEST_F(RunUntilComplete, ReturnsAtOnceForADoneFuture) {
    auto f = loop().create_future<int>();
    f.set_result(1);
    EXPECT_EQ(run(f), 1);
}

TEST_F(RunUntilComplete, RethrowsTheCoroutinesExceptionWithoutReportingIt) {
    EXPECT_THROW(run(fail_with("direct")), std::runtime_error);
    run_briefly();
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(RunUntilComplete, RaisesWhenTheLoopIsStoppedFirst) {
    // test_stop_while_run_in_complete
    int x = 0;
    auto body = [&]() -> Coro<void> {
        while (x < 10) {
            co_await sleep(0.1);
            ++x;
            if (x == 2) loop().stop();
        }
    };
    auto t = loop().create_task(body());
    try {
        run(t);
        ADD_FAILURE();
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "Event loop stopped before Future completed.");
    }
    EXPECT_FALSE(t.done());
    EXPECT_EQ(x, 2);
    t.cancel();
    EXPECT_THROW(run(t), CancelledError);
}

TEST_F(RunUntilComplete, RefusesATaskOfAnotherLoop) {
    EventLoop other(EventLoopOptions{.virtual_time = true});
    {
        auto t = other.create_task(noop());
        EXPECT_THROW(run(t), std::invalid_argument);
        other.run_until_complete(t);
    }
    other.close();
}

}  // namespace task_task_test
