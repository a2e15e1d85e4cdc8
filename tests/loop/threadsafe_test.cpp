// Tests of EventLoop::call_soon_threadsafe, the one door into a loop from other
// threads: everything posted runs, per-thread order holds, and a loop blocked
// in its poller wakes up (CPython test_events.py: test_call_soon_threadsafe,
// test_call_soon_threadsafe_same_thread, test_run_once_in_executor's wake-up).
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/loop_test.hpp"

namespace loop_threadsafe_test {

using namespace tulip;
using namespace std::chrono_literals;

namespace {

class ThreadsafeTest : public test::RealTimeLoopTest {
protected:
    // Runs the loop until `done()` holds or test::kLoopbackTimeout passes (a
    // bound that must never be reached); returns whether done() held.
    template <class P>
    bool run_until_or_timeout(P done) {
        bool timed_out = false;
        TimerHandle guard = loop().call_later(Seconds(test::kLoopbackTimeout), [&] { timed_out = true; });
        while (!done() && !timed_out) run_once();
        guard.cancel();
        return done();
    }
};

// Joins on scope exit, so a failed assertion never leaves a thread running.
struct Joiner {
    std::vector<std::thread>& threads;
    ~Joiner() {
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }
};

}  // namespace

TEST_F(ThreadsafeTest, CallsFromManyThreadsAllRunAndKeepEachThreadsOrder) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 10000;
    // Only the loop thread touches these (inside the callbacks).
    std::vector<int> next_expected(kThreads, 0);
    int out_of_order = 0;
    int total = 0;

    std::latch start(kThreads);
    std::vector<std::thread> threads;
    Joiner joiner{threads};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            start.arrive_and_wait();  // all producers post at the same time
            for (int i = 0; i < kPerThread; ++i) {
                loop().call_soon_threadsafe([&, t, i] {
                    if (next_expected[static_cast<std::size_t>(t)] != i) ++out_of_order;
                    next_expected[static_cast<std::size_t>(t)] = i + 1;
                    ++total;
                });
            }
        });
    }
    EXPECT_TRUE(run_until_or_timeout([&] { return total == kThreads * kPerThread; }))
        << "only " << total << " callbacks arrived";
    for (auto& t : threads) t.join();
    EXPECT_EQ(out_of_order, 0);
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next_expected[static_cast<std::size_t>(t)], kPerThread);
}

TEST_F(ThreadsafeTest, APostWakesALoopBlockedInItsPoller) {
    // The loop has nothing to do but a guard timer far away, so it sleeps in
    // epoll_wait; only the eventfd written by call_soon_threadsafe can end that.
    std::atomic<bool> loop_started{false};
    bool stopped_by_thread = false;
    bool guard_fired = false;
    loop().call_soon([&] { loop_started = true; });
    TimerHandle guard = loop().call_later(Seconds(test::kLoopbackTimeout), [&] {
        guard_fired = true;
        loop().stop();
    });
    std::thread poster([&] {
        while (!loop_started) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(20ms);  // give the loop time to block (not needed for correctness)
        loop().call_soon_threadsafe([&] {
            stopped_by_thread = true;
            loop().stop();
        });
    });
    loop().run_forever();
    poster.join();
    guard.cancel();
    EXPECT_TRUE(stopped_by_thread);
    EXPECT_FALSE(guard_fired) << "the loop slept until its guard timer: the post did not wake it";
}

TEST_F(ThreadsafeTest, EveryOneOfManySuccessiveWakeUpsReachesTheLoop) {
    // A ping-pong: the thread posts only after the loop handled the previous
    // post, so each post must wake a loop that has gone back to sleep.
    constexpr int kRounds = 300;
    std::atomic<int> handled{0};
    std::atomic<bool> give_up{false};
    std::thread poster([&] {
        for (int i = 0; i < kRounds && !give_up; ++i) {
            loop().call_soon_threadsafe([&] { handled.fetch_add(1); });
            while (handled.load() <= i && !give_up) std::this_thread::yield();
        }
    });
    bool ok = run_until_or_timeout([&] { return handled.load() == kRounds; });
    give_up = true;
    poster.join();
    EXPECT_TRUE(ok) << "stuck after " << handled.load() << " wake-ups";
}

