// Tests of the loop's two pollers (epoll and io_uring): how one is chosen
// (EventLoopOptions::poller, TULIP_POLLER), and what io_uring must do as epoll
// does: refuse what epoll refuses, release a socket it stopped watching at
// once, and keep working when the loop moves to another thread. (The rest of
// the suite runs on both pollers: tests/CMakeLists.txt.)
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

#include "support/fd_pair.hpp"

namespace loop_poller_test {

using namespace tulip;

namespace {

// Sets TULIP_POLLER for one test and puts back what was there.
struct PollerEnv {
    std::optional<std::string> saved;
    explicit PollerEnv(const char* value) {
        if (const char* v = std::getenv("TULIP_POLLER")) saved = v;
        if (value)
            ::setenv("TULIP_POLLER", value, 1);
        else
            ::unsetenv("TULIP_POLLER");
    }
    ~PollerEnv() {
        if (saved)
            ::setenv("TULIP_POLLER", saved->c_str(), 1);
        else
            ::unsetenv("TULIP_POLLER");
    }
};

bool uring_available() {
    try {
        EventLoop loop(EventLoopOptions{.poller = PollerKind::io_uring});
        return true;
    } catch (const std::system_error&) {
        return false;
    }
}

using test::SocketPair;

// Runs the loop until `done` or 2 s.
template <class F>
bool run_until(EventLoop& loop, F done) {
    bool timed_out = false;
    auto h = loop.call_later(2.0, [&] { timed_out = true; });
    while (!done() && !timed_out) detail::LoopAccess::run_once(loop);
    h.cancel();
    return done();
}

}  // namespace

class PollerKinds : public ::testing::TestWithParam<PollerKind> {
protected:
    void SetUp() override {
        if (GetParam() == PollerKind::io_uring && !uring_available()) GTEST_SKIP() << "io_uring refused by this kernel";
    }
    EventLoopOptions options() const { return EventLoopOptions{.poller = GetParam()}; }
};

TEST(PollerChoice, AnExplicitChoiceIsObeyed) {
    PollerEnv env("io_uring");
    EXPECT_EQ(EventLoop(EventLoopOptions{.poller = PollerKind::epoll}).poller_name(), "epoll");
    if (!uring_available()) GTEST_SKIP() << "io_uring refused by this kernel";
    PollerEnv env2("epoll");
    EXPECT_EQ(EventLoop(EventLoopOptions{.poller = PollerKind::io_uring}).poller_name(), "io_uring");
}

TEST(PollerChoice, AutomaticFollowsTulipPollerAndTakesIoUringWhereItCan) {
    const char* best = uring_available() ? "io_uring" : "epoll";
    {
        PollerEnv env(nullptr);
        EXPECT_EQ(EventLoop().poller_name(), best);
    }
    {
        PollerEnv env("auto");
        EXPECT_EQ(EventLoop().poller_name(), best);
    }
    {
        PollerEnv env("epoll");
        EXPECT_EQ(EventLoop().poller_name(), "epoll");
    }
    PollerEnv env("io_uring");
    EXPECT_EQ(EventLoop().poller_name(), best);
}

TEST(PollerChoice, AnUnknownTulipPollerIsRefusedByName) {
    PollerEnv env("kqueue");
    try {
        EventLoop loop;
        ADD_FAILURE() << "TULIP_POLLER=kqueue accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("kqueue"), std::string::npos) << e.what();
    }
}

TEST_P(PollerKinds, AReaderStillReadableIsReportedAgain) {
    // Level-triggered, as selectors: a callback that leaves data unread is
    // called again (io_uring's one-shot polls are re-armed), and once the
    // data is gone it is not.
    EventLoop loop(options());
    SocketPair sp;
    ASSERT_EQ(::write(sp.b, "abc", 3), 3);
    int calls = 0;
    loop.add_reader(sp.a, [&] {
        char c;
        ++calls;
        EXPECT_EQ(::read(sp.a, &c, 1), 1) << "called while nothing was readable (call " << calls << ")";
    });
    EXPECT_TRUE(run_until(loop, [&] { return calls == 3; })) << calls;
    bool later = false;
    loop.call_later(0.05, [&] { later = true; });
    EXPECT_TRUE(run_until(loop, [&] { return later; }));
    EXPECT_EQ(calls, 3);
    loop.remove_reader(sp.a);
    loop.close();
}

TEST_P(PollerKinds, AFdNoLongerWatchedIsReleasedWhenClosed) {
    // io_uring: a pending poll request holds the file; remove_reader must let
    // go of it before it returns, or the close() below would not close the
    // socket and the peer would see no EOF.
    EventLoop loop(options());
    SocketPair sp;
    bool fired = false;
    loop.add_writer(sp.a, [&] { fired = true; });
    loop.add_reader(sp.a, [] {});
    ASSERT_TRUE(run_until(loop, [&] { return fired; }));  // the requests are in the kernel now
    EXPECT_TRUE(loop.remove_reader(sp.a));
    EXPECT_TRUE(loop.remove_writer(sp.a));
    ::close(sp.a);
    sp.a = -1;
    char c;
    EXPECT_EQ(::recv(sp.b, &c, 1, MSG_DONTWAIT), 0) << "the peer sees EOF at once (errno " << errno << ")";
    loop.close();
}

TEST_P(PollerKinds, RemovingTheWatcherOfAnFdClosedUnderItDoesNotThrow) {
    // The fd has left epoll's set with its close; selectors.EpollSelector
    // ignores the OSError of unregistering it, and transports remove their
    // watchers in paths that cannot throw.
    EventLoop loop(options());
    SocketPair sp;
    loop.add_reader(sp.a, [] {});
    loop.add_writer(sp.a, [] {});
    bool ran = false;
    loop.call_soon([&] { ran = true; });
    ASSERT_TRUE(run_until(loop, [&] { return ran; }));
    ::close(sp.a);
    int fd = sp.a;
    sp.a = -1;
    EXPECT_TRUE(loop.remove_writer(fd));
    EXPECT_TRUE(loop.remove_reader(fd));
    EXPECT_FALSE(loop.remove_reader(fd));
    loop.close();
}

TEST_P(PollerKinds, ALoopBuiltHereRunsOnAnotherThreadThenHereAgain) {
    // io_uring's ring is single-issuer: built disabled, enabled by the first
    // thread that runs the loop, and remade on a thread that runs it later.
    EventLoop loop(options());
    SocketPair sp;
    int got = 0;
    loop.add_reader(sp.a, [&] {
        char buf[8];
        if (::read(sp.a, buf, sizeof buf) > 0) ++got;
    });
    ASSERT_EQ(::write(sp.b, "1", 1), 1);
    bool ok1 = false;
    std::thread t([&] { ok1 = run_until(loop, [&] { return got == 1; }); });
    t.join();
    EXPECT_TRUE(ok1);
    ASSERT_EQ(::write(sp.b, "2", 1), 1);
    EXPECT_TRUE(run_until(loop, [&] { return got == 2; })) << "the reader stays watched on the second thread";
    bool ok3 = false;
    std::thread t2([&] {
        if (::write(sp.b, "3", 1) != 1) return;
        ok3 = run_until(loop, [&] { return got == 3; });
    });
    t2.join();
    EXPECT_TRUE(ok3);
    loop.remove_reader(sp.a);
    loop.close();
}

TEST_P(PollerKinds, AClosedFdAndARegularFileAreRefusedAsEpollDoes) {
    EventLoop loop(options());
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ::close(fds[0]);
    ::close(fds[1]);
    try {
        loop.add_reader(fds[0], [] {});
        ADD_FAILURE() << "a closed fd accepted";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EBADF);
    }
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    try {
        loop.add_writer(::fileno(f), [] {});
        ADD_FAILURE() << "a regular file accepted";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EPERM);
    }
    std::fclose(f);
    loop.close();
}

INSTANTIATE_TEST_SUITE_P(Both, PollerKinds, ::testing::Values(PollerKind::epoll, PollerKind::io_uring),
                         [](const auto& info) { return info.param == PollerKind::epoll ? "epoll" : "io_uring"; });

}  // namespace loop_poller_test
