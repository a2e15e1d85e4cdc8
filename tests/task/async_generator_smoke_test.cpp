#include <tulip/task/async_generator.hpp>

#include "support/loop_test.hpp"

namespace task_async_generator_smoke_test {

using namespace tulip;

class AsyncGenSmoke : public test::LoopTest {};

AsyncGenerator<int> ticker(int n, std::vector<std::string>& log) {
    bool closing = false;
    try {
        for (int i = 0; i < n; ++i) {
            co_await sleep(0.1);
            co_yield i;
        }
        log.push_back("exhausted");
    } catch (const GeneratorExit&) {
        closing = true;  // C++ cannot co_await inside a handler
    }
    if (closing) {
        log.push_back("closing");
        co_await sleep(0.1);  // cleanup may await
        log.push_back("closed");
    }
}

TEST_F(AsyncGenSmoke, IteratesAndCollects) {
    std::vector<std::string> log;
    auto v = run(asyncgen::collect(ticker(5, log)));
    EXPECT_EQ(v, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(log, (std::vector<std::string>{"exhausted"}));
}

TEST_F(AsyncGenSmoke, AcloseRunsCleanup) {
    std::vector<std::string> log;
    auto main = [&]() -> Coro<void> {
        auto gen = ticker(5, log);
        auto a = co_await gen.next();
        EXPECT_EQ(*a, 0);
        co_await gen.aclose();
        EXPECT_TRUE(gen.finished());
        auto b = co_await gen.next();
        EXPECT_FALSE(b.has_value());
    };
    run(main());
    EXPECT_EQ(log, (std::vector<std::string>{"closing", "closed"}));
}

TEST_F(AsyncGenSmoke, DroppedGeneratorIsFinalised) {
    std::vector<std::string> log;
    auto main = [&]() -> Coro<void> {
        {
            auto gen = ticker(5, log);
            co_await gen.next();
        }
        co_await sleep(1);
    };
    run(main());
    EXPECT_EQ(log, (std::vector<std::string>{"closing", "closed"}));
}

TEST_F(AsyncGenSmoke, RunFinalisesOpenGenerators) {
    std::vector<std::string> log;
    AsyncGenerator<int> keep;
    auto main = [&]() -> Coro<void> {
        keep = ticker(5, log);
        co_await keep.next();
    };
    RunnerOptions opts;
    opts.virtual_time = true;
    tulip::run(main(), opts);
    EXPECT_EQ(log, (std::vector<std::string>{"closing", "closed"}));
}

}  // namespace task_async_generator_smoke_test
