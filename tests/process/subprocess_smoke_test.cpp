#include <tulip/process/subprocess.hpp>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace process_subprocess_smoke_test {

using namespace tulip;

class SubprocessSmoke : public test::RealTimeLoopTest {};

TEST_F(SubprocessSmoke, CommunicateCollectsOutput) {
    auto main = []() -> Coro<void> {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        o.std_err = PIPE;
        auto p = co_await create_subprocess_shell("cat; echo err >&2; exit 3", o);
        auto [out, err] = co_await p.communicate(std::string("hello"));
        EXPECT_EQ(out, "hello");
        EXPECT_EQ(err, "err\n");
        EXPECT_EQ(p.returncode(), 3);
    };
    run(main());
}

TEST_F(SubprocessSmoke, MissingProgramIsAClearError) {
    auto main = []() -> Coro<void> {
        try {
            co_await create_subprocess_exec("/nonexistent/program-xyz");
            ADD_FAILURE();
        } catch (const std::system_error& e) {
            EXPECT_NE(std::string(e.what()).find("program-xyz"), std::string::npos);
        }
    };
    run(main());
}

TEST_F(SubprocessSmoke, KillReportsTheSignal) {
    auto main = []() -> Coro<void> {
        std::vector<std::string> args{"30"};  // GCC 12.2: no braced temporary inside co_await
        auto p = co_await create_subprocess_exec("sleep", args);
        p.kill();
        int rc = co_await p.wait();
        EXPECT_EQ(rc, -SIGKILL);
    };
    run(main());
}

TEST_F(SubprocessSmoke, LargeOutputOnBothPipesDoesNotDeadlock) {
    auto main = []() -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;
        o.std_err = PIPE;
        auto p = co_await create_subprocess_shell(
            "head -c 10485760 /dev/zero; head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero", o);
        auto [out, err] = co_await p.communicate();
        EXPECT_EQ(out.value().size(), 10485760u + 1048576u);
        EXPECT_EQ(err.value().size(), 1048576u);
        EXPECT_EQ(p.returncode(), 0);
    };
    run(main());
}

}  // namespace process_subprocess_smoke_test
