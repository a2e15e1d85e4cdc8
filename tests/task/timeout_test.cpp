// Tests of timeout and timeout_at (asyncio.timeout, asyncio.timeout_at,
// asyncio.Timeout), ported from CPython's Lib/test/test_asyncio/test_timeouts.py.
//
// asyncio's `async with timeout(d) as cm:` is `co_await timeout(d, body)`
// here, the body getting the Timeout; what the Python tests check on `cm`
// after the block is recorded by the body while the scope is alive.
#include <tulip/task/timeout.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_timeout_test {

using namespace tulip;
using namespace std::chrono_literals;
using test::times_out;

namespace {

class TimeoutTest : public test::LoopTest {};

// Where a body tells the test what it saw of its scope.
struct Seen {
    bool cancelled = false;      // the body saw CancelledError
    bool expired = false;        // t.expired() when it did
    std::optional<double> when;  // t.when()
    Timeout* scope = nullptr;    // valid only while the scope is active
};

Coro<void> nap(double delay) { co_await sleep(delay); }

Coro<void> sleep_recording(Timeout& t, double delay, Seen* seen) {
    seen->when = t.when();
    try {
        co_await sleep(delay);
    } catch (const CancelledError&) {
        seen->cancelled = true;
        seen->expired = t.expired();
        throw;
    }
    seen->expired = t.expired();
}

// Runs a 50 s sleep inside timeout_at(deadline), publishing the scope through
// `ready` so that another task can reschedule it.
Coro<void> sleep_in_rescheduled_scope(double deadline, Future<void> ready, Seen* seen) {
    // GCC 12.2: a lambda with a non-trivial capture (the Future), passed as a
    // temporary to a coroutine inside co_await, is destroyed twice: name it first.
    auto body = [ready, seen](Timeout& t) -> Coro<void> {
        seen->scope = &t;
        ready.set_result();
        return sleep_recording(t, 50, seen);
    };
    co_await timeout_at(deadline, std::move(body));
}

Coro<void> time_out_quietly(bool* timed_out) {
    try {
        co_await timeout(1ms, [](Timeout&) -> Coro<void> { return nap(10); });
    } catch (const TimeoutError&) {
        *timed_out = true;
    }
}

Coro<void> sleep_in_scope(std::optional<Seconds> delay, double duration) {
    co_await timeout(delay, [duration](Timeout&) -> Coro<void> { return nap(duration); });
}

TEST_F(TimeoutTest, ExpiryCancelsTheBodyAndRaisesTimeoutError) {
    auto main = [&]() -> Coro<void> {
        Seen seen;
        auto body = [&](Timeout& t) { return sleep_recording(t, 10, &seen); };
        bool timed_out = co_await times_out(timeout(10ms, body));
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(seen.cancelled);
        EXPECT_TRUE(seen.expired);
        EXPECT_DOUBLE_EQ(loop().time(), 0.01);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, TimeoutAtTakesAnAbsoluteDeadline) {
    auto main = [&]() -> Coro<void> {
        co_await sleep(5);
        double deadline = loop().time() + 0.01;
        Seen seen;
        auto body = [&](Timeout& t) { return sleep_recording(t, 10, &seen); };
        bool timed_out = co_await times_out(timeout_at(deadline, body));
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(seen.expired);
        EXPECT_EQ(seen.when, deadline);
        EXPECT_DOUBLE_EQ(loop().time(), 5.01);
    };
    run(main());
}

TEST_F(TimeoutTest, ABodyThatFinishesInTimeGivesItsValueAndDoesNotExpire) {
    auto main = [&]() -> Coro<void> {
        Seen seen;
        int v = co_await timeout(10s, [&](Timeout& t) -> Coro<int> {
            co_await sleep_recording(t, 0.01, &seen);
            co_return 5;
        });
        EXPECT_EQ(v, 5);
        EXPECT_FALSE(seen.cancelled);
        EXPECT_FALSE(seen.expired);
        CO_ASSERT(seen.when.has_value());
        EXPECT_GT(*seen.when, loop().time());
        // The unfired deadline must not cancel the task later.
        co_await sleep(20);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, NoDeadlineNeverExpires) {
    auto main = [&]() -> Coro<void> {
        Seen relative, absolute;
        co_await timeout(std::nullopt, [&](Timeout& t) { return sleep_recording(t, 1000, &relative); });
        co_await timeout_at(std::nullopt, [&](Timeout& t) { return sleep_recording(t, 1000, &absolute); });
        EXPECT_FALSE(relative.expired);
        EXPECT_FALSE(relative.when.has_value());
        EXPECT_FALSE(absolute.expired);
        EXPECT_FALSE(absolute.when.has_value());
        EXPECT_DOUBLE_EQ(loop().time(), 2000.0);
    };
    run(main());
}

TEST_F(TimeoutTest, ZeroDelayExpiresAtTheFirstAwaitWithoutTimePassing) {
    auto main = [&]() -> Coro<void> {
        for (double body_sleep : {10.0, 0.0}) {
            SCOPED_TRACE(body_sleep);
            double t0 = loop().time();
            Seen seen;
            auto body = [&](Timeout& t) { return sleep_recording(t, body_sleep, &seen); };
            bool timed_out = co_await times_out(timeout(0s, body));
            double t1 = loop().time();
            EXPECT_TRUE(timed_out);
            EXPECT_TRUE(seen.expired);
            CO_ASSERT(seen.when.has_value());
            EXPECT_LE(t0, *seen.when);
            EXPECT_LE(*seen.when, t1);
            EXPECT_DOUBLE_EQ(t1, t0);
        }
    };
    run(main());
}

TEST_F(TimeoutTest, ADeadlineInThePastExpiresAtTheFirstAwait) {
    auto main = [&]() -> Coro<void> {
        co_await sleep(20);
        double t0 = loop().time();
        Seen seen;
        auto body = [&](Timeout& t) { return sleep_recording(t, 0, &seen); };
        bool timed_out = co_await times_out(timeout(-11s, body));
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(seen.expired);
        CO_ASSERT(seen.when.has_value());
        EXPECT_DOUBLE_EQ(*seen.when, t0 - 11);
        EXPECT_DOUBLE_EQ(loop().time(), t0);
    };
    run(main());
}

TEST_F(TimeoutTest, NestedScopesWithOneDeadlineRaiseTimeoutErrorOnlyFromTheOuter) {
    auto main = [&]() -> Coro<void> {
        double deadline = loop().time() + 0.01;
        Seen inner;
        bool outer_expired = false;
        bool inner_raised_cancelled = false;
        bool timed_out = false;
        try {
            co_await timeout_at(deadline, [&](Timeout& outer) -> Coro<void> {
                try {
                    co_await timeout_at(deadline, [&](Timeout& t) { return sleep_recording(t, 10, &inner); });
                } catch (const CancelledError&) {
                    inner_raised_cancelled = true;
                    outer_expired = outer.expired();
                    throw;
                }
            });
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(inner_raised_cancelled);
        EXPECT_TRUE(inner.expired);
        EXPECT_TRUE(outer_expired);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, AnInnerScopeExpiringLeavesTheOuterScopeRunning) {
    auto main = [&]() -> Coro<void> {
        bool inner_timed_out = false;
        Seen outer_seen;
        co_await timeout(10s, [&](Timeout& outer) -> Coro<void> {
            try {
                co_await sleep_in_scope(Seconds(0.5), 5);
            } catch (const TimeoutError&) {
                inner_timed_out = true;
            }
            co_await sleep_recording(outer, 1, &outer_seen);
        });
        EXPECT_TRUE(inner_timed_out);
        EXPECT_FALSE(outer_seen.cancelled);
        EXPECT_FALSE(outer_seen.expired);
        EXPECT_DOUBLE_EQ(loop().time(), 1.5);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, AnOuterScopeExpiringCancelsThroughAnActiveInnerScope) {
    // test_nested_timeouts_loop_busy: the inner scope expires first and is
    // handled; the outer one then interrupts the next sleep.
    auto main = [&]() -> Coro<void> {
        bool inner_timed_out = false;
        bool inner_second_saw_cancel = false;
        bool timed_out = false;
        try {
            co_await timeout(100ms, [&](Timeout&) -> Coro<void> {
                try {
                    co_await sleep_in_scope(Seconds(0.01), 1);
                } catch (const TimeoutError&) {
                    inner_timed_out = true;
                }
                try {
                    co_await sleep_in_scope(Seconds(5), 10);  // the outer deadline comes first
                } catch (const CancelledError&) {
                    inner_second_saw_cancel = true;
                    throw;
                }
            });
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(inner_timed_out);
        EXPECT_TRUE(inner_second_saw_cancel);
        EXPECT_TRUE(timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, ATimeoutInsideCleanupAfterExpiryWorksAndTheOuterStillRaises) {
    // test_nested_timeout_in_finally.
    auto main = [&]() -> Coro<void> {
        bool inner_timed_out = false;
        bool timed_out = false;
        try {
            co_await timeout(10ms, [&](Timeout&) -> Coro<void> {
                bool cancelled = false;
                try {
                    co_await sleep(1);
                } catch (const CancelledError&) {
                    cancelled = true;
                }
                // The cleanup (asyncio's `finally:`) runs its own timeout.
                try {
                    co_await sleep_in_scope(Seconds(0.01), 10);
                } catch (const TimeoutError&) {
                    inner_timed_out = true;
                }
                if (cancelled) throw CancelledError();
            });
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(inner_timed_out);
        EXPECT_TRUE(timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), 0.02);
    };
    run(main());
}

TEST_F(TimeoutTest, TheBodysCleanupIsAwaitedBeforeTimeoutErrorIsRaised) {
    auto main = [&]() -> Coro<void> {
        bool cleaned_up = false;
        bool timed_out = false;
        try {
            co_await timeout(10ms, [&](Timeout&) -> Coro<void> {
                bool cancelled = false;
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    cancelled = true;
                }
                co_await sleep(0.5);
                cleaned_up = true;
                if (cancelled) throw CancelledError();
            });
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(cleaned_up);
        EXPECT_DOUBLE_EQ(loop().time(), 0.51);
    };
    run(main());
}

TEST_F(TimeoutTest, AForeignExceptionPassesThroughUntouched) {
    auto main = [&]() -> Coro<void> {
        bool expired = true;
        bool raised = false;
        try {
            co_await timeout(10ms, [&](Timeout& t) -> Coro<void> {
                expired = t.expired();
                throw std::out_of_range("key");
                co_return;
            });
        } catch (const std::out_of_range&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_FALSE(expired);
        co_await sleep(1);  // the disarmed deadline does not fire later
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, AnErrorRaisedWhileHandlingTheExpiryReplacesTimeoutError) {
    auto main = [&]() -> Coro<void> {
        bool raised = false;
        try {
            co_await timeout(10ms, [&](Timeout&) -> Coro<void> {
                try {
                    co_await sleep(1);
                } catch (const CancelledError&) {}
                throw std::domain_error("crash in cleanup");
            });
        } catch (const std::domain_error&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, ACancelFromElsewhereIsNotTurnedIntoTimeoutError) {
    // test_foreign_cancel_doesnt_timeout_if_not_expired.
    auto main = [&]() -> Coro<void> {
        Seen seen;
        bool cancelled = false;
        try {
            co_await timeout(10s, [&](Timeout& t) {
                current_task().cancel();
                return sleep_recording(t, 10, &seen);
            });
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(seen.cancelled);
        EXPECT_FALSE(seen.expired);
        EXPECT_EQ(current_task().uncancel(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, ACancelFromElsewhereInTheIterationOfTheDeadlineStaysACancellation) {
    // Both the deadline and another task cancel the body: the other request
    // is still pending, so CancelledError propagates instead of TimeoutError.
    auto main = [&]() -> Coro<void> {
        auto task = create_task(sleep_in_scope(Seconds(1), 10));
        loop().call_later(1.0, [task] { task.cancel(); });  // scheduled after the scope's deadline
        bool cancelled = false;
        try {
            co_await task;
        } catch (const CancelledError&) {
            cancelled = true;
        } catch (const TimeoutError&) {
            ADD_FAILURE() << "an outside cancellation was turned into TimeoutError";
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(task.cancelled());
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
    };
    run(main());
}

TEST_F(TimeoutTest, TheTaskIsNotLeftCancelledAfterATimeout) {
    // test_outer_task_is_not_cancelled.
    auto main = [&]() -> Coro<void> {
        bool timed_out = false;
        auto task = create_task(time_out_quietly(&timed_out));
        co_await task;
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(task.done());
        EXPECT_FALSE(task.cancelled());
        EXPECT_EQ(task.cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, RescheduleMovesTheDeadlineOrRemovesIt) {
    // test_reschedule: another task moves the deadline of an active scope.
    auto main = [&]() -> Coro<void> {
        auto ready = loop().create_future<void>();
        double deadline1 = loop().time() + 10;
        double deadline2 = deadline1 + 20;
        Seen seen;
        auto task = create_task(sleep_in_rescheduled_scope(deadline1, ready, &seen));
        co_await ready;
        Timeout& cm = *seen.scope;
        EXPECT_EQ(cm.when(), deadline1);
        cm.reschedule(deadline2);
        EXPECT_EQ(cm.when(), deadline2);
        cm.reschedule(std::nullopt);
        EXPECT_FALSE(cm.when().has_value());
        co_await sleep(40);  // past both deadlines: nothing fires
        EXPECT_FALSE(task.done());
        task.cancel();
        bool cancelled = false;
        try {
            co_await task;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(seen.cancelled);
        EXPECT_FALSE(seen.expired);
    };
    run(main());
}

TEST_F(TimeoutTest, RescheduleToAnEarlierDeadlineExpiresThen) {
    auto main = [&]() -> Coro<void> {
        bool timed_out = false;
        try {
            co_await timeout(100s, [&](Timeout& t) -> Coro<void> {
                t.reschedule(loop().time() + 0.5);
                co_await sleep(10);
            });
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_DOUBLE_EQ(loop().time(), 0.5);
    };
    run(main());
}

TEST_F(TimeoutTest, RescheduleCanExtendTheDeadline) {
    auto main = [&]() -> Coro<void> {
        Seen seen;
        co_await timeout(1s, [&](Timeout& t) -> Coro<void> {
            co_await sleep(0.5);
            t.reschedule(*t.when() + 2);
            co_await sleep_recording(t, 2, &seen);
        });
        EXPECT_FALSE(seen.cancelled);
        EXPECT_FALSE(seen.expired);
        EXPECT_DOUBLE_EQ(loop().time(), 2.5);
    };
    run(main());
}

TEST_F(TimeoutTest, RescheduleOutsideAnActiveScopeIsAnError) {
    auto main = [&]() -> Coro<void> {
        Timeout fresh(loop().time() + 1);
        try {
            fresh.reschedule(loop().time() + 2);
            ADD_FAILURE() << "reschedule() before enter() did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("has not been entered"), std::string::npos) << e.what();
        }

        Timeout finished(loop().time() + 1);
        finished.enter();
        try {
            finished.enter();
            ADD_FAILURE() << "a second enter() did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("has already been entered"), std::string::npos) << e.what();
        }
        EXPECT_FALSE(finished.exit(false));
        try {
            finished.reschedule(loop().time() + 2);
            ADD_FAILURE() << "reschedule() after exit() did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("finished"), std::string::npos) << e.what();
        }
        co_await sleep(2);  // the first deadline of `finished` must not fire
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TimeoutTest, EnteringOutsideATaskIsAnError) {
    Timeout t(1.0);
    try {
        t.enter();
        ADD_FAILURE() << "enter() outside a task did not throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("task"), std::string::npos) << e.what();
    }
    EXPECT_THROW(t.reschedule(2.0), std::runtime_error);
}

TEST_F(TimeoutTest, ATimeoutAfterACaughtCancellationStillRaisesTimeoutError) {
    // test_timeout_after_cancellation: the task's cancelling() is already 1.
    auto main = [&]() -> Coro<void> {
        try {
            current_task().cancel();
            co_await sleep(1);
        } catch (const CancelledError&) {}
        EXPECT_EQ(current_task().cancelling(), 1u);
        bool timed_out = co_await times_out(sleep_in_scope(Seconds(0), 1));
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(current_task().cancelling(), 1u);
        current_task().uncancel();
    };
    run(main());
}

TEST_F(TimeoutTest, ACancelInsideATimeoutAfterACaughtCancellationPropagates) {
    // test_cancel_in_timeout_after_cancellation.
    auto main = [&]() -> Coro<void> {
        try {
            current_task().cancel();
            co_await sleep(1);
        } catch (const CancelledError&) {}
        bool cancelled = false;
        try {
            co_await timeout(1s, [](Timeout&) -> Coro<void> {
                current_task().cancel();
                return nap(2);
            });
        } catch (const CancelledError&) {
            cancelled = true;
        } catch (const TimeoutError&) {
            ADD_FAILURE() << "the second cancel() was turned into TimeoutError";
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(current_task().cancelling(), 2u);
        current_task().uncancel();
        current_task().uncancel();
    };
    run(main());
}

}  // namespace

}  // namespace task_timeout_test
