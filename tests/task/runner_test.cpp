// Tests of run() and Runner (asyncio.run, asyncio.Runner), ported from
// CPython's Lib/test/test_asyncio/test_runners.py.
//
// Each Runner makes its own loop; the fixture's loop is only used where a
// test needs a loop that is already running. Runner loops run on virtual time
// (RunnerOptions::virtual_time) so leftover sleeps cost no wall time.
#include <tulip/task/runner.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/loop_test.hpp"

namespace task_runner_test {

using namespace tulip;

namespace {

class RunnerTest : public test::LoopTest {};

RunnerOptions on_virtual_time() {
    RunnerOptions o;
    o.virtual_time = true;
    return o;
}

Coro<int> answer() {
    co_await sleep(0);
    co_return 42;
}

Coro<int> raise_spam() {
    co_await sleep(0);
    throw std::invalid_argument("spam");
}

Coro<void> set_flag(bool* flag) {
    co_await sleep(0);
    *flag = true;
}

// Sleeps; records whether it was cancelled.
Coro<void> leftover(double delay, bool* cancelled) {
    try {
        co_await sleep(delay);
    } catch (const CancelledError&) {
        *cancelled = true;
        throw;
    }
}

Coro<int> leave_a_task_behind(bool* cancelled) {
    create_task(leftover(0.1, cancelled));
    co_return 123;
}

Coro<int> leave_a_task_behind_and_fail(bool* cancelled) {
    create_task(leftover(0.1, cancelled));
    co_await sleep(0);
    throw std::runtime_error("fancy exit");
}

// On cancellation, fails instead (CPython: `except CancelledError: 1 / 0`).
Coro<void> fail_when_cancelled() {
    try {
        co_await sleep(0.1);
    } catch (const CancelledError&) {
        throw std::domain_error("division by zero");
    }
}

Coro<int> leave_a_failing_task_behind() {
    create_task(fail_when_cancelled(), "lazy");
    co_return 123;
}

Coro<void> tick_forever(int* ticks) {
    for (;;) {
        co_await sleep(1);
        ++*ticks;
    }
}

Coro<EventLoop*> start_ticker(int* ticks) {
    create_task(tick_forever(ticks));
    co_return &get_running_loop();
}

Coro<EventLoop*> wait_and_report_loop(double delay) {
    co_await sleep(delay);
    co_return &get_running_loop();
}

Coro<void> cancel_myself() {
    current_task().cancel("self");
    co_await sleep(10);
}

Coro<bool> debug_flag() { co_return get_running_loop().get_debug(); }

TEST_F(RunnerTest, RunReturnsTheResultOfTheMainCoroutine) { EXPECT_EQ(tulip::run(answer()), 42); }

// The main task's result is handed over, not copied: a vector of unique_ptr
// (whose copy constructor exists but cannot compile) comes out whole.
Coro<std::vector<std::unique_ptr<int>>> make_owned() {
    std::vector<std::unique_ptr<int>> v;
    v.push_back(std::make_unique<int>(1));
    v.push_back(std::make_unique<int>(2));
    co_return v;
}

TEST_F(RunnerTest, RunMovesAMoveOnlyContainerResultOut) {
    auto v = tulip::run(make_owned());
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(*v[0] + *v[1], 3);
    Runner r;
    auto w = r.run(make_owned());
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(*w[1], 2);
}

TEST_F(RunnerTest, RunRethrowsTheExceptionOfTheMainCoroutine) {
    try {
        tulip::run(raise_spam());
        ADD_FAILURE() << "run() did not rethrow";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "spam");
    }
}

TEST_F(RunnerTest, RunRunsAVoidCoroutine) {
    bool ran = false;
    tulip::run(set_flag(&ran));
    EXPECT_TRUE(ran);
}

TEST_F(RunnerTest, RunAppliesTheDebugOption) {
    RunnerOptions debug;
    debug.debug = true;
    EXPECT_TRUE(tulip::run(debug_flag(), debug));
    RunnerOptions quiet;
    quiet.debug = false;
    EXPECT_FALSE(tulip::run(debug_flag(), quiet));
}

TEST_F(RunnerTest, RunRaisesCancelledErrorWhenTheMainTaskIsCancelled) {
    try {
        tulip::run(cancel_myself(), on_virtual_time());
        ADD_FAILURE() << "run() did not raise";
    } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "self");
    }
}

TEST_F(RunnerTest, RunCancelsLeftoverTasks) {
    // test_asyncio_run_cancels_hanging_tasks.
    bool cancelled = false;
    EXPECT_EQ(tulip::run(leave_a_task_behind(&cancelled), on_virtual_time()), 123);
    EXPECT_TRUE(cancelled);
}

TEST_F(RunnerTest, RunCancelsLeftoverTasksWhenTheMainCoroutineFails) {
    bool cancelled = false;
    EXPECT_THROW(tulip::run(leave_a_task_behind_and_fail(&cancelled), on_virtual_time()), std::runtime_error);
    EXPECT_TRUE(cancelled);
}

