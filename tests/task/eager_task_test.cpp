// Task factories and eager tasks (asyncio 3.12: loop.set_task_factory,
// eager_task_factory, create_eager_task_factory), ported from CPython's
// Lib/test/test_asyncio/test_eager_task_factory.py, plus what the C++ design
// adds (start_task, factories that decorate, throw or do not start).
#include <tulip/task/task.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/task/async_generator.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task_group.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_eager_task_test {

using namespace tulip;
using test::times_out;

namespace {

class EagerTaskFactory : public test::LoopTest {
protected:
    void SetUp() override {
        LoopTest::SetUp();
        loop().set_task_factory(eager_task_factory);
    }
};
// The factories of these tests capture the test's locals: drop them before
// the teardown creates tasks of its own.
class TaskFactoryProtocol : public test::LoopTest {
protected:
    void TearDown() override {
        if (loop_) loop().set_task_factory(nullptr);
        LoopTest::TearDown();
    }
};
class EagerTaskCounting : public TaskFactoryProtocol {};

using FactoryFn = void (*)(EventLoop&, const AnyTask&);

Coro<std::string> hello() { co_return "hello"; }

Coro<std::string> after_sleep(double delay, std::string s) {
    co_await sleep(delay);
    co_return s;
}

Coro<void> set_result_of(Future<std::string> fut, std::string v) {
    fut.set_result(std::move(v));
    co_return;
}

Coro<void> fail_now(std::string what) {
    throw std::invalid_argument(what);
    co_return;
}

Coro<void> capture_current(AnyTask* out) {
    *out = current_task();
    co_await sleep(0.1);
    EXPECT_TRUE(current_task() == *out);  // the same task after blocking
}

// ---- test_eager_task_factory.py: EagerTaskFactoryLoopTests ------------------

TEST_F(EagerTaskFactory, GetTaskFactoryReturnsTheFactorySet) {
    const auto* f = loop().get_task_factory().target<FactoryFn>();
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(*f, &eager_task_factory);
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(hello());
        auto s = co_await t;
        EXPECT_EQ(s, "hello");
    };
    run(main());
}

TEST_F(EagerTaskFactory, AFutureSetDuringTheEagerStepIsDoneWhenCreateTaskReturns) {
    auto main = [&]() -> Coro<std::string> {
        auto fut = loop().create_future<std::string>();
        auto t = loop().create_task(set_result_of(fut, "my message"));
        EXPECT_TRUE(t.done());  // the eager step completed the task
        EXPECT_TRUE(fut.done());
        co_return co_await fut;
    };
    EXPECT_EQ(run(main()), "my message");
}

TEST_F(EagerTaskFactory, ACoroutineThatNeverSuspendsIsDoneWhenCreateTaskReturns) {
    auto main = [&]() -> Coro<std::string> {
        auto t = loop().create_task(hello());
        EXPECT_TRUE(t.done());
        co_return co_await t;
    };
    EXPECT_EQ(run(main()), "hello");
}

TEST_F(EagerTaskFactory, ATaskThatSuspendsIsPendingAfterItsEagerStep) {
    auto main = [&]() -> Coro<std::string> {
        auto t = loop().create_task(after_sleep(0.1, "finished after blocking"));
        EXPECT_FALSE(t.done());
        auto r = co_await t;
        EXPECT_TRUE(t.done());
        co_return r;
    };
    EXPECT_EQ(run(main()), "finished after blocking");
}

TEST_F(EagerTaskFactory, CancellingATaskThatCompletedEagerlyDoesNothing) {
    auto main = [&]() -> Coro<std::string> {
        auto t = loop().create_task(hello());
        EXPECT_FALSE(t.cancel());
        auto r = co_await t;
        EXPECT_FALSE(t.cancelled());  // a finished task cannot be cancelled
        co_return r;
    };
    EXPECT_EQ(run(main()), "hello");
}

TEST_F(EagerTaskFactory, CancellingATaskBlockedAfterItsEagerStepCancelsItWithTheMessage) {
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(after_sleep(0.1, "x"));
        t.cancel("cancellation message");
        EXPECT_GT(t.cancelling(), 0u);
        co_await t;
    };
    try {
        run(main());
        ADD_FAILURE() << "no CancelledError";
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "cancellation message");
    }
}

