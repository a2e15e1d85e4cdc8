// asyncio behaviours of subprocesses that tulip used to get wrong (issue 9).
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

using namespace tulip;

class AsyncioSubprocessTest : public test::IoLoopTest {};

TEST_F(AsyncioSubprocessTest, CommunicateReturnsNoneForAStreamThatIsNotPipedAndEmptyForAnEmptyPipe) {
    auto body = []() -> Coro<void> {
        SubprocessOptions o;
        o.stdout_ = PIPE;  // piped, but the child writes nothing to it
        o.stderr_ = DEVNULL;
        auto p = co_await create_subprocess_shell("echo hidden >&2", o);
        EXPECT_FALSE(p.stdin_.has_value());
        EXPECT_TRUE(p.stdout_.has_value());
        EXPECT_FALSE(p.stderr_.has_value());
        auto [out, err] = co_await p.communicate();
        EXPECT_EQ(out, std::optional<std::string>(""));  // empty output
        EXPECT_EQ(err, std::nullopt);                    // not piped (asyncio: None)
    };
    run_io(body());
}

TEST_F(AsyncioSubprocessTest, SubprocessLimitOfZeroOrLessRaisesValueError) {
    auto body = []() -> Coro<void> {
        SubprocessOptions o;
        o.stdout_ = PIPE;
        o.limit = -1;
        std::vector<std::string> no_args;
        EXPECT_THROW(co_await create_subprocess_exec("true", no_args, o), std::invalid_argument);
    };
    run_io(body());
}
