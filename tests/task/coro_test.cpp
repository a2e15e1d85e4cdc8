// Coro<T>: asyncio's coroutine object. Lazy, awaited once, run by symmetric
// transfer (no trip through the loop), exceptions travel up the await chain.
#include <tulip/task/coro.hpp>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <tulip/task/future.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>

#include "support/loop_test.hpp"

namespace task_coro_test {

using namespace tulip;

namespace {

using WatchedLoopTest = test::WatchdogLoopTest;

class ACoro : public WatchedLoopTest {};
class AwaitChain : public WatchedLoopTest {};
class NeverAwaitedCoro : public WatchedLoopTest {};

// Deep enough to overflow any thread stack (8 MiB by default, more frames
// under ASan) if each level of co_await used stack.
constexpr int kDeepChain = 100000;

// ---- coroutines used by the tests --------------------------------------------

Coro<int> mark_and_return(bool* ran, int v) {
    *ran = true;
    co_return v;
}

Coro<int> forty_two() { co_return 42; }
Coro<int> one_thousand() { co_return 1000; }

Coro<int> add_two_awaits() {
    int a = co_await forty_two();
    int b = co_await one_thousand();
    co_return a + b;
}

Coro<int> keep_alive(std::shared_ptr<int> p) { co_return *p; }

// n levels of co_await ending in a plain return.
Coro<long> nest(int n) {
    if (n == 0) co_return 0;
    long below = co_await nest(n - 1);
    co_return below + 1;
}

// n levels of co_await ending in a sleep(0): the chain suspends at the bottom
// and is resumed from the loop.
Coro<long> nest_with_yield(int n) {
    if (n == 0) {
        co_await sleep(0);
        co_return 0;
    }
    long below = co_await nest_with_yield(n - 1);
    co_return below + 1;
}

// n levels of co_await ending in a wait on f.
Coro<long> nest_wait(int n, Future<int> f) {
    if (n == 0) co_return co_await f;
    long below = co_await nest_wait(n - 1, f);
    co_return below + 1;
}

// n levels of co_await ending in a throw.
Coro<long> nest_throw(int n) {
    if (n == 0) throw std::out_of_range("bottom");
    long below = co_await nest_throw(n - 1);
    co_return below + 1;
}

Coro<void> thrower(std::exception_ptr e) {
    std::rethrow_exception(e);
    co_return;
}

Coro<void> pass_through(std::exception_ptr e) { co_await thrower(std::move(e)); }

Coro<const void*> catch_mid_chain(std::exception_ptr e) {
    try {
        co_await pass_through(std::move(e));
    } catch (const std::runtime_error& err) {
        co_return &err;
    }
    co_return nullptr;
}

Coro<std::unique_ptr<int>> make_unique_int(int v) { co_return std::make_unique<int>(v); }

Coro<int> unwrap_unique(int v) {
    std::unique_ptr<int> p = co_await make_unique_int(v);
    co_return *p;
}

Coro<void> await_twice(bool* second_raised) {
    auto c = forty_two();
    int first = co_await c;
    EXPECT_EQ(first, 42);
    EXPECT_TRUE(c.done());
    try {
        co_await c;
    } catch (const std::runtime_error& e) {
        *second_raised = std::string(e.what()).find("already awaited") != std::string::npos;
    }
}

Coro<void> await_empty(bool* raised) {
    auto c = forty_two();
    auto moved = std::move(c);
    try {
        co_await c;  // NOLINT(bugprone-use-after-move): on purpose
    } catch (const std::runtime_error&) {
        *raised = true;
    }
    int v = co_await moved;
    EXPECT_EQ(v, 42);
}

Coro<void> create_and_drop() {
    { auto never = forty_two(); }
    co_return;
}

Coro<int> create_and_await() {
    auto c = forty_two();
    co_return co_await c;
}

Coro<void> inner_waits(Future<int> waiter, int* proof) {
    try {
        co_await waiter;
    } catch (const CancelledError&) {
        *proof += 1;
        throw;
    }
    ADD_FAILURE() << "got past the cancelled future in inner_waits()";
}

Coro<void> outer_awaits_inner(Future<int> waiter, int* proof) {
    try {
        co_await inner_waits(waiter, proof);
    } catch (const CancelledError&) {
        *proof += 100;
        co_return;
    }
    *proof += 10;
}

Coro<void> bump(int* steps) {
    ++*steps;
    co_return;
}

Coro<int> void_then_value(int* steps) {
    co_await bump(steps);
    ++*steps;
    co_return *steps;
}

std::size_t count_logs(const std::vector<std::string>& logs, const std::string& text) {
    std::size_t n = 0;
    for (auto& l : logs)
        if (l.find(text) != std::string::npos) ++n;
    return n;
}

}  // namespace

// ---- laziness and ownership -------------------------------------------------------

TEST_F(ACoro, RunsNothingUntilAwaited) {
    bool ran = false;
    auto c = mark_and_return(&ran, 7);
    EXPECT_FALSE(ran);
    EXPECT_FALSE(c.done());
    run_briefly();
    EXPECT_FALSE(ran) << "a Coro ran without being awaited";
    EXPECT_EQ(run(std::move(c)), 7);
    EXPECT_TRUE(ran);
}

TEST_F(ACoro, ThatIsDroppedUnawaitedNeverRunsAndFreesItsFrame) {
    bool ran = false;
    auto p = std::make_shared<int>(3);
    {
        auto c1 = mark_and_return(&ran, 1);
        auto c2 = keep_alive(p);
        EXPECT_EQ(p.use_count(), 2) << "the parameter copy lives in the frame";
    }
    EXPECT_FALSE(ran);
    EXPECT_EQ(p.use_count(), 1) << "the frame (and its parameter copy) was not destroyed";
}

TEST_F(ACoro, MoveAssignmentDestroysTheFrameItReplaces) {
    auto p = std::make_shared<int>(3);
    auto c = keep_alive(p);
    EXPECT_EQ(p.use_count(), 2);
    c = forty_two();
    EXPECT_EQ(p.use_count(), 1);
    EXPECT_EQ(run(std::move(c)), 42);
}

TEST_F(ACoro, IsEmptyAfterBeingHandedToATask) {
    auto c = forty_two();
    EXPECT_TRUE(static_cast<bool>(c));
    auto t = loop().create_task(std::move(c));
    EXPECT_FALSE(static_cast<bool>(c));  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(run(t), 42);
}

TEST_F(ACoro, ReturnsItsValueToTheAwaiter) { EXPECT_EQ(run(add_two_awaits()), 1042); }

TEST_F(ACoro, OfVoidCanBeAwaitedBetweenValues) {
    int steps = 0;
    EXPECT_EQ(run(void_then_value(&steps)), 2);
}

TEST_F(ACoro, CarriesAMoveOnlyResult) {
    EXPECT_EQ(run(unwrap_unique(9)), 9);
    auto p = run(make_unique_int(4));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 4);
}

