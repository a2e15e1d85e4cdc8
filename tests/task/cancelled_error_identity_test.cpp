// A task whose coroutine raised CancelledError hands that very object to
// every reader (asyncio keeps it as the task's _cancelled_exc), as a stored
// exception is: each `co_await`, result() and exception() rethrows the same
// object, and gather passes it on.
#include <tulip/task/task.hpp>

#include <exception>
#include <string>
#include <vector>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_cancelled_error_identity_test {

using namespace tulip;

namespace {

class CancelledErrorIdentity : public test::LoopTest {};

Coro<int> raise_cancelled(std::string msg) {
    co_await sleep(0.1);
    throw CancelledError(msg);
}

// The object a read of t raises (null if it raised nothing or something else).
Coro<std::exception_ptr> caught_by_await(Task<int> t) {
    try {
        (void)co_await t;
    } catch (const CancelledError&) {
        co_return std::current_exception();
    }
    co_return nullptr;
}

TEST_F(CancelledErrorIdentity, ATaskThatRaisedCancelledErrorGivesEveryAwaiterThatSameObject) {
    auto main = [&]() -> Coro<void> {
        auto t = create_task(raise_cancelled("stop here"));
        std::vector<Task<std::exception_ptr>> awaiters;
        for (int i = 0; i < 3; ++i) awaiters.push_back(create_task(caught_by_await(t)));
        std::vector<std::exception_ptr> seen;
        for (auto& a : awaiters) seen.push_back(co_await a);
        EXPECT_TRUE(t.cancelled());
        CO_ASSERT(seen[0] != nullptr);
        EXPECT_TRUE(seen[1] == seen[0]);
        EXPECT_TRUE(seen[2] == seen[0]);
        // result() and exception() raise it too.
        std::exception_ptr from_result, from_exception;
        try {
            (void)t.result();
        } catch (const CancelledError&) {
            from_result = std::current_exception();
        }
        try {
            (void)t.exception();
        } catch (const CancelledError&) {
            from_exception = std::current_exception();
        }
        EXPECT_TRUE(from_result == seen[0]);
        EXPECT_TRUE(from_exception == seen[0]);
        try {
            std::rethrow_exception(seen[0]);
        } catch (const CancelledError& e) {
            EXPECT_EQ(e.message(), "stop here");
        }
    };
    run(main());
}

TEST_F(CancelledErrorIdentity, GatherRaisesTheChildsOwnCancelledError) {
    auto main = [&]() -> Coro<void> {
        auto t = create_task(raise_cancelled("child"));
        std::exception_ptr direct = co_await caught_by_await(t);
        std::exception_ptr via_gather;
        try {
            (void)co_await gather(t);
        } catch (const CancelledError&) {
            via_gather = std::current_exception();
        }
        CO_ASSERT(direct != nullptr);
        EXPECT_TRUE(via_gather == direct);
        auto outcomes = co_await gather(return_exceptions, t);
        EXPECT_TRUE(std::get<0>(outcomes).error() == direct);
    };
    run(main());
}

TEST_F(CancelledErrorIdentity, AFutureCancelledByCancelStillRaisesItsMessage) {
    auto main = [&]() -> Coro<void> {
        auto f = loop().create_future<int>();
        f.cancel("by hand");
        try {
            (void)f.result();
            ADD_FAILURE() << "result() of a cancelled future did not raise";
        } catch (const CancelledError& e) {
            EXPECT_EQ(e.message(), "by hand");
        }
        co_return;
    };
    run(main());
}

}  // namespace

}  // namespace task_cancelled_error_identity_test
