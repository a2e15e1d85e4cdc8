// Lifetime matrix, a subprocess and its pipes (issue 8): kill the child while
// its stdout is read, drop the Process handle while its pipes are open or a
// read waits, close the loop with a child running. No memory error, no leak,
// no hang, and no zombie left behind by the tests.
#include <tulip/tulip.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <memory>
#include <string>

#include "support/loop_test.hpp"

namespace lifetime_process_pipes_test {

using namespace tulip;
using test::eventually;

namespace {

class ProcessLifetimeTest : public test::IoLoopTest {};

// True once pid is gone for good: reaped, not a zombie (kill(pid, 0)
// succeeds on a zombie).
bool reaped(int pid) { return ::kill(pid, 0) < 0 && errno == ESRCH; }

Coro<std::string> await_read(StreamReader::ReadAwaiter aw) { co_return co_await std::move(aw); }

TEST_F(ProcessLifetimeTest, ChildKilledWhileItsStdoutIsRead) {
    run_io(([]() -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;
        Process p = co_await create_subprocess_shell("echo ready; exec sleep 30", o);
        EXPECT_EQ(co_await p.std_out->readline(), "ready\n");
        Task<std::string> reading = create_task(p.std_out->read());
        co_await sleep(0.01);
        p.kill();
        EXPECT_EQ(co_await reading, "") << "the pipe ends with the child";
        EXPECT_EQ(co_await p.wait(), -SIGKILL);
    })());
}

TEST_F(ProcessLifetimeTest, ProcessHandleDroppedWhileItsPipesAreOpenClosesThemAndTheChildIsReaped) {
    int pid = 0;
    run_io(([&]() -> Coro<void> {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        {
            Process p = co_await create_subprocess_exec("cat", {}, o);
            pid = p.pid();
            p.std_in->write("some input");
        }  // cat sees EOF on stdin once nothing holds its pipes, and exits
        co_await eventually([&] { return reaped(pid); });
    })());
    EXPECT_TRUE(reaped(pid));
}

TEST_F(ProcessLifetimeTest, ProcessHandleDroppedWhileAReadOfItsStdoutWaits) {
    run_io(([]() -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;
        auto p = std::make_unique<Process>(co_await create_subprocess_shell("sleep 0.05; echo late", o));
        int pid = p->pid();
        Task<std::string> reading = create_task(await_read(p->std_out->read(100)));
        p.reset();  // only the pending read holds the stdout pipe
        EXPECT_EQ(co_await reading, "late\n");
        co_await eventually([&] { return reaped(pid); });
    })());
}

TEST_F(ProcessLifetimeTest, StdoutDroppedWhileTheChildWritesEndsTheChild) {
    run_io(([]() -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;
        o.std_err = DEVNULL;
        Process p = co_await create_subprocess_exec("yes", {}, o);
        EXPECT_FALSE((co_await p.std_out->read(10)).empty());
        p.std_out.reset();  // the last handle to the pipe: it closes
        // The socketpair closed with unread data: the child's next write gets
        // EPIPE (SIGPIPE) or ECONNRESET (yes then exits with 1).
        int rc = co_await p.wait();
        EXPECT_TRUE(rc == -SIGPIPE || rc == 1) << rc;
    })());
}

TEST_F(ProcessLifetimeTest, CommunicateOnAProcessWhoseHandleIsGone) {
    run_io(([]() -> Coro<void> {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        o.std_err = PIPE;
        auto p = std::make_unique<Process>(co_await create_subprocess_shell("cat; echo err >&2", o));
        Task<std::pair<std::optional<std::string>, std::optional<std::string>>> talk =
            create_task(p->communicate(std::string("in")));
        p.reset();
        auto [out, err] = co_await talk;
        EXPECT_EQ(out, "in");
        EXPECT_EQ(err, "err\n");
    })());
}

TEST_F(ProcessLifetimeTest, LoopClosedWithAChildRunningLeavesItToTheCaller) {
    // The loop cannot reap a child once it is closed: the child is not
    // killed, and whoever still holds its pid reaps it (as asyncio, whose
    // child watchers stop with the loop). Nothing is touched after close.
    int pid = 0;
    {
        Process p = run_io(create_subprocess_exec("sleep", {"30"}));
        pid = p.pid();
        cancel_all_tasks(*loop_);
        loop_->close();
        EXPECT_FALSE(p.returncode().has_value());
    }  // the handle outlives the loop's close; dropping it touches no loop state
    ASSERT_GT(pid, 0);
    ::kill(pid, SIGKILL);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status));
}

}  // namespace

}  // namespace lifetime_process_pipes_test
