// AsyncGenerator (PEP 525), ported from CPython's test_asyncgen.py: values and
// exhaustion, exceptions, aclose() and cleanup that awaits, the GeneratorExit
// rules, finalisation of dropped generators and at shutdown, concurrent
// next(), cancellation, and async comprehensions.
#include <tulip/task/async_generator.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_async_generator_test {

using namespace tulip;
using test::value_after;

namespace {

using Log = std::vector<std::string>;

// Records its destruction: proves a generator's locals were destroyed.
struct Probe {
    Log* log;
    std::string name;
    Probe(Log* l, std::string n) : log(l), name(std::move(n)) {}
    Probe(Probe&& o) noexcept : log(std::exchange(o.log, nullptr)), name(std::move(o.name)) {}
    Probe(const Probe&) = delete;
    ~Probe() {
        if (log) log->push_back(name + " destroyed");
    }
};

AsyncGenerator<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) co_yield i;
}

AsyncGenerator<int> nothing() { co_return; }

AsyncGenerator<int> ticks(int n, double period) {
    for (int i = 0; i < n; ++i) {
        co_await sleep(period);
        co_yield i;
    }
}

AsyncGenerator<int> fails_after(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
    co_await sleep(0);
    throw std::invalid_argument("generator failed");
}

// Cleanup that awaits: C++ cannot co_await in a handler, so the handler sets
// a flag and the awaiting happens after it (see docs/asyncio.md).
AsyncGenerator<int> with_cleanup(Log* log, int n = 100) {
    Probe probe(log, "local");
    bool closing = false;
    try {
        for (int i = 0; i < n; ++i) {
            co_await sleep(0.5);
            co_yield i;
        }
        log->push_back("exhausted");
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) {
        log->push_back("cleanup started");
        co_await sleep(1);
        log->push_back("cleanup done at " + std::to_string(get_running_loop().time()));
    }
}

Coro<std::vector<int>> take(AsyncGenerator<int>& gen, int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
        auto v = co_await gen.next();
        if (!v) break;
        out.push_back(*v);
    }
    co_return out;
}

}  // namespace

class AsyncGeneratorTest : public test::LoopTest {};

// ---- values and exhaustion ---------------------------------------------------------------

TEST_F(AsyncGeneratorTest, YieldsItsValuesInOrderThenNothing) {
    auto body = []() -> Coro<void> {
        auto gen = count_to(3);
        EXPECT_FALSE(gen.finished());
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_EQ(co_await gen.next(), 2);
        EXPECT_EQ(co_await gen.next(), 3);
        EXPECT_EQ(co_await gen.next(), std::nullopt);
        EXPECT_TRUE(gen.finished());
        EXPECT_EQ(co_await gen.next(), std::nullopt);  // stays exhausted (StopAsyncIteration again)
    };
    run(body());
}

TEST_F(AsyncGeneratorTest, AnEmptyGeneratorIsExhaustedAtOnce) {
    auto body = []() -> Coro<void> {
        auto gen = nothing();
        EXPECT_EQ(co_await gen.next(), std::nullopt);
        EXPECT_TRUE(gen.finished());
    };
    run(body());
}

TEST_F(AsyncGeneratorTest, ABodyDoesNotRunUntilTheFirstNext) {
    Log log;
    auto make = [&log]() -> AsyncGenerator<int> {
        log.push_back("started");
        co_yield 1;
    };
    auto body = [&]() -> Coro<void> {
        auto gen = make();
        co_await sleep(0);
        EXPECT_TRUE(log.empty());
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_EQ(log, Log{"started"});
        co_await gen.aclose();
    };
    run(body());
}

TEST_F(AsyncGeneratorTest, AwaitsBetweenYieldsTakeTheirTime) {
    auto body = [this]() -> Coro<void> {
        auto gen = ticks(3, 0.25);
        std::vector<double> at;
        while (auto v = co_await gen.next()) at.push_back(loop().time());
        EXPECT_EQ(at, (std::vector<double>{0.25, 0.5, 0.75}));
    };
    run(body());
}

