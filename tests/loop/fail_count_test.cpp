// The fail-count sweep and the other fault modes of tests/support/fail_count.hpp
// over the loop's own machinery: signal handlers (the self-pipe: pipe2, its
// read) and the default executor (the wake-up eventfd's read).
#include <signal.h>
#include <unistd.h>

#include <chrono>
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

}  // namespace

}  // namespace loop_fail_count_test

// The enomem mode's allocator hook, for the whole loop_tests binary (it
// counts only while a sweep runs a scenario).
TULIP_FAIL_COUNT_ALLOC_HOOK();