TEST_F(EagerTaskFactory, CurrentTaskIsTheEagerTaskDuringItsEagerStepAndRestoredAfter) {
    auto main = [&]() -> Coro<void> {
        AnyTask outer = current_task();
        AnyTask captured;
        auto t = loop().create_task(capture_current(&captured));
        EXPECT_TRUE(captured == AnyTask(t));
        EXPECT_TRUE(current_task() == outer);
        co_await t;
    };
    run(main());
}

TEST_F(EagerTaskFactory, AllTasksHoldsAnEagerTaskDuringItsStepAndNotOnceItCompletedEagerly) {
    std::vector<AnyTask> captured;
    auto coro = [&]() -> Coro<void> {
        captured = all_tasks();
        co_return;
    };
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(coro());
        bool found = false;
        for (auto& x : captured) found = found || x == AnyTask(t);
        EXPECT_TRUE(found);
        for (auto& x : all_tasks()) EXPECT_FALSE(x == AnyTask(t));
        co_return;
    };
    run(main());
}

TEST_F(EagerTaskFactory, AllTasksHoldsAnEagerTaskThatBlockedUntilItIsDone) {
    std::vector<AnyTask> captured;
    auto fut1 = loop().create_future<void>();
    auto fut2 = loop().create_future<void>();
    auto coro = [&]() -> Coro<void> {
        captured = all_tasks();
        co_await fut1;
        fut2.set_result();
    };
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(coro());
        auto contains = [&](const std::vector<AnyTask>& v) {
            for (auto& x : v)
                if (x == AnyTask(t)) return true;
            return false;
        };
        EXPECT_TRUE(contains(captured));
        EXPECT_TRUE(contains(all_tasks()));
        fut1.set_result();
        co_await fut2;
        co_await sleep(0);  // t's last step ends after it set fut2
        EXPECT_FALSE(contains(all_tasks()));
    };
    run(main());
}

TEST_F(EagerTaskFactory, GetCoroIsEmptyOnceAnEagerTaskIsDone) {
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(hello());
        co_await t;
        EXPECT_FALSE(t.get_coro());
    };
    run(main());
}

// ---- what 3.12 promises beyond that test module -------------------------------

TEST_F(EagerTaskFactory, ATaskThatCompletedEagerlyRunsItsDoneCallbacksSoonNotInline) {
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(hello());
        int calls = 0;
        t.add_done_callback([&] { ++calls; });
        EXPECT_EQ(calls, 0);
        co_await sleep(0);
        EXPECT_EQ(calls, 1);
    };
    run(main());
}

TEST_F(EagerTaskFactory, AnExceptionRaisedInTheEagerStepIsTheTasksOutcome) {
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(fail_now("eager"));
        CO_ASSERT(t.done());
        EXPECT_THROW(co_await t, std::invalid_argument);
    };
    run(main());
}

TEST_F(EagerTaskFactory, NestedEagerTasksRestoreEachOuterCurrentTask) {
    std::vector<std::string> seen;
    auto inner = [&]() -> Coro<void> {
        seen.push_back(current_task().get_name());
        co_return;
    };
    auto middle = [&]() -> Coro<void> {
        seen.push_back(current_task().get_name());
        auto t = loop().create_task(inner(), "inner");
        seen.push_back(current_task().get_name());
        co_await t;
    };
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(middle(), "middle");
        seen.push_back(current_task().get_name());
        co_await t;
    };
    auto root = loop().create_task(main(), "main");
    run(root);
    EXPECT_EQ(seen, (std::vector<std::string>{"middle", "inner", "middle", "main"}));
}

TEST_F(EagerTaskFactory, TheNamePassedToCreateTaskIsSetBeforeTheEagerStep) {
    std::string name;
    auto coro = [&]() -> Coro<void> {
        name = current_task().get_name();
        co_return;
    };
    auto main = [&]() -> Coro<void> { co_await loop().create_task(coro(), "named"); };
    run(main());
    EXPECT_EQ(name, "named");
}