TEST_F(AsyncGeneratorTest, CollectGathersEveryValue) {
    EXPECT_EQ(run(asyncgen::collect(count_to(5))), (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(run(asyncgen::collect(nothing())), std::vector<int>{});
}

AsyncGenerator<std::unique_ptr<int>> boxes(int n) {
    for (int i = 0; i < n; ++i) co_yield std::make_unique<int>(i * 10);
}

TEST_F(AsyncGeneratorTest, MoveOnlyValuesAreHandedOver) {
    auto body = []() -> Coro<int> {
        auto got = co_await asyncgen::collect(boxes(3));
        co_return static_cast<int>(got.size()) * 1000 + *got.at(2);
    };
    EXPECT_EQ(run(body()), 3020);
}

AsyncGenerator<std::string> doubled(AsyncGenerator<int> inner) {
    while (auto v = co_await inner.next()) co_yield std::to_string(*v * 2);
}

TEST_F(AsyncGeneratorTest, AGeneratorCanConsumeAnother) {
    EXPECT_EQ(run(asyncgen::collect(doubled(count_to(3)))), (std::vector<std::string>{"2", "4", "6"}));
}

// ---- exceptions ----------------------------------------------------------------------------

TEST_F(AsyncGeneratorTest, AnExceptionInTheGeneratorComesOutOfNextThenItIsExhausted) {
    auto body = []() -> Coro<void> {
        auto gen = fails_after(2);
        EXPECT_EQ(co_await gen.next(), 0);
        EXPECT_EQ(co_await gen.next(), 1);
        try {
            co_await gen.next();
            ADD_FAILURE() << "the generator's exception was lost";
        } catch (const std::invalid_argument& e) {
            EXPECT_STREQ(e.what(), "generator failed");
        }
        EXPECT_TRUE(gen.finished());
        EXPECT_EQ(co_await gen.next(), std::nullopt);
    };
    run(body());
}

AsyncGenerator<int> throws_at_once() {
    throw std::runtime_error("before the first yield");
    co_yield 0;
}

TEST_F(AsyncGeneratorTest, AnExceptionBeforeTheFirstYieldComesOutOfTheFirstNext) {
    auto body = []() -> Coro<void> {
        auto gen = throws_at_once();
        EXPECT_THROW(co_await gen.next(), std::runtime_error);
        EXPECT_EQ(co_await gen.next(), std::nullopt);
    };
    run(body());
}

TEST_F(AsyncGeneratorTest, CollectPropagatesTheGeneratorsException) {
    EXPECT_THROW(run(asyncgen::collect(fails_after(3))), std::invalid_argument);
}

// ---- aclose --------------------------------------------------------------------------------

TEST_F(AsyncGeneratorTest, AcloseRunsCleanupThatAwaitsAndDestroysLocals) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = with_cleanup(&log);
        EXPECT_EQ(co_await gen.next(), 0);
        co_await gen.aclose();
        EXPECT_TRUE(gen.finished());
        EXPECT_EQ(co_await gen.next(), std::nullopt);
    };
    run(body());
    EXPECT_EQ(log, (Log{"cleanup started", "cleanup done at 1.500000", "local destroyed"}));
}

TEST_F(AsyncGeneratorTest, AcloseTwiceRunsTheCleanupOnce) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = with_cleanup(&log);
        co_await gen.next();
        co_await gen.aclose();
        co_await gen.aclose();
    };
    run(body());
    EXPECT_EQ(std::count(log.begin(), log.end(), "cleanup started"), 1);
}

TEST_F(AsyncGeneratorTest, AcloseOnAnUnstartedGeneratorRunsNoCodeAndExhaustsIt) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = with_cleanup(&log);
        co_await gen.aclose();
        EXPECT_TRUE(gen.finished());
        EXPECT_EQ(co_await gen.next(), std::nullopt);
        EXPECT_TRUE(log.empty()) << "the body ran";
    };
    run(body());
}

TEST_F(AsyncGeneratorTest, AcloseOnAnExhaustedGeneratorDoesNothing) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = with_cleanup(&log, 1);
        EXPECT_EQ(co_await gen.next(), 0);
        EXPECT_EQ(co_await gen.next(), std::nullopt);
        co_await gen.aclose();
    };
    run(body());
    EXPECT_EQ(log, (Log{"exhausted", "local destroyed"}));
}

AsyncGenerator<int> cleanup_throws() {
    bool closing = false;
    try {
        co_yield 1;
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) {
        co_await sleep(0);
        throw std::logic_error("cleanup failed");
    }
}

TEST_F(AsyncGeneratorTest, AnErrorInTheCleanupComesOutOfAclose) {
    auto body = []() -> Coro<void> {
        auto gen = cleanup_throws();
        co_await gen.next();
        EXPECT_THROW(co_await gen.aclose(), std::logic_error);
        EXPECT_TRUE(gen.finished());
    };
    run(body());
}

