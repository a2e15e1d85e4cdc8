// Cancellation torture of subprocesses (reliability program, part 5):
// Process.wait and Process.communicate on small /bin/sh and /bin/cat
// children, each cancelled at every loop iteration it suspends across (the
// harness is tests/support/cancel_torture.hpp), on the real clock. The
// invariants: cancelling does not kill the child (a later wait() gives its
// own exit code), the child is reaped and its pipes closed (no task or fd
// left), and what a cancelled communicate() leaves unread on stdout is a
// run of the child's output (communicate() is not cancel-safe: what it
// had read is dropped, as asyncio's).
#include <sys/wait.h>

#include <cerrno>
#include <optional>
#include <string>
#include <utility>

#include <tulip/tulip.hpp>

#include "support/cancel_torture.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace process_cancel_torture_test {

using namespace tulip;
using test::torture::Case;
using test::torture::RunInfo;
using test::torture::torture;

namespace {

class ProcessCancelTorture : public test::IoLoopTest {};

// ---- wait ------------------------------------------------------------------------

struct WaitCase : Case {
    Process p;
    std::optional<int> victim_rc;
    int final_rc = -100;
    Coro<void> prepare() override {
        std::vector<std::string> args{"-c", "sleep 0.02; exit 3"};
        p = co_await create_subprocess_exec("/bin/sh", std::move(args));
    }
    Coro<void> victim() override { victim_rc = co_await p.wait(); }
    Coro<void> settle() override { final_rc = co_await p.wait(); }
    void check(const RunInfo& r) override {
        EXPECT_EQ(final_rc, 3) << "a cancelled wait() must not kill the child";
        EXPECT_EQ(p.returncode(), std::optional<int>(3));
        if (r.completed()) {
            EXPECT_EQ(victim_rc, std::optional<int>(3));
        }
    }
};

TEST_F(ProcessCancelTorture, Wait) { torture<WaitCase>(loop(), "Process.wait", test::torture::real_time()); }

// ---- communicate -----------------------------------------------------------------

constexpr std::size_t kInput = 192 * 1024;  // more than a pipe holds: the writes suspend

struct CommunicateCase : Case {
    Process p;
    std::string input = test::pattern(0, kInput);
    std::optional<std::string> out;
    std::string rest;
    int rc = -100;
    Coro<void> prepare() override {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        p = co_await create_subprocess_exec("/bin/cat", {}, o);
    }
    Coro<void> victim() override {
        auto [o, e] = co_await p.communicate(input);
        out = std::move(o);
    }
    Coro<void> settle() override {
        // Cancelled: the child is not killed; end its input and read what is left.
        p.std_in->close();
        rest = co_await p.std_out->read();
        rc = co_await p.wait();
    }
    void check(const RunInfo& r) override {
        EXPECT_EQ(rc, 0) << "a cancelled communicate() must not kill the child";
        if (r.completed()) {
            ASSERT_TRUE(out.has_value());
            EXPECT_TRUE(*out == input);
            EXPECT_TRUE(rest.empty());
        }
        // What it had read is dropped; what it had not read is still there, in order.
        EXPECT_LE(rest.size(), input.size());
        EXPECT_NE(input.find(rest), std::string::npos) << "stdout left unread is not a run of the child's output";
    }
};

TEST_F(ProcessCancelTorture, Communicate) {
    torture<CommunicateCase>(loop(), "Process.communicate", test::torture::real_time());
}

// ---- create_subprocess_exec -------------------------------------------------------

// True once no child of ours is left, running or unreaped (waitpid(-1) would
// reap a zombie here; tulip must have reaped them all before).
bool no_children_left() {
    int status = 0;
    pid_t r = ::waitpid(-1, &status, WNOHANG);
    return r < 0 && errno == ECHILD;
}

struct SpawnCase : Case {
    std::optional<Process> p;
    int rc = -100;
    bool reaped = false;
    Coro<void> victim() override {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        std::vector<std::string> args{"-c", "exec cat"};
        Process proc = co_await create_subprocess_exec("/bin/sh", std::move(args), o);
        p = proc;
        auto [out, err] = co_await proc.communicate(std::string("ping"));
        EXPECT_EQ(out, std::optional<std::string>("ping"));
    }
    Coro<void> settle() override {
        if (p) {
            // Spawned, then cancelled in communicate(): end its input, reap it.
            p->std_in->close();
            (void)co_await p->std_out->read();
            rc = co_await p->wait();
        }
        // Cancelled while spawning: the child was killed; wait until it is reaped.
        for (int i = 0; i < 2000 && !(reaped = no_children_left()); ++i) co_await sleep(0.001);
    }
    void check(const RunInfo& r) override {
        EXPECT_TRUE(reaped) << "a child was left running or unreaped";
        if (p) {
            EXPECT_EQ(rc, 0);
        }
        if (r.completed()) {
            EXPECT_TRUE(p.has_value());
        }
    }
};

TEST_F(ProcessCancelTorture, CreateSubprocessExec) {
    ASSERT_TRUE(no_children_left()) << "another test left a child behind";
    torture<SpawnCase>(loop(), "create_subprocess_exec", test::torture::real_time());
}

}  // namespace

}  // namespace process_cancel_torture_test