TEST_F(EagerTaskFactory, ATaskCreatedWhileTheLoopIsNotRunningIsScheduled) {
    auto t = loop().create_task(hello());
    EXPECT_FALSE(t.done());  // asyncio starts eagerly only on a running loop
    EXPECT_EQ(run(t), "hello");
}

TEST_F(EagerTaskFactory, ATaskCreatedFromACallbackRunsEagerlyWithoutACurrentTaskAround) {
    Task<std::string> t;
    AnyTask during, after;
    auto coro = [&]() -> Coro<std::string> {
        during = current_task();
        co_return "cb";
    };
    loop().call_soon([&] {
        t = loop().create_task(coro());
        after = current_task();
    });
    run_briefly();  // the callback runs on the running loop
    ASSERT_TRUE(t.done());
    EXPECT_TRUE(during == AnyTask(t));
    EXPECT_FALSE(after);
    EXPECT_EQ(t.result(), "cb");
}

TEST_F(EagerTaskFactory, GatherOfTasksThatAllCompletedEagerlyIsDoneAtOnce) {
    auto main = [&]() -> Coro<void> {
        auto g = gather(hello(), hello());
        CO_ASSERT(g.done());
        auto [a, b] = co_await g;
        EXPECT_EQ(a, "hello");
        EXPECT_EQ(b, "hello");
    };
    run(main());
}

TEST_F(EagerTaskFactory, GatherWithAChildThatFailedEagerlyFailsAtOnce) {
    auto main = [&]() -> Coro<void> {
        auto g = gather(after_sleep(1, "late"), fail_now("early"));
        CO_ASSERT(g.done());
        EXPECT_THROW(co_await g, std::invalid_argument);
        co_await sleep(2);  // the other child still runs to completion
    };
    run(main());
}

TEST_F(EagerTaskFactory, GatherOfEagerTasksThatBlockWaitsForThemInOrder) {
    auto main = [&]() -> Coro<void> {
        auto g = gather(after_sleep(0.2, "a"), hello(), after_sleep(0.1, "c"));
        EXPECT_FALSE(g.done());
        auto [a, b, c] = co_await g;
        EXPECT_EQ(a, "a");
        EXPECT_EQ(b, "hello");
        EXPECT_EQ(c, "c");
    };
    run(main());
}

TEST_F(EagerTaskFactory, ATaskGroupChildThatCompletesEagerlyGivesItsResult) {
    auto main = [&]() -> Coro<void> {
        Task<std::string> t;
        co_await task_group([&](TaskGroup& tg) -> Coro<void> {
            t = tg.create_task(hello());
            EXPECT_TRUE(t.done());
            co_return;
        });
        EXPECT_EQ(t.result(), "hello");
    };
    run(main());
}

TEST_F(EagerTaskFactory, ATaskGroupChildThatFailsEagerlyCancelsTheBodyAndTheSiblings) {
    bool body_cancelled = false;
    bool sibling_cancelled = false;
    auto sibling = [&]() -> Coro<void> {
        try {
            co_await sleep(10);
        } catch (const CancelledError&) {
            sibling_cancelled = true;
            throw;
        }
    };
    auto main = [&]() -> Coro<void> {
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<void> {
                tg.create_task(sibling());
                auto t = tg.create_task(fail_now("eager failure"));
                EXPECT_TRUE(t.done());
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    body_cancelled = true;
                    throw;
                }
            });
            ADD_FAILURE() << "no ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            CO_ASSERT(eg.exceptions().size() == 1);
            EXPECT_THROW(std::rethrow_exception(eg.exceptions()[0]), std::invalid_argument);
        }
        EXPECT_EQ(loop().time(), 0.0);  // nobody slept out the 10 s
    };
    run(main());
    EXPECT_TRUE(body_cancelled);
    EXPECT_TRUE(sibling_cancelled);
}

TEST_F(EagerTaskFactory, WaitForWithAZeroTimeoutGivesTheResultOfACoroutineThatCompletesEagerly) {
    // As asyncio 3.12: wait_for(coro, 0) wraps coro in a task, which the
    // eager factory runs to completion at once; without a factory that task
    // would not have started and the call would time out.
    auto main = [&]() -> Coro<void> {
        auto s = co_await wait_for(hello(), 0.0);
        EXPECT_EQ(s, "hello");
        bool timed_out = co_await times_out(wait_for(after_sleep(1, "late"), 0.0));
        EXPECT_TRUE(timed_out);
    };
    run(main());
}

