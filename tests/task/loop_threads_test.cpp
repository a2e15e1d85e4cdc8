// Tests of run_threads: n loops, one per thread, the calling thread being
// worker 0; every loop exists before any main starts; loops reach each other
// through their LoopRefs; a failing main cancels the others and its error is
// rethrown once all have ended (TaskGroup's rule across threads).
#include <tulip/task/loop_threads.hpp>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <tulip/sync/event.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>

namespace task_loop_threads_test {

using namespace tulip;

TEST(RunThreads, EachMainRunsOnItsOwnThreadAndLoopWorkerZeroOnTheCaller) {
    constexpr std::size_t n = 3;
    std::mutex mu;
    std::set<std::thread::id> threads;
    std::set<EventLoop*> loops;
    std::vector<int> ran(n, 0);
    std::thread::id worker0;
    run_threads(
        [&](std::size_t i, const LoopThreads& all) -> Coro<void> {
            EXPECT_EQ(all.size(), n);
            for (std::size_t j = 0; j < n; ++j) EXPECT_TRUE(all.loop(j)) << "loop " << j << " exists before any main";
            co_await sleep(0.01);
            std::lock_guard g(mu);
            threads.insert(std::this_thread::get_id());
            loops.insert(&get_running_loop());
            ++ran[i];
            if (i == 0) worker0 = std::this_thread::get_id();
        },
        LoopThreadsOptions{.threads = n});
    EXPECT_EQ(threads.size(), n);
    EXPECT_EQ(loops.size(), n);
    EXPECT_EQ(ran, std::vector<int>(n, 1));
    EXPECT_EQ(worker0, std::this_thread::get_id());
}

TEST(RunThreads, LoopsPostToEachOther) {
    // Each worker sends its index to the next worker's loop, which wakes a
    // local Event on receipt: a ring of call_soon_threadsafe posts.
    constexpr std::size_t n = 4;
    std::vector<std::atomic<int>> got(n);
    std::vector<Event*> events(n, nullptr);
    std::atomic<int> ready{0};
    run_threads(
        [&](std::size_t i, const LoopThreads& all) -> Coro<void> {
            Event received;
            events[i] = &received;
            ready.fetch_add(1);
            // Everyone's Event exists before anyone posts.
            while (ready.load() < static_cast<int>(n)) co_await sleep(0.001);
            std::size_t next = (i + 1) % n;
            all.loop(next).call_soon_threadsafe([&, next, i] {
                got[next].store(static_cast<int>(i) + 1);
                events[next]->set();
            });
            co_await received.wait();
            // Stay until every post has landed (a loop must not end under one).
            while (true) {
                bool all_got = true;
                for (auto& g : got) all_got = all_got && g.load() != 0;
                if (all_got) break;
                co_await sleep(0.001);
            }
        },
        LoopThreadsOptions{.threads = n});
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(got[i].load(), static_cast<int>((i + n - 1) % n) + 1);
}

TEST(RunThreads, AFailingMainCancelsTheOthersAndItsErrorIsRethrown) {
    constexpr std::size_t n = 3;
    std::atomic<int> cancelled{0};
    auto t0 = std::chrono::steady_clock::now();
    try {
        run_threads(
            [&](std::size_t i, const LoopThreads&) -> Coro<void> {
                if (i == 1) {
                    co_await sleep(0.02);
                    throw std::runtime_error("worker 1 failed");
                }
                try {
                    co_await sleep(3600);
                } catch (const CancelledError&) {
                    cancelled.fetch_add(1);
                    throw;
                }
            },
            LoopThreadsOptions{.threads = n});
        ADD_FAILURE() << "run_threads returned";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "worker 1 failed");
    }
    EXPECT_EQ(cancelled.load(), 2);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST(RunThreads, AMainFailingAtOnceStopsOthersThatHaveNotStartedYet) {
    for (int round = 0; round < 20; ++round) {
        try {
            run_threads(
                [&](std::size_t i, const LoopThreads&) -> Coro<void> {
                    if (i == 2) throw std::logic_error("at once");
                    co_await sleep(3600);
                },
                LoopThreadsOptions{.threads = 3});
            ADD_FAILURE() << "run_threads returned";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "at once");
        }
    }
}

TEST(RunThreads, PinnedWorkersRunOnTheirCpusAndTheCallerGetsItsAffinityBack) {
    unsigned ncpu = std::thread::hardware_concurrency();
    cpu_set_t before;
    ASSERT_EQ(::sched_getaffinity(0, sizeof before, &before), 0);
    std::vector<int> cpus(2, -1);
    run_threads(
        [&](std::size_t i, const LoopThreads&) -> Coro<void> {
            co_await sleep(0);
            cpus[i] = ::sched_getcpu();
        },
        LoopThreadsOptions{.threads = 2, .pin = true, .first_cpu = 1});
    EXPECT_EQ(cpus[0], static_cast<int>(1 % ncpu));
    EXPECT_EQ(cpus[1], static_cast<int>(2 % ncpu));
    cpu_set_t after;
    ASSERT_EQ(::sched_getaffinity(0, sizeof after, &after), 0);
    EXPECT_TRUE(CPU_EQUAL(&before, &after)) << "the calling thread is still pinned";
}

TEST(RunThreads, NoMainIsRefused) { EXPECT_THROW(run_threads(nullptr), std::invalid_argument); }

}  // namespace task_loop_threads_test
