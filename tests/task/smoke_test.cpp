#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

using namespace tulip;
using namespace std::chrono_literals;

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
