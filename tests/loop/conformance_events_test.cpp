// The event loop behaviours of asyncio 3.13 that issue 9 found different,
// each named after the asyncio behaviour (CPython test_events.py,
// test_base_events.py, test_selector_events.py, test_unix_events.py):
// call_soon_threadsafe and call_soon feed one FIFO; debug mode checks the
// thread of non-thread-safe methods; a transport's fd is refused by
// add_reader & co.; uncatchable signals raise RuntimeError; NaN delays are
// refused everywhere; debug mode refuses blocking sockets in sock_*.
#include <tulip/loop/event_loop.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace loop_conformance_events_test {

using namespace tulip;

namespace {

class LoopFifo : public test::LoopTest {};

// Runs f on a new thread and waits for it (the loop thread blocks meanwhile:
// the order of what f posts and what this thread queues next is then known).
void on_other_thread(const std::function<void()>& f) {
    std::thread t(f);
    t.join();
}

TEST_F(LoopFifo, CallSoonThreadsafeBeforeRunKeepsFifoOrderWithCallSoon) {
    std::vector<int> order;
    loop().call_soon_threadsafe([&] { order.push_back(1); });
    loop().call_soon([&] { order.push_back(2); });
    loop().call_soon_threadsafe([&] { order.push_back(3); });
    loop().call_soon([&] { order.push_back(4); });
    run_once();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(LoopFifo, CallSoonThreadsafeFromAnotherThreadBeforeRunIsOrderedByArrival) {
    std::vector<int> order;
    on_other_thread([&] { loop().call_soon_threadsafe([&] { order.push_back(1); }); });
    loop().call_soon([&] { order.push_back(2); });
    on_other_thread([&] { loop().call_soon_threadsafe([&] { order.push_back(3); }); });
    loop().call_soon([&] { order.push_back(4); });
    run_once();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(LoopFifo, CallSoonThreadsafeFromAnotherThreadWhileRunningIsOrderedByArrival) {
    std::vector<int> order;
    loop().call_soon([&] {
        // Arrives while this callback runs, before the call_soon below:
        // both wait for the next iteration, the post first (asyncio appends
        // both to one queue).
        on_other_thread([&] { loop().call_soon_threadsafe([&] { order.push_back(1); }); });
        loop().call_soon([&] { order.push_back(2); });
    });
    run_once();
    EXPECT_TRUE(order.empty());
    run_once();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

Coro<void> note(std::vector<int>* order, int v) {
    order->push_back(v);
    co_return;
}

TEST_F(LoopFifo, CallSoonThreadsafeBeforeCreateTaskRunsBeforeTheTaskStarts) {
    std::vector<int> order;
    on_other_thread([&] { loop().call_soon_threadsafe([&] { order.push_back(1); }); });
    auto t = loop().create_task(note(&order, 2));
    loop().call_soon_threadsafe([&] { order.push_back(3); });
    run_once();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(t.done());
}

// ---- debug mode checks the thread (asyncio's _check_thread) ------------------

class LoopThreadCheck : public test::LoopTest {
protected:
    // Runs check(name, f) for each non-thread-safe method, called on another
    // thread while the loop runs; returns the names that did not raise
    // std::runtime_error.
    std::vector<std::string> calls_from_other_thread_that_passed() {
        std::vector<std::string> passed;
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
        loop().call_soon([&] {
            on_other_thread([&] {
                auto expect = [&](const char* name, const std::function<void()>& f) {
                    try {
                        f();
                        passed.push_back(name);
                    } catch (const std::runtime_error& e) {
                        std::string what = e.what();
                        if (what.find("thread") == std::string::npos) passed.push_back(name + (": " + what));
                    }
                };
                expect("call_soon", [&] { loop().call_soon([] {}); });
                expect("call_later", [&] { loop().call_later(1.0, [] {}); });
                expect("call_at", [&] { loop().call_at(loop().time() + 1, [] {}); });
                expect("create_task", [&] { loop().create_task(note(nullptr, 0)); });
                expect("add_reader", [&] { loop().add_reader(fds[0], [] {}); });
                expect("add_writer", [&] { loop().add_writer(fds[1], [] {}); });
                expect("remove_reader", [&] { loop().remove_reader(fds[0]); });
                expect("remove_writer", [&] { loop().remove_writer(fds[1]); });
                expect("add_signal_handler", [&] { loop().add_signal_handler(SIGUSR1, [] {}); });
                expect("remove_signal_handler", [&] { loop().remove_signal_handler(SIGUSR1); });
            });
            loop().stop();
        });
        loop().run_forever();  // the thread is checked while the loop runs (run_forever)
        ::close(fds[0]);
        ::close(fds[1]);
        return passed;
    }
};

TEST_F(LoopThreadCheck, DebugModeRaisesRuntimeErrorForNonThreadsafeCallsFromAnotherThread) {
    loop().set_debug(true);
    EXPECT_EQ(calls_from_other_thread_that_passed(), std::vector<std::string>{});
}

TEST_F(LoopThreadCheck, DebugModeStillAcceptsCallSoonThreadsafeFromAnotherThread) {
    loop().set_debug(true);
    bool ran = false;
    loop().call_soon([&] { on_other_thread([&] { loop().call_soon_threadsafe([&] { ran = true; }); }); });
    run_briefly();
    EXPECT_TRUE(ran);
}

TEST_F(LoopThreadCheck, DebugModeDoesNotCheckTheThreadWhileTheLoopIsNotRunning) {
    // asyncio: _thread_id is None outside run_forever, so nothing is checked.
    loop().set_debug(true);
    bool ran = false;
    on_other_thread([&] { loop().call_soon([&] { ran = true; }); });
    run_once();
    EXPECT_TRUE(ran);
}

TEST_F(LoopThreadCheck, DebugModeAcceptsCallsFromTheLoopsOwnThread) {
    loop().set_debug(true);
    bool ran = false;
    loop().call_soon([&] {
        loop().call_soon([&] { ran = true; });
        loop().call_later(0.0, [] {});
    });
    run_briefly();
    EXPECT_TRUE(ran);
}

// ---- a transport's fd (asyncio's _ensure_fd_no_transport) --------------------

class FdOwnedByTransport : public test::IoLoopTest {};

struct Quiet : Protocol {};
struct QuietDatagram : DatagramProtocol {};

void expect_fd_refused(EventLoop& loop, int fd) {
    const std::string want = "File descriptor " + std::to_string(fd) + " is used by transport";
    auto check = [&](const char* name, const std::function<void()>& f) {
        try {
            f();
            ADD_FAILURE() << name << "(" << fd << ") did not raise";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << name << ": " << e.what();
        }
    };
    check("add_reader", [&] { loop.add_reader(fd, [] {}); });
    check("add_writer", [&] { loop.add_writer(fd, [] {}); });
    check("remove_reader", [&] { loop.remove_reader(fd); });
    check("remove_writer", [&] { loop.remove_writer(fd); });
}

TEST_F(FdOwnedByTransport, AddReaderAndFriendsOnATransportsSocketRaiseRuntimeError) {
    auto [a, b] = Socket::pair();
    int fd = a.fileno();
    int received = 0;
    struct Counting : Protocol {
        int* n;
        explicit Counting(int* n) : n(n) {}
        void data_received(std::string_view d) override { *n += static_cast<int>(d.size()); }
    };
    auto t = run_io(detail::connect_transport(std::move(a), std::make_unique<Counting>(&received)));
    expect_fd_refused(loop(), fd);
    // The transport's own reader is still in place.
    ASSERT_EQ(::write(b.fileno(), "xy", 2), 2);
    run_io(test::eventually([&] { return received == 2; }));
    // Closing: the fd is no longer held against others (asyncio checks is_closing()).
    t->close();
    EXPECT_NO_THROW(loop().remove_writer(fd));
    run_io(sleep(0));
}

TEST_F(FdOwnedByTransport, AddReaderOnADatagramTransportsSocketRaisesRuntimeError) {
    Socket s = Socket::create(AF_INET, SOCK_DGRAM);
    s.bind(SocketAddress::from_ip("127.0.0.1", 0));
    int fd = s.fileno();
    auto t = detail::make_datagram_transport(loop(), std::move(s), std::make_unique<QuietDatagram>(), std::nullopt);
    run_io(sleep(0));
    expect_fd_refused(loop(), fd);
    t->close();
    run_io(sleep(0));
    run_io(sleep(0));
}

TEST_F(FdOwnedByTransport, AClosedTransportsFdNumberIsFreeAgain) {
    auto [a, b] = Socket::pair();
    int fd = a.fileno();
    auto t = run_io(detail::connect_transport(std::move(a), std::make_unique<Quiet>()));
    t->close();
    run_io(test::eventually([&] { return std::any_cast<int>(t->get_extra_info("socket")) == -1; }));
    // The number, reused by a new descriptor, is not refused.
    int reused = ::fcntl(b.fileno(), F_DUPFD_CLOEXEC, fd);
    ASSERT_EQ(reused, fd);
    EXPECT_NO_THROW(loop().add_reader(reused, [] {}));
    EXPECT_TRUE(loop().remove_reader(reused));
    ::close(reused);
}

// ---- signals --------------------------------------------------------------------

class SignalChecks : public test::RealTimeLoopTest {};

TEST_F(SignalChecks, AddSignalHandlerForAnUncatchableSignalRaisesRuntimeError) {
    EXPECT_THROW(loop().add_signal_handler(SIGKILL, [] {}), std::runtime_error);
    EXPECT_THROW(loop().add_signal_handler(SIGSTOP, [] {}), std::runtime_error);
    try {
        loop().add_signal_handler(SIGKILL, [] {});
    } catch (const std::invalid_argument&) {
        ADD_FAILURE() << "SIGKILL: ValueError; asyncio raises RuntimeError";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot be caught"), std::string::npos) << e.what();
    }
}

TEST_F(SignalChecks, AddSignalHandlerForAnInvalidSignalNumberRaisesValueError) {
    EXPECT_THROW(loop().add_signal_handler(0, [] {}), std::invalid_argument);
    EXPECT_THROW(loop().add_signal_handler(-1, [] {}), std::invalid_argument);
    EXPECT_THROW(loop().add_signal_handler(NSIG, [] {}), std::invalid_argument);
    EXPECT_THROW(loop().remove_signal_handler(0), std::invalid_argument);
    EXPECT_THROW(loop().remove_signal_handler(NSIG), std::invalid_argument);
    // Never installed: nothing to remove (asyncio returns False).
    EXPECT_FALSE(loop().remove_signal_handler(SIGKILL));
}

// ---- NaN durations: the entry points delays_test.cpp does not cover -------------

class NanDelays : public test::LoopTest {};

TEST_F(NanDelays, SleepWithAResultRefusesNaN) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW(run(sleep(nan, 1)), std::invalid_argument);
}

TEST_F(NanDelays, ShutdownDefaultExecutorRefusesANaNTimeoutBeforeShuttingDown) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto f = loop().run_in_executor(nullptr, [] { return 1; });
    EXPECT_EQ(run(f), 1);
    EXPECT_THROW(run(tulip::shutdown_default_executor(loop(), Seconds(nan))), std::invalid_argument);
    // Nothing was shut down: the executor still takes work.
    auto g = loop().run_in_executor(nullptr, [] { return 2; });
    EXPECT_EQ(run(g), 2);
}

// ---- debug mode: sock_* refuse a blocking socket --------------------------------

class SockDebug : public test::IoLoopTest {};

TEST_F(SockDebug, DebugModeSockOperationsOnABlockingSocketRaiseValueError) {
    loop().set_debug(true);
    auto [a, b] = Socket::pair();
    int flags = ::fcntl(a.fileno(), F_GETFL);
    ASSERT_EQ(::fcntl(a.fileno(), F_SETFL, flags & ~O_NONBLOCK), 0);
    // Data waiting, so that without the check the reads return instead of blocking.
    ASSERT_EQ(::write(b.fileno(), "abcdefgh", 8), 8);
    char buf[4];
    auto expect_refused = [&](const char* name, auto coro) {
        try {
            run(std::move(coro));  // raises at its first step (run_io would close the loop)
            ADD_FAILURE() << name << " accepted a blocking socket";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("non-blocking"), std::string::npos) << name << ": " << e.what();
        }
    };
    expect_refused("sock_recv", sock_recv(a, 1));
    expect_refused("sock_recv_into", sock_recv_into(a, std::span<char>(buf, sizeof buf)));
    expect_refused("sock_recvfrom", sock_recvfrom(a, 1));
    expect_refused("sock_sendall", sock_sendall(a, std::string("x")));
    expect_refused("sock_sendto", sock_sendto(a, std::string("x"), SocketAddress::from_ip("127.0.0.1", 9)));
    expect_refused("sock_connect", sock_connect(a, SocketAddress::from_ip("127.0.0.1", 9)));
    expect_refused("sock_connect(host)", sock_connect(a, std::string("127.0.0.1"), 9));
    expect_refused("sock_accept", sock_accept(a));
}

TEST_F(SockDebug, DebugModeSockOperationsOnANonBlockingSocketWork) {
    loop().set_debug(true);
    auto [a, b] = Socket::pair();
    run_io(sock_sendall(a, std::string("hi")));
    EXPECT_EQ(run_io(sock_recv(b, 2)), "hi");
}

// ---- test_events / test_base_events cases ported here ------------------------

class LoopConformance : public test::LoopTest {};
class RealTimeLoopConformance : public test::RealTimeLoopTest {};

// test_events: test_run_until_complete
TEST_F(RealTimeLoopConformance, RunUntilCompleteOfASleepWaitsAtLeastItsDelay) {
    const double t0 = loop().time();
    run(sleep(0.1));
    EXPECT_GE(loop().time() - t0, 0.1 - 1e-3);  // the clock's resolution, no upper bound
}

Coro<void> tiny_sleeps() {
    co_await sleep(1e-2);
    co_await sleep(1e-4);
    co_await sleep(1e-6);
    co_await sleep(1e-8);
    co_await sleep(1e-10);
}

// test_events: test_timeout_rounding (a poll timeout is rounded up, never
// down to a busy loop of zero-timeout polls)
TEST_F(RealTimeLoopConformance, TinySleepsTakeAFewIterationsNotABusyLoop) {
    auto t = loop().create_task(tiny_sleeps());
    int iterations = 0;
    while (!t.done() && iterations < 10000) {
        run_once();
        ++iterations;
    }
    EXPECT_TRUE(t.done());
    EXPECT_LE(iterations, 20);
}

// test_events: test_signal_handling_while_selecting
TEST_F(RealTimeLoopConformance, ASignalArrivingWhileTheLoopWaitsInItsPollerRunsTheHandler) {
    int caught = 0;
    loop().add_signal_handler(SIGALRM, [&] {
        ++caught;
        loop().stop();
    });
    TimerHandle guard = loop().call_later(test::kLoopbackTimeout, [&] { loop().stop(); });
    itimerval once{};
    once.it_value.tv_usec = 10000;  // 10 ms, while the loop is blocked in epoll_wait
    ASSERT_EQ(::setitimer(ITIMER_REAL, &once, nullptr), 0);
    loop().run_forever();
    guard.cancel();
    EXPECT_EQ(caught, 1);
    EXPECT_TRUE(loop().remove_signal_handler(SIGALRM));
}

Coro<void> hold(std::shared_ptr<int> token) {
    (void)token;
    co_return;
}

// test_events: test_close (create_task, run_in_executor); test_base_events:
// test_create_task_error_closes_coro
TEST_F(LoopConformance, AClosedLoopRefusesCreateTaskAndRunInExecutorAndDropsTheCoroutine) {
    loop().close();
    auto token = std::make_shared<int>(0);
    EXPECT_THROW(loop().create_task(hold(token)), std::runtime_error);
    EXPECT_EQ(token.use_count(), 1);  // the coroutine was destroyed, as asyncio closes it
    EXPECT_THROW(loop().run_in_executor(nullptr, [] { return 1; }), std::runtime_error);
}

// test_base_events: test_set_debug
TEST_F(LoopConformance, SetDebugTurnsDebugModeOnAndOff) {
    loop().set_debug(true);
    EXPECT_TRUE(loop().get_debug());
    loop().set_debug(false);
    EXPECT_FALSE(loop().get_debug());
}

// test_events: TimerTests.test_when
TEST_F(LoopConformance, ATimerHandleKnowsWhenItIsDue) {
    TimerHandle at = loop().call_at(5.0, [] {});
    TimerHandle later = loop().call_later(2.0, [] {});
    EXPECT_DOUBLE_EQ(at.when(), 5.0);
    EXPECT_DOUBLE_EQ(later.when(), loop().time() + 2.0);
    at.cancel();
    later.cancel();
}

// test_base_events: test_check_thread, "check disabled if debug mode is disabled"
TEST_F(LoopThreadCheck, WithoutDebugModeTheThreadIsNotChecked) {
    loop().set_debug(false);
    bool ran = false;
    bool threw = false;
    loop().call_soon([&] {
        // The loop thread waits in join(): no race, only the check is under test.
        on_other_thread([&] {
            try {
                loop().call_soon([&] { ran = true; });
            } catch (const std::runtime_error&) {
                threw = true;
            }
        });
    });
    run_briefly();
    EXPECT_FALSE(threw);
    EXPECT_TRUE(ran);
}

// test_base_events: test_single_selecter_event_callback_after_stopping
TEST_F(RealTimeLoopConformance, AReadyFdRunsItsReaderOnceAcrossAStopAndARestart) {
    auto [a, b] = Socket::pair();
    ASSERT_EQ(::write(b.fileno(), "x", 1), 1);
    int calls = 0;
    loop().add_reader(a.fileno(), [&, fd = a.fileno()] {
        ++calls;
        char c;
        [[maybe_unused]] auto r = ::read(fd, &c, 1);
    });
    for (int i = 0; i < 2; ++i) {
        loop().call_soon([&] { loop().stop(); });
        loop().run_forever();
    }
    run(sleep(0.01));
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(loop().remove_reader(a.fileno()));
}

// ---- test_unix_events: TestFork ---------------------------------------------

// Runs child() in a forked child and returns its exit status (the child only
// writes to a pipe or runs a loop of its own, then _exits).
template <class F>
int in_forked_child(F child) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(child());
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(RealTimeLoopConformance, AForkedChildDoesNotShareTheRunningLoop) {
    int status = -1;
    run([&]() -> Coro<void> {
        status = in_forked_child([] { return detail::running_loop() == nullptr ? 0 : 1; });
        co_return;
    }());
    EXPECT_EQ(status, 0) << "the child still saw its parent's running loop";
}

TEST_F(RealTimeLoopConformance, ASignalSentToAForkedChildDoesNotReachTheParentsLoop) {
    bool parent_handled = false;
    loop().add_signal_handler(SIGUSR1, [&] { parent_handled = true; });
    int status = in_forked_child([] {
        ::kill(::getpid(), SIGUSR1);  // runs the inherited C handler in the child
        return 0;
    });
    EXPECT_EQ(status, 0);
    run(sleep(0.05));  // anything written to the shared pipe would be read by now
    EXPECT_FALSE(parent_handled);
    EXPECT_TRUE(loop().remove_signal_handler(SIGUSR1));
}

Coro<int> forty_two() {
    co_await sleep(0.001);
    co_return 42;
}

TEST_F(RealTimeLoopConformance, AChildForkedFromARunningLoopCanRunALoopOfItsOwn) {
    int status = -1;
    run([&]() -> Coro<void> {
        status = in_forked_child([] {
            try {
                return tulip::run(forty_two()) == 42 ? 0 : 1;
            } catch (...) {
                return 2;
            }
        });
        co_return;
    }());
    EXPECT_EQ(status, 0);
}

Coro<int> run_true() {
    auto p = co_await create_subprocess_exec("true");
    int rc = co_await p.wait();
    co_return rc;
}

TEST_F(RealTimeLoopConformance, AForkedChildCanStartASubprocessOnItsOwnLoop) {
    int status = in_forked_child([] {
        try {
            return tulip::run(run_true()) == 0 ? 0 : 1;
        } catch (...) {
            return 2;
        }
    });
    EXPECT_EQ(status, 0);
}

}  // namespace

}  // namespace loop_conformance_events_test