TEST_F(ACoro, AwaitedASecondTimeRaises) {
    bool second_raised = false;
    run(await_twice(&second_raised));
    EXPECT_TRUE(second_raised) << "awaiting a finished Coro again must raise (asyncio: cannot reuse)";
}

TEST_F(ACoro, ThatIsEmptyRaisesWhenAwaited) {
    bool raised = false;
    run(await_empty(&raised));
    EXPECT_TRUE(raised);
}

TEST_F(ACoro, AlreadyAwaitedOrEmptyCannotBecomeATask) {
    auto run_then_wrap = [&]() -> Coro<void> {
        auto c = forty_two();
        int v = co_await c;
        EXPECT_EQ(v, 42);
        EXPECT_THROW((void)create_task(std::move(c)), std::invalid_argument);
        EXPECT_TRUE(all_tasks().size() == 1u) << "a refused Coro must not leave a task behind";
    };
    run(run_then_wrap());
    EXPECT_THROW((void)loop().create_task(Coro<int>()), std::invalid_argument);
}

// ---- symmetric transfer -----------------------------------------------------------------

TEST_F(AwaitChain, RunsInOneLoopIterationWhenNothingSuspends) {
    // co_await on a Coro is a direct call (asyncio's `await coro()`), not a hop.
    auto t = loop().create_task(add_two_awaits());
    run_once();
    ASSERT_TRUE(t.done()) << "awaiting a Coro went through the loop";
    EXPECT_EQ(t.result(), 1042);
}

TEST_F(AwaitChain, OfManyLevelsStillTakesOneIteration) {
    auto t = loop().create_task(nest(1000));
    run_once();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), 1000);
}

TEST_F(AwaitChain, AHundredThousandDeepDoesNotOverflowTheStack) {
    auto t = loop().create_task(nest(kDeepChain));
    run_once();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), kDeepChain);
}

