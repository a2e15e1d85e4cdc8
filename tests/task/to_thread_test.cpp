// Tests of to_thread (asyncio.to_thread), ported from CPython's
// Lib/test/test_asyncio/test_threads.py, plus its cancellation contract.
#include <tulip/task/to_thread.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/loop_test.hpp"

namespace task_to_thread_test {

using namespace tulip;

namespace {

class ToThread : public test::LoopTest {};

// A one-shot gate a worker thread waits on, bounded by kLoopbackTimeout.
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    void release() {
        std::lock_guard g(mu);
        open = true;
        cv.notify_all();
    }
    bool wait() {
        std::unique_lock g(mu);
        return cv.wait_for(g, test::kLoopbackTimeout, [&] { return open; });
    }
};

// Counts arrivals; wait() returns true once `expected` threads are inside at the same time.
struct Rendezvous {
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
    int expected;
    explicit Rendezvous(int n) : expected(n) {}
    bool arrive_and_wait() {
        std::unique_lock g(mu);
        ++arrived;
        cv.notify_all();
        return cv.wait_for(g, test::kLoopbackTimeout, [&] { return arrived >= expected; });
    }
};

Coro<int> blocked_call(Gate* gate, std::atomic<bool>* finished) {
    co_return co_await to_thread([gate, finished] {
        bool opened = gate->wait();
        finished->store(true);
        return opened ? 1 : 0;
    });
}

Coro<bool> meet_on_a_thread(Rendezvous* r) {
    co_return co_await to_thread([r] { return r->arrive_and_wait(); });
}

TEST_F(ToThread, ReturnsTheFunctionsResult) {
    auto main = [&]() -> Coro<void> {
        std::string r = co_await to_thread([] { return std::string("test"); });
        EXPECT_EQ(r, "test");
    };
    run(main());
}

TEST_F(ToThread, CallsTheFunctionExactlyOnce) {
    auto main = [&]() -> Coro<void> {
        std::atomic<int> calls{0};
        co_await to_thread([&calls] { calls.fetch_add(1); });
        EXPECT_EQ(calls.load(), 1);
    };
    run(main());
}

TEST_F(ToThread, RunsTheFunctionOnAnotherThread) {
    auto main = [&]() -> Coro<void> {
        auto worker = co_await to_thread([] { return std::this_thread::get_id(); });
        EXPECT_NE(worker, std::this_thread::get_id());
    };
    run(main());
}

TEST_F(ToThread, PassesArgumentsIncludingMoveOnlyOnes) {
    auto main = [&]() -> Coro<void> {
        int r = co_await to_thread([](std::unique_ptr<int> p, int k) { return *p * k; }, std::make_unique<int>(6), 7);
        EXPECT_EQ(r, 42);
        std::string s = co_await to_thread([](std::string a, const std::string& b) { return a + b; },
                                           std::string("left"), std::string("right"));
        EXPECT_EQ(s, "leftright");
    };
    run(main());
}

TEST_F(ToThread, RethrowsWhatTheFunctionThrew) {
    auto main = [&]() -> Coro<void> {
        bool raised = false;
        try {
            co_await to_thread([]() -> int { throw std::invalid_argument("bad input"); });
        } catch (const std::invalid_argument& e) {
            raised = true;
            EXPECT_STREQ(e.what(), "bad input");
        }
        EXPECT_TRUE(raised);
    };
    run(main());
}

TEST_F(ToThread, ConcurrentCallsAllRun) {
    // test_to_thread_concurrent.
    auto main = [&]() -> Coro<void> {
        std::atomic<int> calls{0};
        std::vector<Coro<void>> coros;
        for (int i = 0; i < 10; ++i) coros.push_back(to_thread([&calls] { calls.fetch_add(1); }));
        co_await gather(std::move(coros));
        EXPECT_EQ(calls.load(), 10);
    };
    run(main());
}

TEST_F(ToThread, CallsRunInParallelOnSeparateThreads) {
    // Each call waits until the other is running too: this only completes if
    // both are on threads at the same time.
    auto main = [&]() -> Coro<void> {
        Rendezvous r(2);
        auto [a, b] = co_await gather(meet_on_a_thread(&r), meet_on_a_thread(&r));
        EXPECT_TRUE(a);
        EXPECT_TRUE(b);
    };
    run(main());
}

TEST_F(ToThread, CancellingTheCallerReturnsAtOnceWhileTheFunctionRunsOn) {
    auto main = [&]() -> Coro<void> {
        Gate gate;
        std::atomic<bool> finished{false};
        auto t = create_task(blocked_call(&gate, &finished));
        co_await sleep(0);  // the call is on its thread, blocked on the gate
        t.cancel();
        bool cancelled = false;
        try {
            co_await t;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_FALSE(finished.load());  // a thread cannot be interrupted: still blocked
        gate.release();
        for (int i = 0; i < 100000 && !finished.load(); ++i) co_await sleep(0.001);
        EXPECT_TRUE(finished.load());
    };
    run(main());
}

}  // namespace

}  // namespace task_to_thread_test
