// Timeout's state machine as asyncio's (Lib/asyncio/timeouts.py): created,
// active, expiring (the deadline passed, the body is being cancelled),
// expired, finished. reschedule() outside the active state names the state it
// found; a scope enters once; when() and expired() stay readable afterwards.
#include <tulip/task/timeout.hpp>

#include <stdexcept>
#include <string>

#include "support/loop_test.hpp"

namespace task_timeout_states_test {

using namespace tulip;
using namespace std::chrono_literals;

namespace {

class TimeoutStates : public test::LoopTest {};

std::string reschedule_error(Timeout& t, std::optional<double> when) {
    try {
        t.reschedule(when);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "reschedule() did not throw";
}

TEST_F(TimeoutStates, RescheduleWhileExpiringNamesTheExpiringState) {
    auto main = [&]() -> Coro<void> {
        std::string msg;
        bool timed_out = false;
        try {
            co_await timeout(100ms, [&](Timeout& t) -> Coro<void> {
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    EXPECT_TRUE(t.expired());
                    msg = reschedule_error(t, loop().time() + 5);
                    throw;
                }
            });
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);  // the refused reschedule changed nothing
        EXPECT_EQ(msg, "Cannot change state of expiring Timeout");
    };
    run(main());
}

TEST_F(TimeoutStates, RescheduleAfterExpiryNamesTheExpiredStateAndWhenStaysReadable) {
    auto main = [&]() -> Coro<void> {
        double deadline = loop().time() + 0.1;
        Timeout t(deadline);
        t.enter();
        bool to_timeout = false;
        try {
            co_await sleep(10);
        } catch (const CancelledError&) {
            to_timeout = t.exit(true);
        }
        EXPECT_TRUE(to_timeout);
        EXPECT_TRUE(t.expired());
        EXPECT_EQ(t.when(), std::optional<double>(deadline));
        EXPECT_EQ(reschedule_error(t, loop().time() + 5), "Cannot change state of expired Timeout");
        EXPECT_EQ(reschedule_error(t, std::nullopt), "Cannot change state of expired Timeout");
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutStates, RescheduleAfterANormalExitNamesTheFinishedStateAndEnterIsRefused) {
    auto main = [&]() -> Coro<void> {
        Timeout t(loop().time() + 10);
        t.enter();
        co_await sleep(0);
        EXPECT_FALSE(t.exit(false));
        EXPECT_FALSE(t.expired());
        EXPECT_EQ(reschedule_error(t, loop().time() + 5), "Cannot change state of finished Timeout");
        // test_timeout_double_enter: a finished scope cannot be entered again.
        try {
            t.enter();
            ADD_FAILURE() << "enter() of a finished Timeout did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("has already been entered"), std::string::npos) << e.what();
        }
        co_await sleep(20);  // the old deadline never fires
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutStates, RescheduleToNoneWhileActiveDisarmsAndANewDeadlineRearms) {
    auto main = [&]() -> Coro<void> {
        bool timed_out = false;
        double t0 = loop().time();
        try {
            co_await timeout(1s, [&](Timeout& t) -> Coro<void> {
                t.reschedule(std::nullopt);
                EXPECT_FALSE(t.when().has_value());
                co_await sleep(5);  // past the first deadline: nothing happens
                EXPECT_FALSE(t.expired());
                t.reschedule(loop().time());  // now: expires at the next await
                co_await sleep(5);
            });
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), t0 + 5);
    };
    run(main());
}

TEST_F(TimeoutStates, AnOuterDeadlinePassingInsideAnActiveInnerScopeRaisesTimeoutErrorFromTheOuterOnly) {
    // test_nested_timeouts_concurrent: the inner scope (not expired) lets the
    // cancellation through as CancelledError; the outer turns it into TimeoutError.
    auto main = [&]() -> Coro<void> {
        bool inner_saw_timeout = false;
        bool inner_saw_cancel = false;
        bool outer_timed_out = false;
        try {
            co_await timeout(2ms, [&](Timeout&) -> Coro<void> {
                try {
                    co_await timeout(100ms, [&](Timeout& inner) -> Coro<void> {
                        try {
                            co_await sleep(1);
                        } catch (const CancelledError&) {
                            EXPECT_FALSE(inner.expired());
                            throw;
                        }
                    });
                } catch (const TimeoutError&) {
                    inner_saw_timeout = true;
                } catch (const CancelledError&) {
                    inner_saw_cancel = true;
                    throw;
                }
            });
        } catch (const TimeoutError&) {
            outer_timed_out = true;
        }
        EXPECT_FALSE(inner_saw_timeout);
        EXPECT_TRUE(inner_saw_cancel);
        EXPECT_TRUE(outer_timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), 0.002);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

}  // namespace

}  // namespace task_timeout_states_test