TEST_F(RunnerTest, RunReportsAnErrorRaisedByALeftoverTaskAtShutdown) {
    // test_asyncio_run_reports_hanging_tasks_errors.
    std::vector<ExceptionContext> calls;
    RunnerOptions o;
    o.loop_factory = [&calls] {
        EventLoopOptions lo;
        lo.virtual_time = true;
        auto l = new_event_loop(lo);
        l->set_exception_handler([&calls](EventLoop&, const ExceptionContext& c) { calls.push_back(c); });
        return l;
    };
    EXPECT_EQ(tulip::run(leave_a_failing_task_behind(), o), 123);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_NE(calls[0].message.find("shutdown"), std::string::npos) << calls[0].message;
    EXPECT_NE(calls[0].source.find("lazy"), std::string::npos) << calls[0].source;
    EXPECT_THROW(std::rethrow_exception(calls[0].exception), std::domain_error);
}

TEST_F(RunnerTest, RunShutsTheDefaultExecutorDownAfterItsJobsFinish) {
    std::atomic<bool> job_done{false};
    std::size_t threads_before = test::thread_count();
    auto main = [&job_done]() -> Coro<void> {
        // Started, never awaited: close() must still wait for it.
        (void)get_running_loop().run_in_executor(nullptr, [&job_done] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            job_done.store(true);
        });
        co_return;
    };
    tulip::run(main(), on_virtual_time());
    EXPECT_TRUE(job_done.load());
    for (int i = 0; i < 200 && test::thread_count() > threads_before; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(test::thread_count(), threads_before) << "the executor's workers were not joined";
}

TEST_F(RunnerTest, RunFromInsideARunningLoopIsAnError) {
    // test_asyncio_run_from_running_loop.
    auto main = [&]() -> Coro<void> {
        std::string message;
        try {
            tulip::run(answer());
            ADD_FAILURE() << "a nested run() did not throw";
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("cannot be called from a running event loop"), std::string::npos) << message;
        co_await sleep(1);  // the outer loop is unharmed
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
    };
    run(main());
}

TEST_F(RunnerTest, RunnerRunsSeveralCoroutinesOnOneLoop) {
    // test_run / test_run_keeps_context: state survives between run() calls.
    Runner runner(on_virtual_time());
    int ticks = 0;
    EventLoop* first = runner.run(start_ticker(&ticks));
    EventLoop* second = runner.run(wait_and_report_loop(2.5));
    EXPECT_EQ(first, second);
    EXPECT_EQ(first, &runner.get_loop());
    EXPECT_EQ(ticks, 2);  // the task left by the first run kept running in the second
    runner.close();
    EXPECT_EQ(ticks, 2);
}

TEST_F(RunnerTest, RunnerCloseClosesTheLoopAndIsIdempotent) {
    // test_explicit_close / test_double_close / test_second_with_block_raises.
    Runner runner(on_virtual_time());
    EXPECT_EQ(runner.run(answer()), 42);
    EventLoop& loop = runner.get_loop();
    EXPECT_FALSE(loop.is_closed());
    runner.close();
    EXPECT_TRUE(loop.is_closed());
    runner.close();
    EXPECT_TRUE(loop.is_closed());
    try {
        runner.get_loop();
        ADD_FAILURE() << "get_loop() after close() did not throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("Runner is closed"), std::string::npos) << e.what();
    }
    bool ran = false;
    EXPECT_THROW(runner.run(set_flag(&ran)), std::runtime_error);
    EXPECT_FALSE(ran);
}

TEST_F(RunnerTest, RunnerCloseCancelsWhatIsLeft) {
    Runner runner(on_virtual_time());
    bool cancelled = false;
    EXPECT_EQ(runner.run(leave_a_task_behind(&cancelled)), 123);
    EXPECT_FALSE(cancelled);  // still pending between runs
    runner.close();
    EXPECT_TRUE(cancelled);
}

TEST_F(RunnerTest, RunnerMakesItsLoopWithTheFactoryAndAppliesDebug) {
    // test_custom_factory / test_debug / test_non_debug.
    EventLoop* made = nullptr;
    RunnerOptions o;
    o.loop_factory = [&made] {
        auto l = new_event_loop();
        made = l.get();
        return l;
    };
    {
        Runner runner(o);
        EXPECT_EQ(&runner.get_loop(), made);
        EXPECT_FALSE(runner.get_loop().get_debug());
    }
    RunnerOptions d;
    d.debug = true;
    Runner debug(d);
    EXPECT_TRUE(debug.get_loop().get_debug());
}

TEST_F(RunnerTest, RunnerRunInsideItsOwnRunIsAnError) {
    // test_recursive_run.
    Runner runner(on_virtual_time());
    std::string message;
    auto outer = [&]() -> Coro<void> {
        bool ran = false;
        try {
            runner.run(set_flag(&ran));
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
        EXPECT_FALSE(ran);
        co_return;
    };
    runner.run(outer());
    EXPECT_NE(message.find("Runner.run() cannot be called from a running event loop"), std::string::npos) << message;
}

}  // namespace

}  // namespace task_runner_test
