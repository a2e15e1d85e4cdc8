// The fail-count sweep and the other fault modes of tests/support/fail_count.hpp
// over the loop's own machinery: signal handlers (the self-pipe: pipe2, its
// read) and the default executor (the wake-up eventfd's read).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <tulip/tulip.hpp>

#include "support/fail_count.hpp"
#include "support/loop_test.hpp"

namespace loop_fail_count_test {

using namespace tulip;

namespace {

class FailCount : public test::fail_count::FailCountTest {};

// Three SIGUSR1s, each raised once the previous one was handled; the handler
// is removed however the run ends.
TEST_F(FailCount, SignalHandlerSeesEachRaise) {
    sweep({[](bool& corrupt) -> Coro<void> {
        EventLoop& loop = get_running_loop();
        int seen = 0;
        Event arrived;
        loop.add_signal_handler(SIGUSR1, [&] {
            ++seen;
            arrived.set();
        });
        struct Remove {
            EventLoop& loop;
            ~Remove() { loop.remove_signal_handler(SIGUSR1); }
        } remove{loop};
        for (int i = 1; i <= 3; ++i) {
            arrived.clear();
            ::kill(::getpid(), SIGUSR1);
            co_await arrived.wait();
            if (seen != i) corrupt = true;
        }
    }});
}

// run_in_executor and to_thread, three of each: the results come back through
// call_soon_threadsafe (the loop's eventfd).
TEST_F(FailCount, ExecutorRunInExecutorAndToThread) {
    sweep({[](bool& corrupt) -> Coro<void> {
        EventLoop& loop = get_running_loop();
        for (int i = 0; i < 3; ++i) {
            // Each job takes a millisecond, so that the loop waits for it in
            // the poller (a result already back when the loop looks makes no
            // call through the seam).
            int a = co_await loop.run_in_executor(nullptr, [i] {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                return i * 2;
            });
            int b = co_await to_thread([i] {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                return i * 3;
            });
            if (a != i * 2 || b != i * 3) corrupt = true;
        }
    }});
}

// add_signal_handler took the handler's node, then allocated (the self-pipe's
// reader, the handler table): a bad_alloc there leaked the node and what its
// callable holds, and left the pipe or the process-wide signal ownership
// behind. Now every allocation it makes is failed in turn: each failure
// releases the callable, and the next add_signal_handler, on another loop,
// works and sees the signal.
TEST(FailCountFindings, AnAddSignalHandlerThatRunsOutOfMemoryLeavesNothingBehind) {
    using test::fail_count::alloc_fault;
    using test::fail_count::AllocFault;
    int failures = 0;
    for (long k = 1; k <= 8; ++k) {
        auto loop = new_event_loop();
        auto held = std::make_shared<int>(0);
        bool threw = false;
        alloc_fault = AllocFault{true, 0, k, false};
        try {
            loop->add_signal_handler(SIGUSR1, [held] { ++*held; });
        } catch (const std::bad_alloc&) {
            threw = true;
        }
        alloc_fault = AllocFault{};
        if (threw) {
            ++failures;
            EXPECT_EQ(held.use_count(), 1) << "k=" << k << ": the failed handler's callable was kept";
            EXPECT_FALSE(loop->remove_signal_handler(SIGUSR1)) << "k=" << k;
        } else {
            loop->remove_signal_handler(SIGUSR1);
        }
        loop->close();
        // Another loop may now own the process's signals, and its handler runs.
        auto other = new_event_loop();
        int seen = 0;
        other->add_signal_handler(SIGUSR1, [&seen] { ++seen; });
        ::kill(::getpid(), SIGUSR1);
        for (int i = 0; i < 100 && seen == 0; ++i) other->run_until_complete(sleep(0.001));
        EXPECT_EQ(seen, 1) << "k=" << k;
        other->remove_signal_handler(SIGUSR1);
        other->close();
    }
#if defined(__SANITIZE_ADDRESS__)
    EXPECT_GE(failures, 2) << "the hook reached too few of add_signal_handler's allocations";
#endif
}

}  // namespace

}  // namespace loop_fail_count_test

// The enomem mode's allocator hook, for the whole loop_tests binary (it
// counts only while a sweep runs a scenario).
TULIP_FAIL_COUNT_ALLOC_HOOK();
