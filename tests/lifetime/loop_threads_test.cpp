// Lifetime matrix: the event loop and the threads that reach into it (executor
// jobs, threads posting with call_soon_threadsafe, run_coroutine_threadsafe,
// the default executor's shutdown). Each case closes or destroys one side
// before, during or after the other's operation and checks: no memory error
// (asan preset), no data race (tsan preset), no leak, no hang (every wait is
// bounded), and a clear exception where the operation can no longer succeed.
#include <tulip/loop/loop_ref.hpp>
#include <tulip/loop/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tulip/loop/loop_access.hpp>
#include <tulip/task/threadsafe.hpp>
#include <tulip/task/to_thread.hpp>

#include "support/gate.hpp"
#include "support/loop_test.hpp"

namespace lifetime_loop_threads_test {

using namespace tulip;
using namespace std::chrono_literals;

namespace {

using test::Gate;

// Polls pred from a plain thread, bounded by the loopback timeout.
template <class P>
bool wait_until(P pred) {
    auto deadline = std::chrono::steady_clock::now() + test::kLoopbackTimeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// One iteration of a loop that may have nothing else to do (never blocks).
void step_loop(EventLoop& l) {
    l.call_soon([] {});
    tulip::detail::LoopAccess::run_once(l);
}

Coro<void> poll_flag(std::atomic<bool>* flag) {
    while (!flag->load()) co_await sleep(0.001);
}
// Runs the loop until *flag is set (bounded by the loopback timeout).
Coro<void> until_set(std::atomic<bool>* flag) {
    Coro<void> poll = poll_flag(flag);
    co_await wait_for(std::move(poll), test::kLoopbackTimeout);
}

// Counts how many callables (the last copy of each) were destroyed.
struct Counted {
    explicit Counted(std::atomic<int>* c) : count(c) {}
    Counted(const Counted& o) : count(o.count) {}
    Counted(Counted&& o) noexcept : count(std::exchange(o.count, nullptr)) {}
    Counted& operator=(const Counted&) = delete;
    ~Counted() {
        if (count) count->fetch_add(1, std::memory_order_relaxed);
    }
    std::atomic<int>* count;
};

class LoopAndExecutorJob : public test::RealTimeLoopTest {};
class LoopAndPostingThread : public test::RealTimeLoopTest {};
class LoopAndRunCoroutineThreadsafe : public test::RealTimeLoopTest {};
class LoopAndThreadsafeHandle : public test::RealTimeLoopTest {};
class ShutdownDefaultExecutor : public test::LoopTest {};  // virtual time
class ShutdownDefaultExecutorRealTime : public test::RealTimeLoopTest {};

// ---- loop and executor job ---------------------------------------------------

TEST_F(LoopAndExecutorJob, LoopClosedAndDestroyedBeforeTheJobStarts) {
    ThreadPoolExecutor pool(1, "lifetime");
    Gate gate;
    std::atomic<bool> ran{false};
    pool.submit_job([&] { gate.wait(); });  // keeps the only worker busy
    {
        auto l = new_event_loop();
        auto fut = l->run_in_executor(&pool, [&] {
            ran = true;
            return std::string(1000, 'x');
        });
        (void)fut;
        l->close();
    }
    gate.open();
    pool.shutdown(true);  // the job runs, its post-back is refused
    EXPECT_TRUE(ran);
}

// The original report: a to_thread job still running when its loop is closed
// and destroyed posts back through the dead loop when it ends.
TEST_F(LoopAndExecutorJob, LoopClosedAndDestroyedWhileAToThreadJobRuns) {
    Gate gate;
    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};
    {
        auto l = new_event_loop();
        auto t = l->create_task(to_thread([&] {
            started = true;
            gate.wait();
            finished = true;
            return std::string(1000, 'x');
        }));
        l->run_until_complete(until_set(&started));
        t = Task<std::string>();
        l->close();  // the pending task is dropped, the default executor let go
    }
    gate.open();
    ASSERT_TRUE(wait_until([&] { return finished.load(); }));
    // The worker now posts to the gone loop and exits; TearDown waits for it.
}

TEST_F(LoopAndExecutorJob, LoopClosedAndDestroyedWhileAJobOnAUserExecutorRuns) {
    ThreadPoolExecutor pool(1, "lifetime");
    Gate gate;
    std::atomic<bool> started{false};
    {
        auto l = new_event_loop();
        auto fut = l->run_in_executor(&pool, [&] {
            started = true;
            gate.wait();
            return 7;
        });
        ASSERT_TRUE(wait_until([&] { return started.load(); }));
        l->close();
        EXPECT_FALSE(fut.done()) << "nobody can complete it any more; it stays pending";
    }
    gate.open();
    pool.shutdown(true);
}

TEST_F(LoopAndExecutorJob, AJobThatThrowsAfterItsLoopIsGoneDropsItsException) {
    ThreadPoolExecutor pool(1, "lifetime");
    Gate gate;
    std::atomic<bool> started{false};
    {
        auto l = new_event_loop();
        auto fut = l->run_in_executor(&pool, [&]() -> int {
            started = true;
            gate.wait();
            throw std::runtime_error("too late");
        });
        ASSERT_TRUE(wait_until([&] { return started.load(); }));
        l->close();
    }
    gate.open();
    pool.shutdown(true);
}

TEST_F(LoopAndExecutorJob, LoopClosedAfterTheJobPostedBackButBeforeThePostBackRan) {
    ThreadPoolExecutor pool(1, "lifetime");
    auto l = new_event_loop();
    auto token = std::make_shared<int>(0);
    auto fut = l->run_in_executor(&pool, [token] { return token; });
    pool.shutdown(true);  // the job has ended and posted its result
    EXPECT_FALSE(fut.done());
    l->close();  // drops the post-back with the result in it, on this thread
    EXPECT_FALSE(fut.done());
    fut = Future<std::shared_ptr<int>>();
    EXPECT_EQ(token.use_count(), 1) << "the result held by the dropped post-back must be released";
    l.reset();
}

TEST_F(LoopAndExecutorJob, FutureCancelledWhileItsJobRunsThenTheLoopIsClosedAndDestroyed) {
    ThreadPoolExecutor pool(1, "lifetime");
    Gate gate;
    std::atomic<bool> started{false};
    {
        auto l = new_event_loop();
        auto fut = l->run_in_executor(&pool, [&] {
            started = true;
            gate.wait();
            return 1;
        });
        ASSERT_TRUE(wait_until([&] { return started.load(); }));
        EXPECT_TRUE(fut.cancel());
        l->close();
    }
    gate.open();
    pool.shutdown(true);
}

TEST_F(LoopAndExecutorJob, FutureCancelledWhileItsJobRunsTheLateResultIsDroppedOnTheLoop) {
    Gate gate;
    std::atomic<bool> started{false};
    auto token = std::make_shared<int>(0);
    auto fut = loop().run_in_executor(nullptr, [&, token] {
        started = true;
        gate.wait();
        return token;
    });
    ASSERT_TRUE(wait_until([&] { return started.load(); }));
    EXPECT_TRUE(fut.cancel());
    gate.open();
    // The post-back still arrives (external_pending counts it) and finds the
    // future cancelled: the result is dropped on the loop thread.
    run_until([&] { return tulip::detail::LoopAccess::external_pending(loop()).load() == 0; });
    EXPECT_TRUE(fut.cancelled());
    fut = Future<std::shared_ptr<int>>();
    EXPECT_TRUE(wait_until([&] { return token.use_count() == 1; }));
}

// ---- loop and a thread posting to it ----------------------------------------

TEST_F(LoopAndPostingThread, PostsFromAThreadBeforeTheLoopRunsRunWhenItRuns) {
    LoopRef ref = loop().threadsafe_ref();
    std::atomic<int> ran{0};
    std::thread poster([&] {
        for (int i = 0; i < 100; ++i) ref.call_soon_threadsafe([&] { ran.fetch_add(1); });
    });
    poster.join();
    EXPECT_EQ(ran.load(), 0);
    run_briefly();
    EXPECT_EQ(ran.load(), 100);
}

TEST_F(LoopAndPostingThread, FourThreadsPostTenThousandCallbacksWhileTheLoopRuns) {
    constexpr int kThreads = 4, kEach = 2500;
    LoopRef ref = loop().threadsafe_ref();
    int ran = 0;  // loop thread only
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([ref, &ran] {
            for (int i = 0; i < kEach; ++i) ref.call_soon_threadsafe([&ran] { ++ran; });
        });
    run_until([&] { return ran == kThreads * kEach; }, 100000000);
    for (auto& t : threads) t.join();
    EXPECT_EQ(ran, kThreads * kEach);
}

TEST_F(LoopAndPostingThread, ThreadsPostingWhileTheLoopClosesAreRefusedAndNothingIsLost) {
    constexpr int kThreads = 4;
    auto l = new_event_loop();
    LoopRef ref = l->threadsafe_ref();
    std::atomic<int> destroyed{0};
    std::atomic<int> attempts{0};
    std::atomic<int> refused{0};
    int ran = 0;  // loop thread only
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, ref] {
            for (int n = 0;; ++n) {
                if (n % 64 == 0) std::this_thread::yield();  // let the loop keep up
                attempts.fetch_add(1);
                try {
                    ref.call_soon_threadsafe([&ran, c = Counted(&destroyed)] { ++ran; });
                } catch (const std::runtime_error& e) {
                    EXPECT_STREQ(e.what(), "Event loop is closed");
                    refused.fetch_add(1);
                    return;
                }
            }
        });
    while (ran < 10000) tulip::detail::LoopAccess::run_once(*l);
    l->close();  // while the threads are still posting
    for (auto& t : threads) t.join();
    EXPECT_EQ(refused.load(), kThreads);
    EXPECT_TRUE(ref.is_closed());
    EXPECT_EQ(destroyed.load(), attempts.load()) << "every callable, run, dropped or refused, is released";
    l.reset();
}

