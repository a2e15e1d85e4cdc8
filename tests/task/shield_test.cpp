// Tests of shield (asyncio.shield), ported from the shield parts of CPython's
// Lib/test/test_asyncio/test_tasks.py (test_shield_*, test_gather_shield).
#include <tulip/task/shield.hpp>

#include <stdexcept>
#include <string>
#include <tuple>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_shield_test {

using namespace tulip;
using test::fail_after;
using test::value_after;

namespace {

class Shield : public test::LoopTest {};

Coro<int> await_future(Future<int> fut, int* proof) {
    int v = co_await fut;
    ++*proof;
    co_return v;
}

Coro<void> await_shielded(Future<int> fut, int* proof) {
    co_await shield(await_future(fut, proof));
    *proof += 100;
}

Coro<int> await_shielded_task(Task<int> t) { co_return co_await shield(t); }

TEST_F(Shield, PassesTheResultThrough) {
    auto main = [&]() -> Coro<void> {
        auto inner = loop().create_future<int>();
        auto outer = shield(inner);
        inner.set_result(42);
        EXPECT_EQ(co_await outer, 42);
    };
    run(main());
}

TEST_F(Shield, PassesTheExceptionThroughAsTheSameObject) {
    auto main = [&]() -> Coro<void> {
        auto inner = loop().create_future<int>();
        auto outer = shield(inner);
        co_await sleep(0);
        inner.set_exception(std::runtime_error("expected"));
        co_await sleep(0);
        EXPECT_TRUE(outer.done());
        EXPECT_EQ(outer.exception(), inner.exception());
    };
    run(main());
}

TEST_F(Shield, CancellingTheInnerCancelsTheOuter) {
    auto main = [&]() -> Coro<void> {
        auto inner = loop().create_future<int>();
        auto outer = shield(inner);
        co_await sleep(0);
        inner.cancel();
        co_await sleep(0);
        EXPECT_TRUE(outer.cancelled());
    };
    run(main());
}

TEST_F(Shield, ADoneFutureIsReturnedAsIs) {
    auto main = [&]() -> Coro<void> {
        auto fut = loop().create_future<int>();
        fut.set_result(42);
        auto outer = shield(fut);
        EXPECT_TRUE(outer == fut);
        EXPECT_EQ(co_await outer, 42);
    };
    run(main());
}

TEST_F(Shield, CancellingTheOuterLeavesTheInnerRunning) {
    auto main = [&]() -> Coro<void> {
        auto task = create_task(value_after(1, 7));
        auto outer = shield(task);
        co_await sleep(0.5);
        EXPECT_TRUE(outer.cancel());
        EXPECT_TRUE(outer.cancelled());
        EXPECT_FALSE(task.cancelled());
        EXPECT_EQ(co_await task, 7);
        EXPECT_TRUE(outer.cancelled());  // the late result does not reach it
    };
    run(main());
}

TEST_F(Shield, CancellingTheAwaitingTaskDoesNotCancelTheShieldedWork) {
    // test_shield_effect.
    auto main = [&]() -> Coro<void> {
        int proof = 0;
        auto waiter = loop().create_future<int>();
        auto outer = create_task(await_shielded(waiter, &proof));
        co_await sleep(0.1);
        outer.cancel();
        bool cancelled = false;
        try {
            co_await outer;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(proof, 0);
        waiter.set_result(1);
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_EQ(proof, 1);  // the inner coroutine finished; the outer did not go on
    };
    run(main());
}

TEST_F(Shield, TheShieldedTaskCanStillBeAwaitedAfterTheCallerWasCancelled) {
    auto main = [&]() -> Coro<void> {
        auto inner = create_task(value_after(2, 9));
        auto caller = create_task(await_shielded_task(inner));
        co_await sleep(1);
        caller.cancel();
        bool cancelled = false;
        try {
            co_await caller;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        EXPECT_EQ(co_await inner, 9);
        EXPECT_DOUBLE_EQ(loop().time(), 2.0);
    };
    run(main());
}

TEST_F(Shield, ShieldingAGatherProtectsItsChildren) {
    // test_shield_gather.
    auto main = [&]() -> Coro<void> {
        auto child1 = loop().create_future<int>();
        auto child2 = loop().create_future<int>();
        auto parent = gather(child1, child2);
        auto outer = shield(parent);
        co_await sleep(0);
        outer.cancel();
        co_await sleep(0);
        EXPECT_TRUE(outer.cancelled());
        child1.set_result(1);
        child2.set_result(2);
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_TRUE(parent.done());
        EXPECT_EQ(parent.result(), std::make_tuple(1, 2));
    };
    run(main());
}

TEST_F(Shield, GatheringShieldedFuturesCancelsOnlyTheShields) {
    // test_gather_shield.
    auto main = [&]() -> Coro<void> {
        auto child1 = loop().create_future<int>();
        auto child2 = loop().create_future<int>();
        auto inner1 = shield(child1);
        auto inner2 = shield(child2);
        auto parent = gather(inner1, inner2);
        co_await sleep(0);
        parent.cancel();
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_TRUE(parent.done());
        bool parent_cancelled = false;
        try {
            std::rethrow_exception(parent.exception());
        } catch (const CancelledError&) {
            parent_cancelled = true;
        } catch (...) {}
        EXPECT_TRUE(parent_cancelled);
        EXPECT_TRUE(inner1.cancelled());
        EXPECT_TRUE(inner2.cancelled());
        EXPECT_FALSE(child1.done());
        EXPECT_FALSE(child2.done());
        child1.set_result(1);
        child2.set_result(2);
        co_await sleep(0);
    };
    run(main());
}

TEST_F(Shield, AShieldedCoroutineThatFailsAfterTheCallerLeftIsReportedAsUnretrieved) {
    // As asyncio: once the outer future is cancelled, nobody looks at the
    // inner task any more; its later failure is reported, not lost silently.
    expect_handler_calls = true;
    auto main = [&]() -> Coro<void> {
        auto outer = shield(fail_after(1, "inner failed"));
        co_await sleep(0.5);
        outer.cancel();
        co_await sleep(1);
        EXPECT_TRUE(outer.cancelled());
    };
    run(main());
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(handler_calls[0].message, "Task exception was never retrieved");
    EXPECT_NE(describe_exception(handler_calls[0].exception).find("inner failed"), std::string::npos);
}

}  // namespace

}  // namespace task_shield_test
