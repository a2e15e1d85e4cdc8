// Async-generator cases of CPython's Lib/test/test_asyncgen.py
// (AsyncGenAsyncioTest) that async_generator_test.cpp does not cover:
// athrow() (an exception raised at the suspended co_yield) and asend() (a
// value handed to it).
#include <tulip/task/async_generator.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/task/runner.hpp>

#include "support/loop_test.hpp"
#include "support/recording_runner.hpp"

namespace task_async_generator_conformance_test {

using namespace tulip;

// Results of co_await are named before they are tested (GCC 12: no co_await
// inside a condition, which EXPECT_* expands to).

namespace {

class AsyncGenAthrow : public test::LoopTest {};

struct FooEr {};

struct SetOnExit {
    int* flag;
    ~SetOnExit() { *flag = 1; }
};

// test_async_gen_asyncio_athrow_01's generator.
AsyncGenerator<int> doubles_after_fooer(int* done) {
    SetOnExit on_exit{done};
    co_await sleep(0.01);
    int v = 0;
    bool caught = false;
    try {
        co_yield 1;
    } catch (const FooEr&) {
        v = 1000;
        caught = true;
    }
    if (caught) co_await sleep(0.01);  // GCC 12: no co_await in a catch block
    co_yield v * 2;
    co_await sleep(0.01);
}

TEST_F(AsyncGenAthrow, AthrowRaisesAtTheYieldAndGivesTheNextValue) {
    // test_async_gen_asyncio_athrow_01.
    int done = 0;
    auto body = [&]() -> Coro<void> {
        auto g = doubles_after_fooer(&done);
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 1);
        }
        {
            FooEr err;
            auto got = co_await g.athrow(err);
            EXPECT_EQ(got, 2000);
        }
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, std::nullopt);
        }
    };
    run(body());
    EXPECT_EQ(done, 1);
    EXPECT_DOUBLE_EQ(loop().time(), 0.03);
}

AsyncGenerator<int> swallow_and_return(int* done) {
    try {
        co_yield 0;
    } catch (...) {}
    *done = 1;
}

TEST_F(AsyncGenAthrow, AthrowIntoAGeneratorThatCatchesAndReturnsGivesNothing) {
    // test_async_gen_asyncio_athrow_03 (StopAsyncIteration: nullopt).
    int done = 0;
    auto body = [&]() -> Coro<void> {
        auto g = swallow_and_return(&done);
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 0);
        }
        {
            std::invalid_argument err("x");
            auto got = co_await g.athrow(err);
            EXPECT_EQ(got, std::nullopt);
        }
        EXPECT_TRUE(g.finished());
    };
    run(body());
    EXPECT_EQ(done, 1);
}

// Awaits a task that is cancelled halfway (CPython's sleep_n_crash).
Coro<void> sleep_n_crash(double delay) {
    auto t = create_task(sleep(delay));
    get_running_loop().call_later(delay / 2, [t] { t.cancel(); });
    co_await t;
}

AsyncGenerator<int> crash_in_handler(int* done) {
    SetOnExit on_exit{done};
    co_await sleep(0.01);
    bool caught = false;
    try {
        co_yield 1;
    } catch (const FooEr&) {
        caught = true;
    }
    if (caught) co_await sleep_n_crash(0.01);
    co_yield 2;
}

TEST_F(AsyncGenAthrow, ACancellationWhileHandlingTheThrownErrorComesOutOfAthrowAfterTheCleanup) {
    // test_async_gen_asyncio_athrow_02.
    int done = 0;
    auto body = [&]() -> Coro<void> {
        auto g = crash_in_handler(&done);
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 1);
        }
        bool cancelled = false;
        try {
            FooEr err;
            (void)co_await g.athrow(err);
        } catch (const CancelledError&) {
            cancelled = true;
            EXPECT_EQ(done, 1);  // the generator's cleanup ran first
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(g.finished());
    };
    run(body());
}

AsyncGenerator<int> recover_with_1000() {
    co_yield 1;
    co_await sleep(0.01);
    bool caught = false;
    try {
        co_yield 2;
        co_yield 3;
    } catch (const std::domain_error&) {
        caught = true;
    }
    if (caught) co_yield 1000;
    co_await sleep(0.01);
    co_yield 4;
}

TEST_F(AsyncGenAthrow, ACaughtErrorLetsTheGeneratorGoOnAndAnUncaughtOneComesBackOut) {
    // test_async_gen_asyncio_anext_04 (run2), _anext_tuple, _athrow_tuple,
    // _anext_stopiteration, _athrow_stopiteration: the value yielded after
    // the throw is what athrow() gives.
    auto body = [&]() -> Coro<void> {
        auto g = recover_with_1000();
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 1);
        }
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 2);
        }
        {
            std::domain_error err("zero");
            auto got = co_await g.athrow(err);
            EXPECT_EQ(got, 1000);
        }
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 4);
        }
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, std::nullopt);
        }

        auto h = recover_with_1000();
        {
            auto got = co_await h.next();
            EXPECT_EQ(got, 1);
        }
        bool raised = false;
        try {
            std::runtime_error err("not caught");
            (void)co_await h.athrow(err);
        } catch (const std::runtime_error& e) {
            raised = true;
            EXPECT_STREQ(e.what(), "not caught");
        }
        EXPECT_TRUE(raised);
        {
            auto got = co_await h.next();
            EXPECT_EQ(got, std::nullopt);  // exhausted by the error
        }
    };
    run(body());
}