AsyncGenerator<int> logs_its_cleanup(std::vector<std::string>* log) {
    bool closing = false;
    try {
        co_yield 1;
        co_yield 2;
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) log->push_back("cleanup");
}

TEST_F(EagerTaskFactory, ADroppedAsyncGeneratorIsFinalisedLaterNotInsideItsDestructor) {
    // asyncio's finaliser hook defers the aclose() task with call_soon; an
    // eager start here would run the cleanup inside the destructor.
    std::vector<std::string> log;
    auto body = [&]() -> Coro<void> {
        {
            auto gen = logs_its_cleanup(&log);
            auto first = co_await gen.next();
            EXPECT_EQ(first, 1);
        }
        log.push_back("consumer went on");
        co_await sleep(1);
    };
    run(body());
    EXPECT_EQ(log, (std::vector<std::string>{"consumer went on", "cleanup"}));
}

// ---- the C++ factory protocol ------------------------------------------------

TEST_F(TaskFactoryProtocol, IsEmptyByDefaultAndCanBeReset) {
    EXPECT_FALSE(loop().get_task_factory());
    loop().set_task_factory(eager_task_factory);
    EXPECT_TRUE(loop().get_task_factory());
    loop().set_task_factory(nullptr);
    EXPECT_FALSE(loop().get_task_factory());
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(hello());
        EXPECT_FALSE(t.done());  // scheduled again, not eager
        co_await t;
    };
    run(main());
}

TEST_F(TaskFactoryProtocol, CreateTaskSchedulesATaskTheFactoryDidNotStart) {
    std::vector<std::string> names;
    loop().set_task_factory([&](EventLoop&, const AnyTask& t) { names.push_back(t.get_name()); });
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(hello(), "child");
        EXPECT_FALSE(t.done());
        EXPECT_EQ(co_await t, "hello");
    };
    run(main());
    ASSERT_EQ(names.size(), 2u);  // run_until_complete's task, then the child
    EXPECT_EQ(names[1], "child");
}

TEST_F(TaskFactoryProtocol, AFactoryThatThrowsMakesCreateTaskThrowAndLeavesNoTask) {
    loop().set_task_factory([](EventLoop&, const AnyTask&) { throw std::runtime_error("factory refused"); });
    EXPECT_THROW((void)loop().create_task(hello()), std::runtime_error);
    EXPECT_TRUE(all_tasks(loop()).empty());
    loop().set_task_factory(nullptr);
}

TEST_F(TaskFactoryProtocol, StartingATaskTwiceRaisesRuntimeError) {
    bool second_refused = false;
    loop().set_task_factory([&](EventLoop&, const AnyTask& t) {
        start_task(t);
        try {
            start_task(t, /*eager_start=*/true);
        } catch (const std::runtime_error&) {
            second_refused = true;
        }
    });
    EXPECT_EQ(run(hello()), "hello");
    EXPECT_TRUE(second_refused);
}

TEST_F(TaskFactoryProtocol, ATaskCancelledByTheFactoryNeverRunsItsBody) {
    bool ran = false;
    auto coro = [&]() -> Coro<void> {
        ran = true;
        co_return;
    };
    auto main = [&]() -> Coro<void> {
        loop().set_task_factory(create_eager_task_factory([](EventLoop&, const AnyTask& t) { t.cancel(); }));
        auto t = loop().create_task(coro());
        EXPECT_TRUE(t.cancelled());
        loop().set_task_factory(nullptr);
        co_return;
    };
    run(main());
    EXPECT_FALSE(ran);
}

