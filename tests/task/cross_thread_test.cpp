// The paths that cross threads, at the volume the reliability program asks
// for under TSan (docs/reliability.md, part 1): at least 10,000 posts from at
// least 4 threads per test, each result checked. Executor results come back
// to the loop from 4 worker threads; run_coroutine_threadsafe is called from
// 4 plain threads; signals are raised from 4 threads while they also post
// callbacks; 4 loops on 4 threads spawn and reap subprocesses at once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace task_cross_thread_test {

using namespace tulip;

namespace {

constexpr int kThreads = 4;
constexpr int kPosts = 10000;
constexpr int kPerThread = kPosts / kThreads;

class CrossThread : public test::RealTimeLoopTest {};

struct Joiner {
    std::vector<std::thread>& threads;
    ~Joiner() {
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }
};

Coro<std::uint64_t> square_later(std::uint64_t i) {
    co_await sleep(0);
    co_return i* i;
}

}  // namespace

TEST_F(CrossThread, TenThousandExecutorJobsOnFourWorkersAllComeBackWithTheirResults) {
    ThreadPoolExecutor pool(kThreads);
    auto body = [&pool]() -> Coro<void> {
        const std::thread::id loop_thread = std::this_thread::get_id();
        std::atomic<int> off_loop{0};
        std::vector<Future<std::uint64_t>> futures;
        futures.reserve(kPosts);
        for (std::uint64_t i = 0; i < kPosts; ++i)
            futures.push_back(get_running_loop().run_in_executor(&pool, [i, loop_thread, &off_loop] {
                if (std::this_thread::get_id() != loop_thread) off_loop.fetch_add(1, std::memory_order_relaxed);
                return i * 3 + 1;
            }));
        std::uint64_t wrong = 0;
        for (std::uint64_t i = 0; i < kPosts; ++i) {
            // Not in the if's condition: GCC 12 miscompiles co_await there.
            const std::uint64_t got = co_await futures[i];
            if (got != i * 3 + 1) ++wrong;
        }
        EXPECT_EQ(wrong, 0u);
        EXPECT_EQ(off_loop.load(), kPosts) << "every job runs on a worker, none on the loop's thread";
    };
    run(wait_for(body(), test::kLoopbackTimeout * 3));
    pool.shutdown(true);
}

TEST_F(CrossThread, TenThousandRunCoroutineThreadsafeCallsFromFourThreadsAllComplete) {
    std::atomic<int> wrong{0}, finished{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    Joiner joiner{threads};
    LoopRef ref = loop().threadsafe_ref();
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            start.arrive_and_wait();
            std::vector<ConcurrentFuture<std::uint64_t>> mine;
            mine.reserve(kPerThread);
            for (int i = 0; i < kPerThread; ++i)
                mine.push_back(
                    run_coroutine_threadsafe(square_later(static_cast<std::uint64_t>(t * kPerThread + i)), ref));
            for (int i = 0; i < kPerThread; ++i) {
                auto v = static_cast<std::uint64_t>(t * kPerThread + i);
                if (mine[static_cast<std::size_t>(i)].result(std::chrono::seconds(30)) != v * v) wrong.fetch_add(1);
            }
            finished.fetch_add(1);
        });
    }
    auto all_finished = [&]() -> Coro<void> {
        while (finished.load() < kThreads) co_await sleep(0.001);
    };
    run(wait_for(all_finished(), test::kLoopbackTimeout * 3));
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST_F(CrossThread, SignalsRaisedFromFourThreadsWhileTheyPostCallbacksAllReachTheLoop) {
    // Signals coalesce (the handler runs at least once per burst, not once per
    // kill); the posts do not: every one of the 10,000 must run.
    int handled = 0;
    int posted = 0;
    loop().add_signal_handler(SIGUSR1, [&] { ++handled; });
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    Joiner joiner{threads};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            for (int i = 0; i < kPerThread; ++i) {
                if (i % 25 == 0) ::kill(::getpid(), SIGUSR1);
                loop().call_soon_threadsafe([&posted] { ++posted; });
            }
        });
    }
    auto all_arrived = [&]() -> Coro<void> {
        while (posted < kPosts || handled == 0) co_await sleep(0.001);
    };
    run(wait_for(all_arrived(), test::kLoopbackTimeout * 3));
    for (auto& t : threads) t.join();
    EXPECT_EQ(posted, kPosts);
    EXPECT_GE(handled, 1);
    EXPECT_LE(handled, kThreads * kPerThread / 25);
    // After the storm one more signal still gets through.
    const int before = handled;
    ::kill(::getpid(), SIGUSR1);
    auto one_more = [&]() -> Coro<void> {
        while (handled == before) co_await sleep(0.001);
    };
    run(wait_for(one_more(), test::kLoopbackTimeout));
    EXPECT_TRUE(loop().remove_signal_handler(SIGUSR1));
}

TEST(CrossThreadLoops, FourLoopsOnFourThreadsEachSpawnAndReapTwentyFiveChildrenAtOnce) {
    constexpr int kChildren = 25;
    std::atomic<int> reaped_ok{0};
    std::vector<std::thread> threads;
    Joiner joiner{threads};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto main = [t]() -> Coro<int> {
                std::vector<Task<int>> waits;
                for (int i = 0; i < kChildren; ++i) {
                    auto child = [](int code) -> Coro<int> {
                        // Not a braced list inside the coroutine: GCC 12.2 rejects
                        // it there ("array used as initializer").
                        std::vector<std::string> args;
                        args.emplace_back("-c");
                        args.push_back("exit " + std::to_string(code));
                        Process p = co_await create_subprocess_exec("/bin/sh", args);
                        co_return co_await p.wait();
                    };
                    waits.push_back(get_running_loop().create_task(child((t * kChildren + i) % 100)));
                }
                int ok = 0;
                for (int i = 0; i < kChildren; ++i) {
                    const int code = co_await waits[static_cast<std::size_t>(i)];
                    if (code == (t * kChildren + i) % 100) ++ok;
                }
                co_return ok;
            };
            reaped_ok.fetch_add(tulip::run(main()));
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(reaped_ok.load(), kThreads * kChildren) << "every child's own exit code, on its own loop";
    // None left behind for anyone to reap.
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

}  // namespace task_cross_thread_test
