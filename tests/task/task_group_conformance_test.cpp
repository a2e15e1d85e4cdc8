// TaskGroup cases of CPython's Lib/test/test_asyncio/test_taskgroups.py not
// covered by task_group_test.cpp, and TaskGroup::create_task taking what
// create_task and ensure_future take: a coroutine or any other awaitable
// (q.get(), event.wait()), each run as a task of the group.
#include <tulip/task/task_group.hpp>

#include <stdexcept>
#include <string>

#include "support/loop_test.hpp"

namespace task_task_group_conformance_test {

using namespace tulip;

// Results of co_await are named before they are tested (GCC 12: no co_await
// inside a condition, which EXPECT_* expands to).

namespace {

class TaskGroupConformance : public test::LoopTest {};

TEST_F(TaskGroupConformance, CreateTaskTakesAnyAwaitableAsCreateTaskDoes) {
    auto main = [&]() -> Coro<void> {
        Queue<int> q;
        Event ev;
        Task<int> got;
        Task<bool> waited;
        co_await task_group([&](TaskGroup& tg) -> Coro<void> {
            got = tg.create_task(q.get());
            waited = tg.create_task(ev.wait(), "event-waiter");
            EXPECT_EQ(waited.get_name(), "event-waiter");
            EXPECT_EQ(tg.size(), 2u);
            loop().call_later(1, [&] {
                q.put_nowait(42);
                ev.set();
            });
            co_return;
        });
        // The group waited for both.
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        EXPECT_EQ(got.result(), 42);
        EXPECT_TRUE(waited.result());  // Event.wait() gives true
        // create_task and ensure_future take the same awaitables.
        auto direct = create_task(q.get());
        auto ensured = detail::ensure_future(loop(), q.get());
        q.put_nowait(1);
        q.put_nowait(2);
        {
            auto got = co_await direct;
            EXPECT_EQ(got, 1);
        }
        {
            auto got = co_await ensured;
            EXPECT_EQ(got, 2);
        }
    };
    run(main());
}

TEST_F(TaskGroupConformance, AnAwaitableChildIsCancelledWhenASiblingFails) {
    auto main = [&]() -> Coro<void> {
        Queue<int> q;
        Task<int> getter;
        bool group_failed = false;
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<void> {
                getter = tg.create_task(q.get());
                tg.create_task([]() -> Coro<void> {
                    co_await sleep(0.1);
                    throw std::runtime_error("boom");
                }());
                co_return;
            });
        } catch (const ExceptionGroup& eg) {
            group_failed = eg.exceptions().size() == 1;
        }
        EXPECT_TRUE(group_failed);
        EXPECT_TRUE(getter.cancelled());
        // The cancelled get() lost nothing.
        q.put_nowait(7);
        EXPECT_EQ(q.get_nowait(), 7);
    };
    run(main());
}

TEST_F(TaskGroupConformance, AChildSeesTheNameItWasCreatedWith) {
    // test_name: current_task() inside the child is the named task.
    auto main = [&]() -> Coro<void> {
        std::string name;
        co_await task_group([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task(
                [](std::string* out) -> Coro<void> {
                    *out = current_task().get_name();
                    co_return;
                }(&name),
                "example name");
            co_return;
        });
        EXPECT_EQ(name, "example name");
    };
    run(main());
}

Coro<void> crash_soon() {
    co_await sleep(0.3);
    throw std::runtime_error("crash");
}

Coro<void> group_with_slow_cleanup() {
    co_await task_group([](TaskGroup& g) -> Coro<void> {
        g.create_task(crash_soon());
        try {
            co_await sleep(10);
        } catch (const CancelledError&) {
            // Cleanup that outlives the child's crash (GCC 12: no co_await in a catch block).
        }
        co_await sleep(0.5);
        throw CancelledError();
    });
}

Coro<void> await_in_another_task() {
    auto t = create_task(group_with_slow_cleanup());
    co_await t;
}

TEST_F(TaskGroupConformance, ACrashDuringTheCleanupOfACancelledNestedRunnerIsRaisedThroughTheOuterTask) {
    // test_taskgroup_16: the group runs in a task awaited by the cancelled
    // task; the child crashes while the body cleans up: ExceptionGroup, not
    // CancelledError, comes out of the outer task.
    auto main = [&]() -> Coro<void> {
        auto r = create_task(await_in_another_task());
        co_await sleep(0.1);
        EXPECT_FALSE(r.done());
        r.cancel();
        bool group = false;
        try {
            co_await r;
        } catch (const ExceptionGroup& eg) {
            group = eg.exceptions().size() == 1;
        } catch (const CancelledError&) {
            ADD_FAILURE() << "CancelledError instead of the child's crash";
        }
        EXPECT_TRUE(group);
    };
    run(main());
}

// test_taskgroup_20: KeyboardInterrupt (asyncio's "base errors") leaves the
// group bare, not inside an ExceptionGroup, once every child is done.
TEST_F(TaskGroupConformance, KeyboardInterruptFromTheBodyLeavesTheGroupBareAfterTheChildrenFinish) {
    auto main = [&]() -> Coro<void> {
        Task<void> crash;
        bool interrupted = false;
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<void> {
                crash = tg.create_task([]() -> Coro<void> {
                    co_await sleep(0.1);
                    throw std::runtime_error("crash soon");
                }());
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    throw KeyboardInterrupt();  // asyncio's `finally: raise KeyboardInterrupt`
                }
            });
        } catch (const KeyboardInterrupt&) {
            interrupted = true;
        }
        EXPECT_TRUE(interrupted);
        EXPECT_TRUE(crash.done());
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
    };
    run(main());
}

TEST_F(TaskGroupConformance, KeyboardInterruptFromAChildLeavesTheGroupBareAndCancelsTheSiblings) {
    auto main = [&]() -> Coro<void> {
        Task<void> sibling;
        bool interrupted = false;
        bool grouped = false;
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<void> {
                sibling = tg.create_task(sleep(10));
                tg.create_task([]() -> Coro<void> {
                    co_await sleep(0.1);
                    throw std::runtime_error("a plain error first");
                }());
                tg.create_task([]() -> Coro<void> {
                    co_await sleep(0.1);
                    throw KeyboardInterrupt();
                }());
                co_return;
            });
        } catch (const KeyboardInterrupt&) {
            interrupted = true;
        } catch (const ExceptionGroup&) {
            grouped = true;
        }
        EXPECT_TRUE(interrupted);
        EXPECT_FALSE(grouped);
        EXPECT_TRUE(sibling.cancelled());
    };
    run(main());
}

}  // namespace

}  // namespace task_task_group_conformance_test
