// The loop layer on its own: this binary links tulip_loop (core + loop) and
// gtest, nothing of the task layer, and proves that the loop builds and links
// without it (docs/architecture.md). The cases mirror CPython test_events.py's
// callback, timer, reader and threadsafe basics, driven by callbacks only.
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/executor.hpp>
#include <tulip/loop/loop_access.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

using namespace tulip;

namespace {

// Runs the loop until stop() or a safety timer (so a failing case ends).
void run_with_guard(EventLoop& loop, double guard_seconds = 5.0) {
    TimerHandle guard = loop.call_later(guard_seconds, [&] {
        ADD_FAILURE() << "the loop did not stop within " << guard_seconds << " s";
        loop.stop();
    });
    loop.run_forever();
    guard.cancel();
}

TEST(LoopOnly, CallSoonRunsInOrder) {
    EventLoop loop;
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) loop.call_soon([&order, i] { order.push_back(i); });
    loop.call_soon([&] { loop.stop(); });
    run_with_guard(loop);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(LoopOnly, CallbackScheduledByACallbackWaitsForTheNextIteration) {
    EventLoop loop;
    std::vector<std::string> order;
    loop.call_soon([&] {
        order.push_back("a");
        loop.call_soon([&] { order.push_back("c"); });
    });
    loop.call_soon([&] { order.push_back("b"); });
    loop.call_soon([&] { loop.call_soon([&] { loop.stop(); }); });
    run_with_guard(loop);
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(LoopOnly, CallLaterFiresInDeadlineOrder) {
    EventLoop loop(EventLoopOptions{.virtual_time = true});
    std::vector<int> order;
    loop.call_later(0.3, [&] { order.push_back(3); });
    loop.call_later(0.1, [&] { order.push_back(1); });
    loop.call_later(0.2, [&] { order.push_back(2); });
    loop.call_later(0.1, [&] { order.push_back(11); });  // same deadline: scheduling order
    double t0 = loop.time();
    loop.call_later(0.4, [&] { loop.stop(); });
    run_with_guard(loop, 10.0);
    EXPECT_EQ(order, (std::vector<int>{1, 11, 2, 3}));
    EXPECT_GE(loop.time() - t0, 0.4 - 1e-9);
}

TEST(LoopOnly, CancelledTimerDoesNotRun) {
    EventLoop loop(EventLoopOptions{.virtual_time = true});
    bool ran = false, other = false;
    TimerHandle h = loop.call_later(0.1, [&] { ran = true; });
    loop.call_later(0.05, [&] { other = true; });
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    loop.call_later(0.2, [&] { loop.stop(); });
    run_with_guard(loop, 10.0);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(other);
}

TEST(LoopOnly, CallAtUsesTheLoopClock) {
    EventLoop loop(EventLoopOptions{.virtual_time = true});
    double fired_at = -1;
    double when = loop.time() + 1.5;
    loop.call_at(when, [&] {
        fired_at = loop.time();
        loop.stop();
    });
    run_with_guard(loop, 10.0);
    EXPECT_GE(fired_at, when);
}

TEST(LoopOnly, AddReaderOnAPipe) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    EventLoop loop;
    std::string got;
    loop.add_reader(fds[0], [&] {
        char buf[16];
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) got.append(buf, static_cast<std::size_t>(n));
        if (got.size() >= 5) {
            EXPECT_TRUE(loop.remove_reader(fds[0]));
            loop.stop();
        }
    });
    loop.call_soon([&] { ASSERT_EQ(::write(fds[1], "hel", 3), 3); });
    loop.call_later(0.01, [&] { ASSERT_EQ(::write(fds[1], "lo", 2), 2); });
    run_with_guard(loop);
    EXPECT_EQ(got, "hello");
    EXPECT_FALSE(loop.remove_reader(fds[0])) << "already removed";
    loop.close();
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(LoopOnly, AddWriterOnAPipe) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    EventLoop loop;
    int calls = 0;
    loop.add_writer(fds[1], [&] {
        ++calls;
        loop.remove_writer(fds[1]);
        loop.stop();
    });
    run_with_guard(loop);
    EXPECT_EQ(calls, 1);
    loop.close();
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(LoopOnly, CallSoonThreadsafeFromAThread) {
    EventLoop loop;
    std::atomic<int> sum{0};
    std::vector<int> order;
    std::thread t([&] {
        for (int i = 1; i <= 100; ++i)
            loop.call_soon_threadsafe([&, i] {
                order.push_back(i);
                sum += i;
                if (i == 100) loop.stop();
            });
    });
    run_with_guard(loop);
    t.join();
    EXPECT_EQ(sum.load(), 5050);
    ASSERT_EQ(order.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i + 1) << "FIFO per thread";
}

TEST(LoopOnly, ThreadsafeRefIsRefusedAfterClose) {
    auto loop = new_event_loop();
    LoopRef ref = loop->threadsafe_ref();
    loop->close();
    EXPECT_THROW(ref.call_soon_threadsafe([] {}), std::runtime_error);
    loop.reset();
    EXPECT_THROW(ref.call_soon_threadsafe([] {}), std::runtime_error) << "the ref outlives the loop";
}

// run_in_executor returns a Future, so it lives in the task layer; what the
// loop offers is its default executor and the door back (call_soon_threadsafe).
TEST(LoopOnly, DefaultExecutorPostsBack) {
    EventLoop loop;
    std::thread::id worker_id;
    bool back_on_loop = false;
    detail::LoopAccess::default_executor(loop).submit_job([&, ref = loop.threadsafe_ref()] {
        worker_id = std::this_thread::get_id();
        ref.call_soon_threadsafe([&] {
            back_on_loop = std::this_thread::get_id() != worker_id;
            loop.stop();
        });
    });
    run_with_guard(loop);
    EXPECT_TRUE(back_on_loop);
    loop.close();
}

TEST(LoopOnly, ExceptionInCallbackGoesToTheHandler) {
    EventLoop loop;
    std::string seen;
    loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { seen = ctx.message; });
    loop.call_soon([] { throw std::runtime_error("boom"); });
    loop.call_soon([&] { loop.stop(); });
    run_with_guard(loop);
    EXPECT_EQ(seen, "Exception in callback");
}

TEST(LoopOnly, CloseDropsPendingCallbacks) {
    EventLoop loop;
    bool ran = false;
    Handle h = loop.call_soon([&] { ran = true; });
    loop.close();
    EXPECT_TRUE(loop.is_closed());
    EXPECT_FALSE(ran);
    EXPECT_TRUE(h.cancelled());
    EXPECT_THROW(loop.call_soon([] {}), std::runtime_error);
}

}  // namespace