TEST_F(TaskFactoryProtocol, CreateEagerTaskFactoryRunsTheCustomPartBeforeTheEagerStep) {
    std::vector<std::string> order;
    auto coro = [&]() -> Coro<void> {
        order.push_back("step");
        co_return;
    };
    auto main = [&]() -> Coro<void> {
        auto t = loop().create_task(coro());
        order.push_back("returned");
        co_await t;
    };
    loop().set_task_factory(
        create_eager_task_factory([&](EventLoop&, const AnyTask& t) { order.push_back("custom " + t.get_name()); }));
    run(main());
    ASSERT_EQ(order.size(), 4u);
    EXPECT_EQ(order[0].substr(0, 7), "custom ");  // run_until_complete's task: not eager (loop not running)
    EXPECT_EQ(order[1].substr(0, 7), "custom ");
    EXPECT_EQ(order[2], "step");
    EXPECT_EQ(order[3], "returned");
}

// test_tasks.py test_eager_start_false: a task started without eager_start
// runs nothing inside create_task.
TEST_F(TaskFactoryProtocol, StartTaskWithoutEagerStartSchedulesTheFirstStep) {
    std::string name = "<not run>";
    auto coro = [&]() -> Coro<void> {
        name = current_task().get_name();
        co_return;
    };
    auto main = [&]() -> Coro<void> {
        loop().set_task_factory([](EventLoop&, const AnyTask& t) { start_task(t, /*eager_start=*/false); });
        auto t = loop().create_task(coro(), "example");
        loop().set_task_factory(nullptr);
        EXPECT_FALSE(t.done());
        EXPECT_EQ(name, "<not run>");
        co_await t;
        EXPECT_EQ(name, "example");
    };
    run(main());
}

// ---- test_eager_task_factory.py: BaseTaskCountingTests ------------------------
//
// asyncio counts tasks started without eager_start; here the factory counts
// the tasks it sees and, after create_task, those still pending (that had to
// be scheduled).

Coro<int> awaitable_chain(int depth) {
    if (depth == 0) co_return 0;
    int below = co_await awaitable_chain(depth - 1);
    co_return 1 + below;
}

Coro<void> recursive_taskgroups(int width, int depth) {
    if (depth == 0) co_return;
    co_await task_group([width, depth](TaskGroup& tg) -> Coro<void> {
        for (int i = 0; i < width; ++i) tg.create_task(recursive_taskgroups(width, depth - 1));
        co_return;
    });
}

Coro<void> recursive_gather(int width, int depth) {
    if (depth == 0) co_return;
    std::vector<Coro<void>> children;
    for (int i = 0; i < width; ++i) children.push_back(recursive_gather(width, depth - 1));
    co_await gather(std::move(children));
}

struct Counts {
    int created = 0;
    int eager = 0;
};

tulip::TaskFactory counting_factory(Counts* c, bool eager) {
    return [c, eager](EventLoop&, const AnyTask& t) {
        ++c->created;
        if (eager) {
            start_task(t, /*eager_start=*/true);
            if (!t.done()) return;  // it had to be scheduled
            ++c->eager;
        }
    };
}

TEST_F(EagerTaskCounting, AnAwaitChainRunsInOneTaskEitherWay) {
    for (bool eager : {false, true}) {
        Counts c;
        loop().set_task_factory(counting_factory(&c, eager));
        EXPECT_EQ(run(awaitable_chain(100)), 100);
        EXPECT_EQ(c.created, 1);
        EXPECT_EQ(c.eager, 0);
    }
}

TEST_F(EagerTaskCounting, RecursiveTaskGroupsCompleteTheLeavesEagerly) {
    for (bool eager : {false, true}) {
        Counts c;
        loop().set_task_factory(counting_factory(&c, eager));
        run(recursive_taskgroups(5, 4));
        EXPECT_EQ(c.created, 781);            // 1 + 5 + 5^2 + 5^3 + 5^4
        EXPECT_EQ(c.eager, eager ? 625 : 0);  // the leaves never suspend
    }
}

TEST_F(EagerTaskCounting, RecursiveGatherCompletesEveryLevelEagerly) {
    for (bool eager : {false, true}) {
        Counts c;
        loop().set_task_factory(counting_factory(&c, eager));
        run(recursive_gather(5, 4));
        EXPECT_EQ(c.created, 781);
        // A gather of children that all completed eagerly is done when it
        // returns (asyncio 3.12), so every level above the leaves completes
        // eagerly too: all but run_until_complete's own task.
        EXPECT_EQ(c.eager, eager ? 780 : 0);
    }
}

}  // namespace

}  // namespace task_eager_task_test