AsyncGenerator<int> returns_on_exit(Log* log) {
    try {
        co_yield 1;
        co_yield 2;
    } catch (const GeneratorExit&) {
        log->push_back("caught");
        co_return;  // swallowing GeneratorExit by returning is allowed
    }
}

TEST_F(AsyncGeneratorTest, AGeneratorMayReturnOnGeneratorExit) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = returns_on_exit(&log);
        co_await gen.next();
        co_await gen.aclose();
        EXPECT_TRUE(gen.finished());
    };
    run(body());
    EXPECT_EQ(log, Log{"caught"});
}

AsyncGenerator<int> yields_once_more_on_exit(Log* log) {
    try {
        co_yield 1;
    } catch (const GeneratorExit&) {
        log->push_back("ignored GeneratorExit");
    }
    co_yield 2;  // not allowed while closing
    log->push_back("resumed after the second yield");
}

TEST_F(AsyncGeneratorTest, AGeneratorThatYieldsOnGeneratorExitMakesAcloseRaiseRuntimeError) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = yields_once_more_on_exit(&log);
        EXPECT_EQ(co_await gen.next(), 1);
        try {
            co_await gen.aclose();
            ADD_FAILURE() << "aclose() accepted a generator that kept yielding";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("ignored GeneratorExit"), std::string::npos) << e.what();
        }
        // A second aclose() throws GeneratorExit in at the second yield: now it ends.
        co_await gen.aclose();
        EXPECT_TRUE(gen.finished());
    };
    run(body());
    EXPECT_EQ(log, Log{"ignored GeneratorExit"});
}

TEST_F(AsyncGeneratorTest, AcloseFromAnotherTaskWhileTheGeneratorRunsIsRefused) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = with_cleanup(&log);
        auto consumer = create_task(take(gen, 1));
        co_await sleep(0.1);  // the generator is inside its sleep(0.5)
        try {
            co_await gen.aclose();
            ADD_FAILURE() << "aclose() resumed a running generator";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos) << e.what();
        }
        auto got = co_await consumer;
        EXPECT_EQ(got, std::vector<int>{0});
        co_await gen.aclose();
    };
    run(body());
    EXPECT_EQ(log.front(), "cleanup started");
}

// ---- finalisation --------------------------------------------------------------------------

Coro<void> consume_one_and_drop(Log* log, AnyTask* consumer) {
    *consumer = current_task();
    auto gen = with_cleanup(log);
    (void)co_await gen.next();
    log->push_back("dropping");
}  // gen is dropped half-way here

AsyncGenerator<int> reports_its_task(Log* log, AnyTask* where) {
    bool closing = false;
    try {
        co_yield 1;
        co_yield 2;
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) {
        *where = current_task();
        co_await sleep(1);
        log->push_back("finalised");
    }
}

TEST_F(AsyncGeneratorTest, AGeneratorDroppedHalfWayIsFinalisedInAnotherTask) {
    Log log;
    AnyTask consumer;
    AnyTask finaliser;
    auto body = [&]() -> Coro<void> {
        consumer = current_task();
        {
            auto gen = reports_its_task(&log, &finaliser);
            EXPECT_EQ(co_await gen.next(), 1);
        }
        log.push_back("consumer went on");
        co_await sleep(2);
    };
    run(body());
    EXPECT_EQ(log, (Log{"consumer went on", "finalised"}));
    EXPECT_TRUE(static_cast<bool>(finaliser));
    EXPECT_FALSE(finaliser == consumer) << "the cleanup ran inside the consumer's task";
}

TEST_F(AsyncGeneratorTest, ATaskThatEndsWithAGeneratorOpenLeavesItsCleanupToAFinaliser) {
    Log log;
    AnyTask consumer;
    auto t = loop().create_task(consume_one_and_drop(&log, &consumer));
    run(t);
    // The task is done; the cleanup (which sleeps 1 s) is not.
    EXPECT_EQ(log.front(), "dropping");
    EXPECT_LE(log.size(), 2u);
    run(sleep(5));
    EXPECT_EQ(log.size(), 4u);
    EXPECT_EQ(log[1], "cleanup started");
    EXPECT_EQ(log[3], "local destroyed");
}

AsyncGenerator<int> keeps_yielding(Log* log) {
    Probe probe(log, "frame");
    for (int i = 0; i < 10; ++i) {
        try {
            co_yield i;
        } catch (const GeneratorExit&) {
            log->push_back("ignored GeneratorExit");
        }
    }
}

