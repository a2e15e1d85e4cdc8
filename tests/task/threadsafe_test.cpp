// Tests of run_coroutine_threadsafe (asyncio.run_coroutine_threadsafe), ported
// from RunCoroutineThreadsafeTests in CPython's Lib/test/test_asyncio/test_tasks.py.
//
// As CPython does, the submitting thread is usually an executor thread
// (to_thread), so the loop keeps running while that thread blocks on the
// ConcurrentFuture; one test uses a plain std::thread. These tests are about
// real threads, so they run on the real clock with short sleeps.
#include <tulip/task/threadsafe.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/loop_test.hpp"

namespace task_threadsafe_test {

using namespace tulip;

namespace {

class RunCoroutineThreadsafe : public test::RealTimeLoopTest {};

Coro<int> add(int a, int b) {
    co_await sleep(0.001);
    co_return a + b;
}

Coro<int> fail() {
    co_await sleep(0.001);
    throw std::runtime_error("Fail!");
}

Coro<int> cancel_self() {
    current_task().cancel();
    co_await sleep(0);
    co_return 0;
}

Coro<void> touch(std::atomic<int>* counter) {
    counter->fetch_add(1);
    co_return;
}

// Tells the submitting thread it started, then sleeps; records a cancellation.
Coro<int> long_sleep(std::promise<void>* started, std::atomic<bool>* saw_cancel) {
    started->set_value();
    try {
        co_await sleep(30);
    } catch (const CancelledError&) {
        saw_cancel->store(true);
        throw;
    }
    co_return 0;
}

// Like long_sleep, but turns the cancellation into a result after a while.
Coro<int> swallow_cancel(std::promise<void>* started) {
    started->set_value();
    try {
        co_await sleep(30);
    } catch (const CancelledError&) {}
    co_await sleep(0.01);
    co_return 5;
}

// Waits (bounded) until the loop has no task left but the caller.
Coro<bool> only_current_task_left() {
    for (int i = 0; i < 1000; ++i) {
        if (all_tasks().size() == 1) co_return true;
        co_await sleep(0.001);
    }
    co_return false;
}

TEST_F(RunCoroutineThreadsafe, DeliversTheResultToAPlainThread) {
    int value = 0;
    std::string error;
    auto done = loop().create_future<void>();
    std::thread submitter([&] {
        try {
            auto cf = run_coroutine_threadsafe(add(1, 2), loop());
            value = cf.result(test::kLoopbackTimeout);
        } catch (const std::exception& e) {
            error = e.what();
        } catch (...) {
            error = "an exception outside std::exception";
        }
        // Only the loop's thread may touch its futures.
        loop().call_soon_threadsafe([&done] { done.set_result(); });
    });
    run(done);
    submitter.join();
    EXPECT_EQ(value, 3);
    EXPECT_EQ(error, "");
}

TEST_F(RunCoroutineThreadsafe, DeliversTheResultToAnExecutorThread) {
    auto main = [&]() -> Coro<void> {
        int r = co_await to_thread(
            [&loop = loop()] { return run_coroutine_threadsafe(add(1, 2), loop).result(test::kLoopbackTimeout); });
        EXPECT_EQ(r, 3);
    };
    run(main());
}

TEST_F(RunCoroutineThreadsafe, RunsAVoidCoroutine) {
    auto main = [&]() -> Coro<void> {
        std::atomic<int> counter{0};
        co_await to_thread([&loop = loop(), &counter] {
            auto cf = run_coroutine_threadsafe(touch(&counter), loop);
            cf.result(test::kLoopbackTimeout);
        });
        EXPECT_EQ(counter.load(), 1);
    };
    run(main());
}

TEST_F(RunCoroutineThreadsafe, RethrowsTheCoroutinesException) {
    auto main = [&]() -> Coro<void> {
        std::string what = co_await to_thread([&loop = loop()]() -> std::string {
            auto cf = run_coroutine_threadsafe(fail(), loop);
            try {
                cf.result(test::kLoopbackTimeout);
            } catch (const std::runtime_error& e) {
                return e.what();
            }
            return "no exception";
        });
        EXPECT_EQ(what, "Fail!");
    };
    run(main());
}

TEST_F(RunCoroutineThreadsafe, ATimeoutOnResultRaisesTimeoutErrorAndCancelStopsTheTask) {
    // test_run_coroutine_threadsafe_with_timeout: result(0) times out, the
    // submitter then cancels, and no task is left pending.
    auto main = [&]() -> Coro<void> {
        std::promise<void> started;
        std::atomic<bool> saw_cancel{false};
        bool timed_out = co_await to_thread([&loop = loop(), &started, &saw_cancel] {
            auto cf = run_coroutine_threadsafe(long_sleep(&started, &saw_cancel), loop);
            bool t = false;
            try {
                cf.result(std::chrono::seconds(0));
            } catch (const TimeoutError&) {
                t = true;
            }
            if (!cf.done()) cf.cancel();
            return t;
        });
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(co_await only_current_task_left());
    };
    run(main());
}

TEST_F(RunCoroutineThreadsafe, ATaskThatCancelsItselfGivesCancelledError) {
    auto main = [&]() -> Coro<void> {
        bool cancelled = co_await to_thread([&loop = loop()] {
            auto cf = run_coroutine_threadsafe(cancel_self(), loop);
            try {
                cf.result(test::kLoopbackTimeout);
            } catch (const CancelledError&) {
                return cf.cancelled();
            }
            return false;
        });
        EXPECT_TRUE(cancelled);
    };
    run(main());
}

TEST_F(RunCoroutineThreadsafe, CancellingTheConcurrentFutureCancelsTheTask) {
    auto main = [&]() -> Coro<void> {
        std::promise<void> started;
        std::atomic<bool> saw_cancel{false};
        bool outcome = co_await to_thread([&loop = loop(), &started, &saw_cancel] {
            auto cf = run_coroutine_threadsafe(long_sleep(&started, &saw_cancel), loop);
            if (started.get_future().wait_for(test::kLoopbackTimeout) != std::future_status::ready) return false;
            if (!cf.cancel()) return false;
            try {
                cf.result(test::kLoopbackTimeout);
            } catch (const CancelledError&) {
                return cf.cancelled();
            }
            return false;
        });
        EXPECT_TRUE(outcome);
        EXPECT_TRUE(co_await only_current_task_left());
        EXPECT_TRUE(saw_cancel.load());
    };
    run(main());
}

TEST_F(RunCoroutineThreadsafe, ACancelledConcurrentFutureStaysCancelledEvenIfTheTaskSwallowsIt) {
    // concurrent.futures: cancel() returning true means cancelled() from then
    // on; a result the task produces anyway is dropped.
    auto main = [&]() -> Coro<void> {
        std::promise<void> started;
        bool outcome = co_await to_thread([&loop = loop(), &started] {
            auto cf = run_coroutine_threadsafe(swallow_cancel(&started), loop);
            if (started.get_future().wait_for(test::kLoopbackTimeout) != std::future_status::ready) return false;
            if (!cf.cancel()) return false;
            if (!cf.cancelled()) return false;
            try {
                cf.result(test::kLoopbackTimeout);
            } catch (const CancelledError&) {
                return true;
            }
            return false;
        });
        EXPECT_TRUE(outcome);
        EXPECT_TRUE(co_await only_current_task_left());
    };
    run(main());
}

}  // namespace

}  // namespace task_threadsafe_test