TEST_F(LoopAndPostingThread, AThreadKeepingALoopRefIsRefusedAfterTheLoopIsDestroyed) {
    auto l = new_event_loop();
    LoopRef ref = l->threadsafe_ref();
    l.reset();
    EXPECT_TRUE(ref.is_closed());
    auto token = std::make_shared<int>(0);
    std::string error;
    std::thread poster([&] {
        try {
            ref.call_soon_threadsafe([token] {});
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
    });
    poster.join();
    EXPECT_EQ(error, "Event loop is closed");
    EXPECT_EQ(token.use_count(), 1) << "the refused callable is released on the posting thread";
}

TEST_F(LoopAndPostingThread, ALoopRefOutlivingItsLoopKeepsNoFileDescriptor) {
    std::size_t before = test::open_fd_count();
    auto l = new_event_loop();
    LoopRef ref = l->threadsafe_ref();
    l.reset();
    EXPECT_EQ(test::open_fd_count(), before);
}

// A thread posts stop(); the loop stops, and is closed and destroyed at once,
// while the posting call may still be returning on the other thread.
TEST_F(LoopAndPostingThread, ALoopDestroyedRightAfterAPostedStopRan) {
    for (int i = 0; i < 200; ++i) {
        auto l = new_event_loop();
        EventLoop* raw = l.get();
        std::thread poster([raw] { raw->call_soon_threadsafe([raw] { raw->stop(); }); });
        l->run_forever();
        l.reset();
        poster.join();
    }
}

// ---- run_coroutine_threadsafe ------------------------------------------------

Coro<int> answer() { co_return 42; }

Coro<int> wait_forever(std::atomic<bool>* started) {
    started->store(true);
    auto f = Future<void>::create(get_running_loop());
    co_await f;
    co_return 0;
}

TEST_F(LoopAndRunCoroutineThreadsafe, ALoopClosedBeforeTheCallRefusesIt) {
    auto l = new_event_loop();
    LoopRef ref = l->threadsafe_ref();
    l->close();
    std::string error;
    std::thread caller([&] {
        try {
            (void)run_coroutine_threadsafe(answer(), ref);
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
    });
    caller.join();
    EXPECT_EQ(error, "Event loop is closed");
}

TEST_F(LoopAndRunCoroutineThreadsafe, ALoopClosedBeforeTheCoroutineStartsFailsTheFuture) {
    auto l = new_event_loop();
    ConcurrentFuture<int> cf;
    std::thread caller([&] { cf = run_coroutine_threadsafe(answer(), l->threadsafe_ref()); });
    caller.join();
    l->close();
    l.reset();
    try {
        (void)cf.result(test::kLoopbackTimeout);
        ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("Event loop is closed"), std::string::npos) << e.what();
    }
}

TEST_F(LoopAndRunCoroutineThreadsafe, ALoopClosedWhileTheCoroutineRunsFailsTheFuture) {
    auto l = new_event_loop();
    std::atomic<bool> started{false};
    ConcurrentFuture<int> cf;
    std::thread caller([&] { cf = run_coroutine_threadsafe(wait_forever(&started), l->threadsafe_ref()); });
    caller.join();
    l->run_until_complete(until_set(&started));
    l->close();  // the pending task is destroyed
    l.reset();
    std::string error;
    std::thread waiter([&] {
        try {
            (void)cf.result(test::kLoopbackTimeout);
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
    });
    waiter.join();
    EXPECT_NE(error.find("Event loop is closed"), std::string::npos) << error;
    // Cancelling it now must not reach for the gone loop.
    EXPECT_FALSE(cf.cancel());
}

TEST_F(LoopAndRunCoroutineThreadsafe, ALoopClosedAndDestroyedAfterTheCoroutineCompletedKeepsTheResult) {
    auto l = new_event_loop();
    auto cf = run_coroutine_threadsafe(answer(), *l);
    while (!cf.done()) step_loop(*l);
    l->close();
    l.reset();
    EXPECT_EQ(cf.result(test::kLoopbackTimeout), 42);
    EXPECT_FALSE(cf.cancel());
}

TEST_F(LoopAndRunCoroutineThreadsafe, CancelledFromAThreadBeforeItStartedThenTheLoopIsClosedAndDestroyed) {
    auto l = new_event_loop();
    auto cf = run_coroutine_threadsafe(answer(), *l);
    bool cancelled = false;
    std::thread canceller([&] { cancelled = cf.cancel(); });
    canceller.join();
    EXPECT_TRUE(cancelled);
    l->close();  // drops the submission and the cancel hook's post
    l.reset();
    EXPECT_TRUE(cf.cancelled());
    EXPECT_THROW((void)cf.result(test::kLoopbackTimeout), CancelledError);
}

// ---- Handle of call_soon_threadsafe, cancelled from another thread ------------

TEST_F(LoopAndThreadsafeHandle, CancelledFromItsThreadBeforeTheLoopRunsItNeverRuns) {
    LoopRef ref = loop().threadsafe_ref();
    auto token = std::make_shared<int>(0);
    bool ran = false;
    std::thread poster([&] {
        Handle h = ref.call_soon_threadsafe([token, &ran] { ran = true; });
        h.cancel();
        EXPECT_TRUE(h.cancelled());
    });
    poster.join();
    EXPECT_EQ(token.use_count(), 1) << "cancel releases the captures";
    run_briefly();
    EXPECT_FALSE(ran);
}

// Many posts, every other one cancelled from the posting thread while the loop
// runs them: the others all run, a cancelled one runs at most once (if the
// loop had started it), and every callable is released.
TEST_F(LoopAndThreadsafeHandle, CancelledFromAnotherThreadWhileTheLoopRunsEachRunsOrNot) {
    constexpr int kPosts = 5000;
    LoopRef ref = loop().threadsafe_ref();
    std::vector<char> ran(kPosts, 0);  // written on the loop thread, read after the join
    std::vector<char> cancelled(kPosts, 0);
    std::atomic<int> destroyed{0};
    std::atomic<int> seen{0};
    std::thread poster([&] {
        for (int i = 0; i < kPosts; ++i) {
            Handle h = ref.call_soon_threadsafe([&ran, &seen, i, c = Counted(&destroyed)] {
                ran[static_cast<std::size_t>(i)] = 1;
                seen.fetch_add(1);
            });
            if (i % 2 == 0) h.cancel();
            cancelled[static_cast<std::size_t>(i)] = h.cancelled() ? 1 : 0;
        }
    });
    // Every callable is released once it ran or was cancelled.
    auto deadline = std::chrono::steady_clock::now() + test::kLoopbackTimeout;
    while (destroyed.load() < kPosts && std::chrono::steady_clock::now() < deadline) step_loop(loop());
    poster.join();
    ASSERT_EQ(destroyed.load(), kPosts);
    int ran_count = 0;
    for (int i = 0; i < kPosts; ++i) {
        auto k = static_cast<std::size_t>(i);
        EXPECT_EQ(cancelled[k], i % 2 == 0 ? 1 : 0) << "post " << i;
        if (i % 2 != 0) {
            EXPECT_TRUE(ran[k]) << "post " << i << " was not cancelled and did not run";
        }
        ran_count += ran[k];
    }
    EXPECT_EQ(seen.load(), ran_count);
}

TEST_F(LoopAndThreadsafeHandle, CancelledFromAnotherThreadAfterItRanIsOnlyMarked) {
    LoopRef ref = loop().threadsafe_ref();
    std::atomic<bool> ran{false};
    Handle h;
    std::thread poster([&] { h = ref.call_soon_threadsafe([&] { ran = true; }); });
    poster.join();
    run_briefly();
    EXPECT_TRUE(ran);
    std::thread canceller([&] { h.cancel(); });
    canceller.join();
    EXPECT_TRUE(h.cancelled()) << "as asyncio's Handle.cancel() after the callback ran";
    run_briefly();
}

TEST_F(LoopAndThreadsafeHandle, CancelledFromAnotherThreadAfterTheLoopIsDestroyed) {
    auto l = new_event_loop();
    auto token = std::make_shared<int>(0);
    Handle h;
    std::thread poster([&] { h = l->call_soon_threadsafe([token] {}); });
    poster.join();
    l.reset();  // close() released the captures of the never-run callback
    EXPECT_EQ(token.use_count(), 1);
    std::thread canceller([&] { h.cancel(); });
    canceller.join();
}

// ---- shutdown_default_executor cancelled or timed out --------------------------

TEST_F(ShutdownDefaultExecutor, TimesOutOnVirtualTimeWithAWarningAndStopsWaiting) {
    Gate gate;
    std::atomic<bool> started{false};
    std::atomic<bool> opened{false};
    auto fut = loop().run_in_executor(nullptr, [&] {
        started = true;
        opened = gate.wait();
    });
    ASSERT_TRUE(wait_until([&] { return started.load(); }));
    run(tulip::shutdown_default_executor(loop(), Seconds(0.01)));
    ASSERT_FALSE(logs.empty());
    EXPECT_EQ(logs.back(), "The executor did not finishing joining its threads within 0.01 seconds.");
    gate.open();
    run(fut);
    EXPECT_TRUE(opened) << "the shutdown waited for the job instead of timing out";
}

TEST_F(ShutdownDefaultExecutorRealTime, TimesOutOnRealTimeWithAWarningAndStopsWaiting) {
    Gate gate;
    std::atomic<bool> started{false};
    std::atomic<bool> opened{false};
    auto fut = loop().run_in_executor(nullptr, [&] {
        started = true;
        opened = gate.wait();
    });
    ASSERT_TRUE(wait_until([&] { return started.load(); }));
    run(tulip::shutdown_default_executor(loop(), Seconds(0.01)));
    ASSERT_FALSE(logs.empty());
    EXPECT_EQ(logs.back(), "The executor did not finishing joining its threads within 0.01 seconds.");
    gate.open();
    run(fut);
    EXPECT_TRUE(opened);
}

TEST_F(ShutdownDefaultExecutorRealTime, CancelledItStopsWaitingWithoutBlockingTheLoop) {
    Gate gate;
    std::atomic<bool> started{false};
    std::atomic<bool> opened{false};
    auto fut = loop().run_in_executor(nullptr, [&] {
        started = true;
        opened = gate.wait();
    });
    ASSERT_TRUE(wait_until([&] { return started.load(); }));
    auto t = loop().create_task(tulip::shutdown_default_executor(loop()));
    step_loop(loop());
    step_loop(loop());
    EXPECT_FALSE(t.done());
    t.cancel();
    run_until([&] { return t.done(); });
    EXPECT_TRUE(t.cancelled());
    gate.open();  // only now: the loop thread must not have waited for the job
    run(fut);
    EXPECT_TRUE(opened) << "the cancelled shutdown blocked the loop on the job";
}

TEST_F(ShutdownDefaultExecutorRealTime, TimedOutThenTheLoopIsClosedAndDestroyedBeforeTheThreadsEnd) {
    Gate gate;
    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};
    {
        auto l = new_event_loop();
        auto fut = l->run_in_executor(nullptr, [&] {
            started = true;
            gate.wait();
            finished = true;
        });
        ASSERT_TRUE(wait_until([&] { return started.load(); }));
        l->run_until_complete(tulip::shutdown_default_executor(*l, Seconds(0.01)));
        fut = Future<void>();
        l->close();
    }
    // The job's post-back and the joiner's both meet a destroyed loop.
    gate.open();
    ASSERT_TRUE(wait_until([&] { return finished.load(); }));
}

}  // namespace

}  // namespace lifetime_loop_threads_test