TEST_F(AsyncGeneratorTest, ADroppedGeneratorThatIgnoresGeneratorExitIsReportedAndStillFreed) {
    expect_handler_calls = true;
    Log log;
    auto body = [&]() -> Coro<void> {
        {
            auto gen = keeps_yielding(&log);
            co_await gen.next();
        }
        co_await sleep(1);
    };
    run(body());
    EXPECT_EQ(log, (Log{"ignored GeneratorExit", "frame destroyed"}));
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(describe_exception(handler_calls[0].exception).find("ignored GeneratorExit"), std::string::npos)
        << handler_calls[0].message;
    EXPECT_NE(handler_calls[0].message.find("closing of asynchronous generator"), std::string::npos)
        << handler_calls[0].message;
}

AsyncGenerator<int> holds(Probe p) {
    co_yield 1;
    (void)p;
}

TEST_F(AsyncGeneratorTest, DroppingAnUnstartedOrFinishedGeneratorDestroysItAtOnce) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto before = all_tasks().size();
        { auto unstarted = holds(Probe(&log, "unstarted")); }
        EXPECT_EQ(log, Log{"unstarted destroyed"});
        {
            auto done = holds(Probe(&log, "finished"));
            while (co_await done.next()) {}
        }
        EXPECT_EQ(log, (Log{"unstarted destroyed", "finished destroyed"}));
        EXPECT_EQ(all_tasks().size(), before) << "a finaliser task was made for nothing";
    };
    run(body());
}

TEST_F(AsyncGeneratorTest, ShutdownAsyncgensClosesEveryOpenGenerator) {
    Log log1, log2;
    AsyncGenerator<int> a, b, c;
    auto body = [&]() -> Coro<void> {
        a = with_cleanup(&log1);
        b = with_cleanup(&log2);
        c = with_cleanup(&log2);  // never started: nothing to close
        co_await a.next();
        co_await b.next();
    };
    run(body());
    run(shutdown_asyncgens(loop()));
    EXPECT_TRUE(a.finished());
    EXPECT_TRUE(b.finished());
    EXPECT_EQ(log1.front(), "cleanup started");
    EXPECT_EQ(log1.back(), "local destroyed");
    EXPECT_EQ(std::count(log2.begin(), log2.end(), "cleanup started"), 1);
}

TEST_F(AsyncGeneratorTest, ShutdownAsyncgensReportsACleanupErrorToTheExceptionHandler) {
    expect_handler_calls = true;
    AsyncGenerator<int> gen;
    auto body = [&]() -> Coro<void> {
        gen = cleanup_throws();
        co_await gen.next();
    };
    run(body());
    run(shutdown_asyncgens(loop()));
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("asynchronous generator"), std::string::npos) << handler_calls[0].message;
    EXPECT_NE(describe_exception(handler_calls[0].exception).find("cleanup failed"), std::string::npos);
}

TEST_F(AsyncGeneratorTest, RunFinalisesGeneratorsLeftOpenAndTheirCleanupMayAwait) {
    Log log;
    AsyncGenerator<int> keep;
    auto main = [&]() -> Coro<int> {
        keep = with_cleanup(&log);
        co_await keep.next();
        co_await keep.next();
        co_return 0;
    };
    RunnerOptions opts;
    opts.virtual_time = true;
    opts.handle_sigint = false;
    EXPECT_EQ(tulip::run(main(), opts), 0);
    EXPECT_TRUE(keep.finished());
    // Opened at 0, yielded at 0.5 and 1.0; the cleanup slept 1 s more.
    EXPECT_EQ(log, (Log{"cleanup started", "cleanup done at 2.000000", "local destroyed"}));
}

// ---- concurrency and cancellation -------------------------------------------------------------

TEST_F(AsyncGeneratorTest, ASecondConcurrentNextRaisesRuntimeError) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = with_cleanup(&log);
        auto first = create_task(take(gen, 1));
        co_await sleep(0.1);
        try {
            co_await gen.next();
            ADD_FAILURE() << "two consumers ran the generator at once";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos) << e.what();
        }
        auto got = co_await first;
        EXPECT_EQ(got, std::vector<int>{0});
        EXPECT_EQ(co_await gen.next(), 1);  // usable again once the first is done
        co_await gen.aclose();
    };
    run(body());
}

AsyncGenerator<int> notes_cancellation(Log* log) {
    co_yield 1;
    try {
        co_await sleep(10);
    } catch (const CancelledError&) {
        log->push_back("generator saw CancelledError");
        throw;
    }
    co_yield 2;
}