TEST_F(AwaitChain, AHundredThousandDeepSuspendsAtTheBottomAndResumes) {
    auto t = loop().create_task(nest_with_yield(kDeepChain));
    run_once();  // runs down the chain to sleep(0)
    EXPECT_FALSE(t.done());
    run_once();  // resumes the innermost frame, which unwinds the chain
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), kDeepChain);
}

TEST_F(AwaitChain, AHundredThousandDeepUnwindsOnCancellation) {
    auto f = Future<int>::create(loop());
    auto t = loop().create_task(nest_wait(kDeepChain, f));
    run_once();  // the whole chain is now suspended on f
    EXPECT_FALSE(t.done());
    t.cancel("unwind");
    EXPECT_TRUE(f.cancelled());
    try {
        run(t);
        ADD_FAILURE();
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "unwind");
    }
    EXPECT_TRUE(t.cancelled());
}

TEST_F(AwaitChain, AHundredThousandDeepCarriesAnExceptionToTheTop) {
    EXPECT_THROW(run(nest_throw(kDeepChain)), std::out_of_range);
}

TEST_F(AwaitChain, PropagatesTheSameExceptionObjectUpward) {
    auto err = std::make_exception_ptr(std::runtime_error("deep"));
    const void* original = nullptr;
    try {
        std::rethrow_exception(err);
    } catch (const std::runtime_error& e) {
        original = &e;
    }
    EXPECT_EQ(run(catch_mid_chain(err)), original);
    try {
        run(pass_through(err));
        ADD_FAILURE();
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(static_cast<const void*>(&e), original);
    }
}

TEST_F(AwaitChain, PassesCancellationDownAndTheCancelledErrorBackUp) {
    // test_tasks: test_yield_future_passes_cancel. Cancelling the task cancels
    // the future awaited two Coros down; each level sees CancelledError.
    auto waiter = Future<int>::create(loop());
    int proof = 0;
    auto t = loop().create_task(outer_awaits_inner(waiter, &proof));
    run_briefly();
    t.cancel();
    run(t);
    EXPECT_EQ(proof, 101);
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_FALSE(t.cancelled()) << "outer caught the CancelledError and returned";
}

// ---- debug mode: never-awaited coroutines ---------------------------------------------

TEST_F(NeverAwaitedCoro, LogsAWarningInDebugMode) {
    loop().set_debug(true);
    run(create_and_drop());
    EXPECT_EQ(count_logs(logs, "never awaited"), 1u);
}

TEST_F(NeverAwaitedCoro, WarningIsNotLoggedForAnAwaitedCoro) {
    loop().set_debug(true);
    EXPECT_EQ(run(create_and_await()), 42);
    EXPECT_EQ(count_logs(logs, "never awaited"), 0u);
}

// The flag coroutines read is cached per thread; set_debug on the running
// loop must reach coroutines created after it, both ways.
TEST_F(NeverAwaitedCoro, SetDebugWhileTheLoopRunsAppliesToCoroutinesCreatedAfterwards) {
    loop().set_debug(false);
    run(([&]() -> Coro<void> {
        loop().set_debug(true);
        co_await create_and_drop();
        loop().set_debug(false);
        co_await create_and_drop();
    })());
    EXPECT_EQ(count_logs(logs, "never awaited"), 1u);
}

TEST_F(NeverAwaitedCoro, WarningIsNotLoggedOutsideDebugMode) {
    if (loop().get_debug()) GTEST_SKIP() << "TULIP_DEBUG is set in the environment";
    run(create_and_drop());
    EXPECT_EQ(count_logs(logs, "never awaited"), 0u);
}

TEST_F(NeverAwaitedCoro, WarningIsLoggedWhenTheEnvironmentTurnsDebugOn) {
    const char* old = std::getenv("TULIP_DEBUG");
    std::string saved = old ? old : "";
    ::setenv("TULIP_DEBUG", "1", 1);
    {
        EventLoop debug_loop(EventLoopOptions{.virtual_time = true});
        EXPECT_TRUE(debug_loop.get_debug());
        debug_loop.run_until_complete(create_and_drop());
        debug_loop.close();
    }
    if (old)
        ::setenv("TULIP_DEBUG", saved.c_str(), 1);
    else
        ::unsetenv("TULIP_DEBUG");
    EXPECT_EQ(count_logs(logs, "never awaited"), 1u);
}

}  // namespace task_coro_test
