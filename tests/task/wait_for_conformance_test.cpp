// wait_for cases of CPython's Lib/test/test_asyncio/test_waitfor.py that
// wait_for_test.cpp does not cover.
#include <tulip/task/wait_for.hpp>

#include <vector>

#include <tulip/task/wait.hpp>

#include "support/loop_test.hpp"

namespace task_wait_for_conformance_test {

using namespace tulip;

namespace {

class WaitForConformance : public test::LoopTest {};

// Runs for `duration` of loop time, ignoring every cancel request
// (test_waitfor's SlowTask).
Coro<void> slow_task(double duration, bool* exited) {
    double exit_at = get_running_loop().time() + duration;
    for (;;) {
        double left = exit_at - get_running_loop().time();
        if (left <= 0) break;
        try {
            co_await sleep(left);
        } catch (const CancelledError&) {}
    }
    *exited = true;
}

TEST_F(WaitForConformance, CancellingTheWaiterWaitsForAnInnerTaskThatIgnoresCancellation) {
    // test_asyncio_wait_for_cancelled.
    auto main = [&]() -> Coro<void> {
        bool exited = false;
        auto waiting = create_task(wait_for(slow_task(0.2, &exited), Seconds(0.4)));
        co_await sleep(0);
        waiting.cancel();
        std::vector<Task<void>> one{waiting};
        (void)co_await wait(one);
        EXPECT_TRUE(exited);
        EXPECT_DOUBLE_EQ(loop().time(), 0.2);
        if (!waiting.cancelled()) (void)waiting.exception();
    };
    run(main());
}

}  // namespace

}  // namespace task_wait_for_conformance_test
