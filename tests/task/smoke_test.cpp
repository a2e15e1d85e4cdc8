#include <tulip/tulip.hpp>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_smoke_test {

using namespace tulip;
using namespace std::chrono_literals;
using test::fail_after;

class Smoke : public test::LoopTest {};

Coro<int> add(int a, int b) {
    co_await sleep(1s);
    co_return a + b;
}

TEST_F(Smoke, RunsCoroutine) {
    EXPECT_EQ(run(add(1, 2)), 3);
    EXPECT_DOUBLE_EQ(loop().time(), 1.0);
}

TEST_F(Smoke, CancelsTask) {
    auto main = [&]() -> Coro<void> {
        auto t = create_task(add(1, 2));
        co_await sleep(0);
        t.cancel("bye");
        try {
            co_await t;
            ADD_FAILURE();
        } catch (const CancelledError& e) {
            EXPECT_EQ(e.message(), "bye");
        }
        EXPECT_TRUE(t.cancelled());
    };
    run(main());
}

TEST_F(Smoke, Combinators) {
    auto main = [&]() -> Coro<void> {
        auto [a, b] = co_await gather(add(1, 2), add(3, 4));
        EXPECT_EQ(a + b, 10);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        std::vector<Coro<int>> cs;
        cs.push_back(add(1, 1));
        cs.push_back(add(2, 2));
        auto v = co_await gather(std::move(cs));
        EXPECT_EQ(v.size(), 2u);
        auto [x, y] = co_await gather(return_exceptions, add(1, 2), fail_after(0.5, "boom"));
        EXPECT_EQ(x.value(), 3);
        EXPECT_FALSE(y.has_value());
        try {
            co_await wait_for(add(1, 2), 0.5);
            ADD_FAILURE();
        } catch (const TimeoutError&) {}
        int r = co_await wait_for(add(1, 2), 5.0);
        EXPECT_EQ(r, 3);
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<void> {
                tg.create_task(add(1, 2));
                tg.create_task(fail_after(0.1, "boom"));
                co_await sleep(10);
            });
            ADD_FAILURE();
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(eg.exceptions().size(), 1u);
        }
        auto t1 = create_task(add(1, 2));
        auto t2 = create_task(fail_after(3, "boom"));
        // GCC 12.2: a braced temporary inside co_await fails ("array used as initializer").
        std::vector<Task<int>> both{t1, t2};
        WaitOptions opts{.timeout = std::nullopt, .return_when = FIRST_COMPLETED};
        auto [done, pending] = co_await wait(both, opts);
        EXPECT_EQ(done.size(), 1u);
        EXPECT_EQ(pending.size(), 1u);
        t2.cancel();
        auto s = co_await shield(add(5, 5));
        EXPECT_EQ(s, 10);
        int th = co_await to_thread([](int q) { return q * 2; }, 21);
        EXPECT_EQ(th, 42);
        try {
            co_await t2;
        } catch (const CancelledError&) {}
    };
    run(main());
}

TEST_F(Smoke, SleepAwaitersCanBeGathered) {
    auto main = [&]() -> Coro<void> {
        co_await gather(sleep(0.2), sleep(0.3));
        EXPECT_DOUBLE_EQ(loop().time(), 0.3);
        int v = co_await sleep(0.5, 7);
        EXPECT_EQ(v, 7);
        co_await wait_for(sleep(0.1), 1.0);
    };
    run(main());
}

}  // namespace task_smoke_test
