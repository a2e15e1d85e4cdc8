// run() cases of CPython's Lib/test/test_asyncio/test_runners.py that
// runner_test.cpp does not cover.
#include <tulip/task/runner.hpp>

#include <csignal>
#include <stdexcept>
#include <vector>

#include <tulip/task/async_generator.hpp>

#include "support/loop_test.hpp"
#include "support/recording_runner.hpp"

#include <signal.h>
#include <unistd.h>

namespace task_runner_conformance_test {

using namespace tulip;

namespace {

class RunnerConformance : public test::LoopTest {};

struct SetOnExit {
    bool* flag;
    ~SetOnExit() { *flag = true; }
};

AsyncGenerator<int> fidget(bool* closed) {
    SetOnExit on_exit{closed};
    for (;;) {
        co_yield 1;
        co_await sleep(1);
    }
}

// Consumes the generator forever; fails when cancelled (CPython: `1 / 0`).
Coro<void> spin(bool* closed) {
    auto spinner = fidget(closed);
    try {
        for (;;) {
            auto v = co_await spinner.next();  // GCC 12: no co_await in a condition
            if (!v) break;
        }
    } catch (const CancelledError&) {
        throw std::domain_error("division by zero");
    }
}

struct FancyExit : std::runtime_error {
    FancyExit() : std::runtime_error("fancy exit") {}
};

Coro<void> start_spinner_and_fail(bool* closed, Task<void>* lazyboy) {
    *lazyboy = create_task(spin(closed));
    co_await sleep(0);
    throw FancyExit();
}

TEST_F(RunnerConformance, RunClosesGeneratorsAfterLeftoverTasksFailOnCancellation) {
    // test_asyncio_run_closes_gens_after_hanging_tasks_errors.
    std::vector<ExceptionContext> calls;
    RunnerOptions o = test::recording_runner_options(calls);
    bool closed = false;
    Task<void> lazyboy;
    EXPECT_THROW(tulip::run(start_spinner_and_fail(&closed, &lazyboy), o), FancyExit);
    EXPECT_TRUE(lazyboy.done());
    EXPECT_TRUE(closed);  // the generator was finalised, its frame is gone
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_THROW(std::rethrow_exception(calls[0].exception), std::domain_error);
}

// ---- Ctrl-C (test_interrupt_*): real SIGINT to this process, handled by the Runner ----

void send_sigint() { ::kill(::getpid(), SIGINT); }

bool sigint_is_default() {
    struct sigaction sa {};
    ::sigaction(SIGINT, nullptr, &sa);
    return sa.sa_handler == SIG_DFL;
}

Coro<void> spin_until_cancelled() {
    bool saw_cancel = false;
    try {
        for (;;) co_await sleep(0);
    } catch (const CancelledError&) {
        saw_cancel = true;
    }
    EXPECT_TRUE(saw_cancel);
    throw CancelledError();
}

TEST(RunnerConformanceSigint, CtrlCWhileTheMainTaskOnlyYieldsCancelsItAndRunRaisesKeyboardInterrupt) {
    // test_interrupt_call_soon: the task is never suspended on a future.
    ASSERT_TRUE(sigint_is_default());
    Runner runner;
    runner.get_loop().call_later(0.01, send_sigint);
    EXPECT_THROW(runner.run(spin_until_cancelled()), KeyboardInterrupt);
    runner.close();
    EXPECT_TRUE(sigint_is_default());
}

Coro<void> await_then_raise_cancelled(Future<void> fut) {
    bool saw_cancel = false;
    try {
        co_await fut;
    } catch (const CancelledError&) {
        saw_cancel = true;
    }
    EXPECT_TRUE(saw_cancel);
    throw CancelledError();
}

TEST(RunnerConformanceSigint, CtrlCWhileTheMainTaskWaitsCancelsTheFutureToo) {
    // test_interrupt_wait.
    ASSERT_TRUE(sigint_is_default());
    Runner runner;
    auto fut = runner.get_loop().create_future<void>();
    runner.get_loop().call_later(0.01, send_sigint);
    EXPECT_THROW(runner.run(await_then_raise_cancelled(fut)), KeyboardInterrupt);
    EXPECT_TRUE(fut.cancelled());
    runner.close();
}

Coro<void> cancel_then_interrupt(AnyTask main_task) {
    co_await sleep(0);
    main_task.cancel();
    send_sigint();
}

Coro<void> get_cancelled_by_a_subtask() {
    create_task(cancel_then_interrupt(current_task()));
    co_await sleep(10);
}

TEST(RunnerConformanceSigint, CtrlCAfterTheMainTaskWasCancelledGivesCancelledErrorNotKeyboardInterrupt) {
    // test_interrupt_cancelled_task: Ctrl-C did not end the task, another
    // cancel did: run() raises CancelledError (and the process survives).
    ASSERT_TRUE(sigint_is_default());
    Runner runner;
    EXPECT_THROW(runner.run(get_cancelled_by_a_subtask()), CancelledError);
    runner.close();
    EXPECT_TRUE(sigint_is_default());
}

Coro<int> forty_two() {
    co_await sleep(0);
    co_return 42;
}

TEST(RunnerConformanceSigint, RunWorksWhenItCannotInstallItsCtrlCHandler) {
    // test_signal_install_not_supported_ok: another loop owns the process's
    // signals, so the Runner cannot take SIGINT; run() still works.
    EventLoop owner;
    owner.add_signal_handler(SIGUSR1, [] {});
    Runner runner;
    EXPECT_EQ(runner.run(forty_two()), 42);
    runner.close();
    owner.remove_signal_handler(SIGUSR1);
    owner.close();
    EXPECT_TRUE(sigint_is_default());
}

}  // namespace

}  // namespace task_runner_conformance_test