TEST_F(AsyncGenAthrow, AthrowOnAGeneratorThatNeverStartedRaisesAndClosesIt) {
    auto body = [&]() -> Coro<void> {
        int done = 0;
        auto g = swallow_and_return(&done);
        bool raised = false;
        try {
            std::invalid_argument err("early");
            (void)co_await g.athrow(err);
        } catch (const std::invalid_argument&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_EQ(done, 0);  // no code of the generator ran
        EXPECT_TRUE(g.finished());
        {
            std::invalid_argument err("late");
            auto got = co_await g.athrow(err);
            EXPECT_EQ(got, std::nullopt);
        }
    };
    run(body());
}

AsyncGenerator<int> one_two() {
    co_yield 1;
    co_yield 2;
}

TEST_F(AsyncGenAthrow, AwaitingOneNextTwiceRaisesRuntimeError) {
    // test_async_gen_await_same_anext_coro_twice.
    auto body = [&]() -> Coro<void> {
        auto g = one_two();
        auto nxt = g.next();
        {
            auto got = co_await nxt;
            EXPECT_EQ(got, 1);
        }
        bool raised = false;
        try {
            (void)co_await nxt;
        } catch (const std::runtime_error& e) {
            raised = true;
            EXPECT_NE(std::string(e.what()).find("cannot reuse already awaited"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(raised);
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 2);  // the generator itself is untouched
        }
        co_await g.aclose();
    };
    run(body());
}

struct CleanupError : std::runtime_error {
    CleanupError() : std::runtime_error("cleanup failed") {}
};

AsyncGenerator<int> fails_on_close() {
    bool closing = false;
    try {
        co_yield 1;
        co_yield 2;
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) throw CleanupError();
}

Coro<void> break_out_of_the_loop() {
    auto g = fails_on_close();
    auto first = co_await g.next();  // `async for i in gen(): break`: g is dropped half-way
    EXPECT_EQ(first, 1);
}

TEST_F(AsyncGenAthrow, ADroppedGeneratorWhoseCleanupRaisesInsideRunIsReportedToTheHandler) {
    // test_async_gen_asyncio_shutdown_exception_02.
    std::vector<ExceptionContext> calls;
    RunnerOptions o = test::recording_runner_options(calls);
    tulip::run(break_out_of_the_loop(), o);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_THROW(std::rethrow_exception(calls[0].exception), CleanupError);
}

// ---- asend() -------------------------------------------------------------------------------

// test_async_gen_asyncio_anext_05's generator: each co_yield gives back what was sent.
AsyncGenerator<int, int> echo_times_100() {
    auto v = co_yield 1;
    auto w = co_yield v.value_or(-1);
    co_yield w.value_or(-1) * 100;
}

TEST_F(AsyncGenAthrow, AsendHandsItsValueToTheSuspendedYield) {
    // test_async_gen_asyncio_anext_05.
    auto body = [&]() -> Coro<void> {
        auto g = echo_times_100();
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 1);
        }
        {
            auto got = co_await g.asend(10);
            EXPECT_EQ(got, 10);
        }
        {
            auto got = co_await g.asend(12);
            EXPECT_EQ(got, 1200);
        }
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, std::nullopt);
        }
    };
    run(body());
}

TEST_F(AsyncGenAthrow, AsendToAGeneratorThatHasNotStartedIsRefused) {
    auto body = [&]() -> Coro<void> {
        auto g = echo_times_100();
        EXPECT_THROW((void)g.asend(1), std::invalid_argument);
        {
            auto got = co_await g.next();  // next() starts it, as asend(None) would
            EXPECT_EQ(got, 1);
        }
        co_await g.aclose();
    };
    run(body());
}

// test_async_gen_asyncio_asend_01/02/03's generator; how the step after the
// send fails is chosen by `crash`: 0 none, 1 an error, 2 a cancellation.
AsyncGenerator<int, int> doubles_what_is_sent(int crash, int* done) {
    SetOnExit on_exit{done};
    co_await sleep(0.01);
    auto v = co_yield 1;
    if (crash == 1) {
        co_await sleep(0.01);
        throw std::domain_error("division by zero");
    }
    if (crash == 2) co_await sleep_n_crash(0.01);
    co_await sleep(0.01);
    co_yield v.value_or(0) * 2;
    co_await sleep(0.01);
}

TEST_F(AsyncGenAthrow, AsendGivesTheNextValueAndTheGeneratorFinishesAfterward) {
    // test_async_gen_asyncio_asend_01.
    int done = 0;
    auto body = [&]() -> Coro<void> {
        auto g = doubles_what_is_sent(0, &done);
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, 1);
        }
        {
            auto got = co_await g.asend(100);
            EXPECT_EQ(got, 200);
        }
        {
            auto got = co_await g.next();
            EXPECT_EQ(got, std::nullopt);
        }
    };
    run(body());
    EXPECT_EQ(done, 1);
}

TEST_F(AsyncGenAthrow, AnErrorAfterAsendComesOutOfItAfterTheCleanup) {
    // test_async_gen_asyncio_asend_02 (an error) and _03 (a cancellation).
    for (int crash : {1, 2}) {
        SCOPED_TRACE(crash);
        int done = 0;
        bool domain = false;
        bool cancelled = false;
        auto body = [&]() -> Coro<void> {
            auto g = doubles_what_is_sent(crash, &done);
            {
                auto got = co_await g.next();
                EXPECT_EQ(got, 1);
            }
            try {
                (void)co_await g.asend(100);
            } catch (const std::domain_error&) {
                domain = true;
            } catch (const CancelledError&) {
                cancelled = true;
            }
            EXPECT_EQ(done, 1);
            EXPECT_TRUE(g.finished());
        };
        run(body());
        EXPECT_EQ(domain, crash == 1);
        EXPECT_EQ(cancelled, crash == 2);
    }
}

}  // namespace

}  // namespace task_async_generator_conformance_test