Coro<int> consume_all(AsyncGenerator<int>* gen) {
    int sum = 0;
    while (auto v = co_await gen->next()) sum += *v;
    co_return sum;
}

TEST_F(AsyncGeneratorTest, CancellingTheConsumerCancelsWhatTheGeneratorAwaits) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto gen = notes_cancellation(&log);
        auto consumer = create_task(consume_all(&gen));
        co_await sleep(1);
        EXPECT_FALSE(consumer.done());
        consumer.cancel();
        try {
            co_await consumer;
            ADD_FAILURE() << "the consumer was not cancelled";
        } catch (const CancelledError&) {}
        EXPECT_TRUE(consumer.cancelled());
        EXPECT_TRUE(gen.finished());  // the CancelledError ended the generator
        EXPECT_EQ(loop().time(), 1.0);
    };
    run(body());
    EXPECT_EQ(log, Log{"generator saw CancelledError"});
}

AsyncGenerator<int> survives_cancellation() {
    co_yield 1;
    bool cancelled = false;
    try {
        co_await sleep(10);
    } catch (const CancelledError&) {
        cancelled = true;
    }
    co_yield cancelled ? -1 : 2;
    co_yield 3;
}

TEST_F(AsyncGeneratorTest, AGeneratorThatCatchesCancellationCanGoOnYielding) {
    auto body = []() -> Coro<void> {
        auto gen = survives_cancellation();
        auto consumer = create_task(consume_all(&gen));
        co_await sleep(1);
        consumer.cancel();
        EXPECT_EQ(co_await consumer, 1 - 1 + 3);  // the consumer saw -1, then 3
        EXPECT_FALSE(consumer.cancelled());
        EXPECT_EQ(consumer.cancelling(), 1u);  // the request is still counted, as asyncio
    };
    run(body());
}

// ---- async comprehensions ----------------------------------------------------------------------

Coro<bool> is_even_later(int v) {
    co_await sleep(0.1);
    co_return v % 2 == 0;
}

using Func = std::function<Coro<int>()>;

AsyncGenerator<Func> funcs(int n) {
    for (int i = 0; i < n; ++i) {
        co_await sleep(0.01);
        Func func = [i] { return value_after(0.5, i * i); };  // GCC 12.2: no temporary std::function in co_yield
        co_yield std::move(func);
    }
}

Coro<bool> smth() {
    co_await sleep(0);
    co_return true;
}

TEST_F(AsyncGeneratorTest, AnAsyncComprehensionAwaitsInItsFilterAndItsExpression) {
    // Python: [await f() async for f in funcs if await smth()]
    auto body = []() -> Coro<std::vector<int>> {
        auto keep = [](const Func&) { return smth(); };
        auto call = [](Func f) { return f(); };
        co_return co_await asyncgen::collect(asyncgen::transform(asyncgen::filter(funcs(5), keep), call));
    };
    EXPECT_EQ(run(body()), (std::vector<int>{0, 1, 4, 9, 16}));
}

TEST_F(AsyncGeneratorTest, FilterAndTransformTakePlainOrAsyncCallables) {
    auto body = []() -> Coro<std::vector<std::string>> {
        // [str(x * 10) async for x in count_to(6) if await is_even_later(x) if x != 4]
        auto even = [](int x) { return is_even_later(x); };
        auto not_four = [](int x) { return x != 4; };
        auto times_ten = [](int x) { return std::to_string(x * 10); };
        auto kept = asyncgen::filter(asyncgen::filter(count_to(6), even), not_four);
        co_return co_await asyncgen::collect(asyncgen::transform(std::move(kept), times_ten));
    };
    EXPECT_EQ(run(body()), (std::vector<std::string>{"20", "60"}));
}

TEST_F(AsyncGeneratorTest, AcloseOnAFilterClosesTheGeneratorUnderneath) {
    Log log;
    auto body = [&]() -> Coro<void> {
        auto evens = asyncgen::filter(with_cleanup(&log), [](int x) { return x % 2 == 0; });
        EXPECT_EQ(co_await evens.next(), 0);
        EXPECT_EQ(co_await evens.next(), 2);
        co_await evens.aclose();
        // The inner generator's cleanup ran inside aclose(), awaits and all.
        EXPECT_EQ(log.size(), 3u);
        EXPECT_EQ(log.front(), "cleanup started");
        EXPECT_EQ(log.back(), "local destroyed");
        EXPECT_EQ(co_await evens.next(), std::nullopt);
    };
    run(body());
}

}  // namespace task_async_generator_test
