#include <tulip/loop/event_loop.hpp>

#include <signal.h>
#include <unistd.h>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

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
    EXPECT_THROW(loop().add_signal_handler(SIGKILL, [] {}), std::invalid_argument);
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
