#include <tulip/loop/event_loop.hpp>

#include <signal.h>
#include <unistd.h>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace loop_signals_test {

using namespace tulip;

class Signals : public test::RealTimeLoopTest {};

TEST_F(Signals, HandlerRunsOnTheLoopWhenTheSignalArrives) {
    int calls = 0;
    loop().add_signal_handler(SIGUSR1, [&] {
        ++calls;
        loop().stop();
    });
    loop().call_soon([] { ::kill(::getpid(), SIGUSR1); });
    loop().run_forever();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(loop().remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(loop().remove_signal_handler(SIGUSR1));
}

TEST_F(Signals, UncatchableSignalsAreRefusedWithAClearError) {
    EXPECT_THROW(loop().add_signal_handler(SIGKILL, [] {}), std::runtime_error);  // asyncio: RuntimeError
    EXPECT_THROW(loop().add_signal_handler(0, [] {}), std::invalid_argument);
    EXPECT_THROW(loop().add_signal_handler(100000, [] {}), std::invalid_argument);
}

TEST_F(Signals, SignalSentFromAnotherThreadReachesTheLoop) {
    int calls = 0;
    loop().add_signal_handler(SIGUSR2, [&] {
        ++calls;
        loop().stop();
    });
    std::thread t([] { ::kill(::getpid(), SIGUSR2); });
    loop().run_forever();
    t.join();
    EXPECT_EQ(calls, 1);
    loop().remove_signal_handler(SIGUSR2);
}

Coro<int> wait_forever() {
    co_await sleep(3600);
    co_return 1;
}

TEST(RunnerSigint, FirstCtrlCCancelsTheMainTaskAndRunRaisesKeyboardInterrupt) {
    Runner runner;
    auto main = []() -> Coro<int> {
        get_running_loop().call_later(0.01, [] { ::kill(::getpid(), SIGINT); });
        co_return co_await wait_forever();
    };
    EXPECT_THROW(runner.run(main()), KeyboardInterrupt);
    runner.close();
    struct sigaction sa {};
    ::sigaction(SIGINT, nullptr, &sa);
    EXPECT_EQ(sa.sa_handler, SIG_DFL);  // restored
}

// ---- more of asyncio's test_unix_events signal cases ------------------------------------

namespace {

bool disposition_is_default(int sig) {
    struct sigaction sa {};
    ::sigaction(sig, nullptr, &sa);
    return sa.sa_handler == SIG_DFL;
}

}  // namespace

class MoreSignals : public test::RealTimeLoopTest {
protected:
    // Runs the loop until pred() holds; a timer keeps a lost signal from hanging the test.
    template <class P>
    void run_until_true(P pred) {
        auto guard = loop().call_later(test::kLoopbackTimeout, [] {});
        run_until(pred, 1000);
        guard.cancel();
    }
};

TEST_F(MoreSignals, ASecondHandlerForTheSameSignalReplacesTheFirst) {
    int first = 0, second = 0;
    loop().add_signal_handler(SIGUSR1, [&] { ++first; });
    loop().add_signal_handler(SIGUSR1, [&] { ++second; });
    ::raise(SIGUSR1);
    run_until_true([&] { return second == 1; });
    EXPECT_EQ(first, 0);
    EXPECT_TRUE(loop().remove_signal_handler(SIGUSR1));
}

TEST_F(MoreSignals, EachSignalReachesItsOwnHandler) {
    std::vector<int> seen;
    loop().add_signal_handler(SIGUSR1, [&] { seen.push_back(SIGUSR1); });
    loop().add_signal_handler(SIGUSR2, [&] { seen.push_back(SIGUSR2); });
    ::raise(SIGUSR2);
    run_until_true([&] { return seen.size() == 1; });
    ::raise(SIGUSR1);
    run_until_true([&] { return seen.size() == 2; });
    EXPECT_EQ(seen, (std::vector<int>{SIGUSR2, SIGUSR1}));
    loop().remove_signal_handler(SIGUSR1);
    loop().remove_signal_handler(SIGUSR2);
}

TEST_F(MoreSignals, TheHandlerRunsEveryTimeTheSignalArrives) {
    int calls = 0;
    loop().add_signal_handler(SIGUSR1, [&] {
        if (++calls < 5) ::raise(SIGUSR1);  // the next one arrives while we are on the loop
    });
    ::raise(SIGUSR1);
    run_until_true([&] { return calls == 5; });
    for (int i = 0; i < 5; ++i) run_briefly();
    EXPECT_EQ(calls, 5);
    loop().remove_signal_handler(SIGUSR1);
}

TEST_F(MoreSignals, AHandlerMayRemoveItselfWhileItRuns) {
    int calls = 0;
    bool removed = false;
    loop().add_signal_handler(SIGUSR1, [&] {
        ++calls;
        removed = loop().remove_signal_handler(SIGUSR1);
    });
    ::raise(SIGUSR1);
    run_until_true([&] { return calls == 1; });
    EXPECT_TRUE(removed);
    EXPECT_TRUE(disposition_is_default(SIGUSR1));
    EXPECT_FALSE(loop().remove_signal_handler(SIGUSR1));
}

TEST_F(MoreSignals, InstallingAndRemovingAHandlerSetsAndRestoresTheDisposition) {
    ASSERT_TRUE(disposition_is_default(SIGUSR2));
    loop().add_signal_handler(SIGUSR2, [] {});
    EXPECT_FALSE(disposition_is_default(SIGUSR2));
    EXPECT_TRUE(loop().remove_signal_handler(SIGUSR2));
    EXPECT_TRUE(disposition_is_default(SIGUSR2));
}

TEST_F(MoreSignals, RemoveSignalHandlerRejectsAnInvalidSignalAndReportsAMissingOne) {
    EXPECT_THROW(loop().remove_signal_handler(0), std::invalid_argument);
    EXPECT_THROW(loop().remove_signal_handler(100000), std::invalid_argument);
    EXPECT_FALSE(loop().remove_signal_handler(SIGUSR1));
}

TEST_F(MoreSignals, AHandlerThatThrowsIsReportedAndTheLoopGoesOn) {
    expect_handler_calls = true;
    int calls = 0;
    loop().add_signal_handler(SIGUSR1, [&] {
        ++calls;
        throw std::runtime_error("handler failed");
    });
    ::raise(SIGUSR1);
    run_until_true([&] { return calls == 1; });
    ::raise(SIGUSR1);  // still installed and still working
    run_until_true([&] { return calls == 2; });
    EXPECT_EQ(handler_calls.size(), 2u);
    if (!handler_calls.empty()) {
        EXPECT_NE(describe_exception(handler_calls[0].exception).find("handler failed"), std::string::npos);
    }
    loop().remove_signal_handler(SIGUSR1);
}

TEST_F(MoreSignals, OnlyOneLoopAtATimeOwnsTheSignals) {
    loop().add_signal_handler(SIGUSR1, [] {});
    {
        EventLoop other;
        EXPECT_THROW(other.add_signal_handler(SIGUSR2, [] {}), std::runtime_error);
        loop().remove_signal_handler(SIGUSR1);  // the last one: ownership is released
        int calls = 0;
        other.add_signal_handler(SIGUSR2, [&] {
            ++calls;
            other.stop();
        });
        auto guard = other.call_later(test::kLoopbackTimeout, [&] { other.stop(); });
        other.call_soon([] { ::raise(SIGUSR2); });
        other.run_forever();
        guard.cancel();
        EXPECT_EQ(calls, 1);
        other.close();  // closing removes its handlers
    }
    EXPECT_TRUE(disposition_is_default(SIGUSR2));
    loop().add_signal_handler(SIGUSR2, [] {});  // ours again
    loop().remove_signal_handler(SIGUSR2);
}

TEST_F(MoreSignals, AClosedLoopRefusesNewHandlers) {
    EventLoop other;
    other.close();
    EXPECT_THROW(other.add_signal_handler(SIGUSR1, [] {}), std::runtime_error);
    EXPECT_TRUE(disposition_is_default(SIGUSR1));
}

Coro<int> wait_for_signal(Event& ev, int& order) {
    co_await ev.wait();
    co_return ++order;
}

TEST_F(MoreSignals, ASignalSentFromAThreadCanWakeACoroutine) {
    Event ev;
    int order = 0;
    loop().add_signal_handler(SIGUSR2, [&] { ev.set(); });
    auto t = loop().create_task(wait_for_signal(ev, order));
    run_briefly();
    EXPECT_FALSE(t.done());
    std::thread sender([] { ::kill(::getpid(), SIGUSR2); });
    EXPECT_EQ(run(wait_for(t, test::kLoopbackTimeout)), 1);
    sender.join();
    loop().remove_signal_handler(SIGUSR2);
}

Coro<int> child_killed_by_usr1() {
    // The child raises SIGUSR1 at itself: with our handler inherited it would
    // survive; with the default disposition it dies of it.
    auto p = co_await create_subprocess_shell("kill -USR1 $$; echo survived");
    co_return co_await p.wait();
}

TEST_F(MoreSignals, ChildProcessesDoNotInheritTheLoopsHandlers) {
    int calls = 0;
    loop().add_signal_handler(SIGUSR1, [&] { ++calls; });
    EXPECT_EQ(run(wait_for(child_killed_by_usr1(), test::kLoopbackTimeout)), -SIGUSR1);
    EXPECT_EQ(calls, 0);
    loop().remove_signal_handler(SIGUSR1);
}

// ---- issue 8 (9): a signal that arrives again while its handler is queued ---------------

namespace {
Coro<int> count_steps(int& steps, int n) {
    for (int i = 0; i < n; ++i) {
        ++steps;
        co_await sleep(0);
    }
    co_return n;
}
}  // namespace

// The three arrivals are read in one go and each schedules the handler: the
// same node must not be queued twice (it relinked the ready queue, dropped the
// callbacks and task steps queued behind it, and the loop crashed on null).
TEST_F(MoreSignals, TheSameSignalTwiceBeforeTheLoopReadsRunsTheHandlerOncePerArrivalInOrder) {
    std::vector<std::string> seen;
    loop().add_signal_handler(SIGUSR1, [&] { seen.push_back("usr1"); });
    loop().add_signal_handler(SIGUSR2, [&] { seen.push_back("usr2"); });
    int steps = 0;
    auto task = loop().create_task(count_steps(steps, 5));
    loop().call_soon([&] {
        ::raise(SIGUSR1);
        ::raise(SIGUSR2);
        ::raise(SIGUSR1);
        loop().call_soon([&] { seen.push_back("after"); });
    });
    run_until_true([&] { return seen.size() == 4 && task.done(); });
    // "after" was queued before the loop read the pipe (at its next iteration).
    EXPECT_EQ(seen, (std::vector<std::string>{"after", "usr1", "usr2", "usr1"}));
    EXPECT_EQ(task.result(), 5);
    EXPECT_EQ(steps, 5);
    loop().remove_signal_handler(SIGUSR1);
    loop().remove_signal_handler(SIGUSR2);
}

TEST_F(MoreSignals, ThreeArrivalsOfOneSignalRunItsHandlerThreeTimesAndLoseNothingQueued) {
    int calls = 0;
    std::vector<int> order;
    loop().add_signal_handler(SIGUSR1, [&] {
        ++calls;
        order.push_back(0);
    });
    loop().call_soon([&] {
        for (int i = 0; i < 3; ++i) ::raise(SIGUSR1);
        for (int i = 1; i <= 3; ++i) loop().call_soon([&order, i] { order.push_back(i); });
    });
    run_until_true([&] { return order.size() == 6; });
    for (int i = 0; i < 3; ++i) run_briefly();
    EXPECT_EQ(calls, 3);
    // The signals are read at the start of the next iteration, after the callbacks
    // queued by the raising callback: they come first (FIFO), then the arrivals.
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 0, 0, 0}));
    loop().remove_signal_handler(SIGUSR1);
}

TEST_F(MoreSignals, RemovingAHandlerDropsItsArrivalsStillQueued) {
    int calls = 0;
    loop().add_signal_handler(SIGUSR1, [&] {
        ++calls;
        loop().remove_signal_handler(SIGUSR1);  // the second arrival is queued already
    });
    loop().call_soon([] {
        ::raise(SIGUSR1);
        ::raise(SIGUSR1);
    });
    run_until_true([&] { return calls >= 1; });
    for (int i = 0; i < 3; ++i) run_briefly();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(disposition_is_default(SIGUSR1));
}

}  // namespace loop_signals_test