TEST_F(ThreadsafeTest, CallbacksPostedBeforeTheLoopRunsRunWhenItStarts) {
    std::vector<int> order;
    std::thread poster([&] {
        for (int i = 0; i < 100; ++i) loop().call_soon_threadsafe([&order, i] { order.push_back(i); });
    });
    poster.join();
    EXPECT_TRUE(order.empty());
    run_once();
    ASSERT_EQ(order.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST_F(ThreadsafeTest, FromTheLoopThreadItSchedulesLikeCallSoon) {
    // CPython test_call_soon_threadsafe_same_thread.
    std::vector<std::string> order;
    loop().call_soon([&] {
        order.push_back("first");
        loop().call_soon_threadsafe([&] { order.push_back("threadsafe"); });
    });
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"first"})) << "it must not run inline";
    run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"first", "threadsafe"}));
}

TEST_F(ThreadsafeTest, ItsHandleCanBeCancelledOnTheLoopThreadBeforeItRuns) {
    auto token = std::make_shared<int>(0);
    bool ran = false;
    Handle h = loop().call_soon_threadsafe([token, &ran] { ran = true; });
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(token.use_count(), 1);
    bool other_ran = false;
    loop().call_soon([&] { other_ran = true; });
    run_once();
    EXPECT_TRUE(other_ran);
    EXPECT_FALSE(ran);
}

TEST_F(ThreadsafeTest, AnExceptionInAPostedCallbackGoesToTheHandler) {
    expect_handler_calls = true;
    bool after = false;
    std::thread poster([&] {
        loop().call_soon_threadsafe([] { throw std::runtime_error("posted failure"); });
        loop().call_soon_threadsafe([&] { after = true; });
    });
    poster.join();
    EXPECT_TRUE(run_until_or_timeout([&] { return after; }));
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(describe_exception(handler_calls[0].exception), "std::runtime_error: posted failure");
}

TEST_F(ThreadsafeTest, PostingToAClosedLoopThrowsOnTheCallingThread) {
    loop().close();
    auto token = std::make_shared<int>(0);
    std::string error;
    std::thread poster([&] {
        try {
            loop().call_soon_threadsafe([token] {});
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
    });
    poster.join();
    EXPECT_NE(error.find("closed"), std::string::npos) << error;
    EXPECT_EQ(token.use_count(), 1) << "the refused callback must be released";
}

TEST_F(ThreadsafeTest, ClosingTheLoopReleasesCallbacksPostedButNotYetRun) {
    auto token = std::make_shared<int>(0);
    bool ran = false;
    std::thread poster([&] {
        for (int i = 0; i < 10; ++i) loop().call_soon_threadsafe([token, &ran] { ran = true; });
    });
    poster.join();
    EXPECT_EQ(token.use_count(), 11);
    loop().close();
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_FALSE(ran);
}

TEST_F(ThreadsafeTest, AVirtualTimeLoopWaitsForRealWhileThreadWorkIsPending) {
    // external_pending tells a virtual-time loop that a thread will post back:
    // it must wait for that post instead of jumping the clock to the next timer.
    EventLoopOptions o;
    o.virtual_time = true;
    auto vloop = new_event_loop(o);
    bool timer_ran = false;
    bool posted_ran = false;
    vloop->call_later(100.0, [&] { timer_ran = true; });
    tulip::detail::LoopAccess::external_pending(*vloop).fetch_add(1);
    std::thread worker([&] {
        std::this_thread::sleep_for(20ms);
        vloop->call_soon_threadsafe([&] {
            tulip::detail::LoopAccess::external_pending(*vloop).fetch_sub(1);
            posted_ran = true;
        });
    });
    while (!posted_ran && !timer_ran) tulip::detail::LoopAccess::run_once(*vloop);
    worker.join();
    EXPECT_TRUE(posted_ran);
    EXPECT_FALSE(timer_ran) << "the clock jumped while a thread's result was pending";
    EXPECT_DOUBLE_EQ(vloop->time(), 0.0);
    tulip::detail::LoopAccess::run_once(*vloop);  // now idle: the clock may jump
    EXPECT_TRUE(timer_ran);
    EXPECT_DOUBLE_EQ(vloop->time(), 100.0);
    vloop->close();
}

}  // namespace loop_threadsafe_test
