// asyncio behaviours of subprocesses that tulip used to get wrong (issue 9).
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace process_asyncio_subprocess_test {

using namespace tulip;

class AsyncioSubprocessTest : public test::IoLoopTest {};

TEST_F(AsyncioSubprocessTest, CommunicateReturnsNoneForAStreamThatIsNotPipedAndEmptyForAnEmptyPipe) {
    auto body = []() -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;  // piped, but the child writes nothing to it
        o.std_err = DEVNULL;
        auto p = co_await create_subprocess_shell("echo hidden >&2", o);
        EXPECT_FALSE(p.std_in.has_value());
        EXPECT_TRUE(p.std_out.has_value());
        EXPECT_FALSE(p.std_err.has_value());
        auto [out, err] = co_await p.communicate();
        EXPECT_EQ(out, std::optional<std::string>(""));  // empty output
        EXPECT_EQ(err, std::nullopt);                    // not piped (asyncio: None)
    };
    run_io(body());
}

TEST_F(AsyncioSubprocessTest, SubprocessLimitOfZeroOrLessRaisesValueError) {
    auto body = []() -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;
        o.limit = -1;
        std::vector<std::string> no_args;
        EXPECT_THROW(co_await create_subprocess_exec("true", no_args, o), std::invalid_argument);
    };
    run_io(body());
}

namespace {
// The pids whose command line is exactly `args` (NUL-separated, as /proc shows it).
std::vector<int> pids_running(const std::string& cmdline) {
    std::vector<int> pids;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        // Any process on the machine may exit while we read: reading its
        // cmdline then fails with ESRCH, and it is not running.
        std::string got;
        try {
            std::ifstream f(e.path() / "cmdline", std::ios::binary);
            got.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        } catch (const std::exception&) {
            continue;
        }
        if (got == cmdline) pids.push_back(std::stoi(name));
    }
    return pids;
}

Coro<std::pair<int, std::string>> cat_some_data() {
    SubprocessOptions o;
    o.std_in = PIPE;
    o.std_out = PIPE;
    std::vector<std::string> no_args;
    auto p = co_await create_subprocess_exec("cat", no_args, o);
    auto [out, err] = co_await p.communicate(std::string("some data"));
    co_return std::pair<int, std::string>(p.returncode().value_or(-1), out.value_or("<none>"));
}
}  // namespace

TEST_F(AsyncioSubprocessTest, DrainOnStdinOfAChildThatExitedRaisesBrokenPipeOrConnectionReset) {
    auto body = []() -> Coro<void> {
        SubprocessOptions o;
        o.std_in = PIPE;
        std::vector<std::string> no_args;
        auto p = co_await create_subprocess_exec("true", no_args, o);
        (void)co_await p.wait();
        p.std_in->write(std::string(1 << 20, 'x'));
        bool raised = false;
        try {
            co_await p.std_in->drain();
        } catch (const BrokenPipeError&) {
            raised = true;
        } catch (const ConnectionResetError&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
    };
    run_io(body());
}

TEST_F(AsyncioSubprocessTest, CommunicateWithEmptyInputGivesTheChildAnEmptyStdin) {
    auto body = []() -> Coro<void> {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        auto p = co_await create_subprocess_shell("wc -c", o);
        auto [out, err] = co_await p.communicate(std::string());
        std::string text = out.value_or("");
        EXPECT_EQ(text.substr(std::min(text.size(), text.find_first_not_of(" \t"))), "0\n");
        EXPECT_EQ(p.returncode(), 0);
    };
    run_io(body());
}

TEST_F(AsyncioSubprocessTest, CancellingCreateSubprocessExecKillsTheChild) {
    auto body = [this]() -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;  // wrapping the pipe awaits: the cancellation lands there
        std::vector<std::string> args{"3601.25"};
        Task<Process> creating = create_task(create_subprocess_exec("sleep", args, o));
        loop().call_soon([creating]() mutable { creating.cancel(); });
        bool cancelled = false;
        try {
            (void)co_await creating;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        // Killed, not left running for an hour (the loop reaps it).
        const std::string cmdline = std::string(
            "sleep\0"
            "3601.25\0",
            14);
        for (int i = 0; i < 200 && !pids_running(cmdline).empty(); ++i) co_await sleep(0.01);
        std::vector<int> left = pids_running(cmdline);
        EXPECT_TRUE(left.empty()) << "the child of a cancelled create_subprocess_exec still runs";
        for (int pid : left) ::kill(pid, SIGKILL);
    };
    run_io(body());
}

TEST_F(AsyncioSubprocessTest, ASubprocessRunsOnALoopInAnotherThread) {
    std::pair<int, std::string> result{-1, ""};
    std::thread other([&result] { result = tulip::run(cat_some_data()); });
    other.join();
    EXPECT_EQ(result.first, 0);
    EXPECT_EQ(result.second, "some data");
}

}  // namespace process_asyncio_subprocess_test
