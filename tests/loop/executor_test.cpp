// Tests of ThreadPoolExecutor / ConcurrentFuture (concurrent.futures) and of
// EventLoop::run_in_executor with the default and a user executor (CPython
// test_events.py: test_run_in_executor, test_run_in_executor_cancel,
// test_run_once_in_executor; test_base_events.py: test_run_in_executor,
// test_set_default_executor, test_shutdown_default_executor; and
// test_concurrent_futures' basic submit/result/cancel/shutdown cases).
#include <tulip/loop/loop_access.hpp>
#include <tulip/loop/thread_pool.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/gate.hpp"
#include "support/loop_test.hpp"

namespace loop_executor_test {

using namespace tulip;
using namespace std::chrono_literals;

namespace {

using test::Gate;

// Counts what passes through a user executor; runs jobs on an inner pool.
class CountingExecutor final : public Executor {
public:
    explicit CountingExecutor(std::size_t workers = 2) : pool_(workers, "counting") {}
    void submit_job(Job job) override {
        pool_.submit_job(std::move(job));  // may throw after shutdown: count only accepted jobs
        ++submitted;
    }
    void shutdown(bool wait) override {
        {
            std::lock_guard g(mu_);
            shutdown_calls.push_back(wait);
        }
        pool_.shutdown(wait);
    }
    std::vector<bool> shutdowns() {
        std::lock_guard g(mu_);
        return shutdown_calls;
    }
    std::atomic<int> submitted{0};

private:
    std::mutex mu_;
    std::vector<bool> shutdown_calls;
    ThreadPoolExecutor pool_;
};

std::string current_thread_name() {
    char buf[32] = {};
    ::pthread_getname_np(::pthread_self(), buf, sizeof buf);
    return buf;
}

// An exception type that remembers where it was constructed: `&e == e.self`
// holds only for the very object thrown, not for a copy of it.
struct Tagged : std::runtime_error {
    explicit Tagged(const std::string& m) : std::runtime_error(m), self(this) {}
    const Tagged* self;
};

Coro<void> sleep_for(double seconds) { co_await sleep(seconds); }

class ExecutorTest : public test::LoopTest {};

}  // namespace

// ---- ThreadPoolExecutor and ConcurrentFuture --------------------------------------

TEST_F(ExecutorTest, SubmitReturnsAConcurrentFutureHoldingTheResult) {
    ThreadPoolExecutor ex(2);
    auto f = ex.submit([](int a, int b) { return a * b; }, 6, 7);
    EXPECT_EQ(f.result(), 42);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_EQ(f.result(), 42) << "the result can be read again";
}

TEST_F(ExecutorTest, SubmitTakesArgumentsByValueIncludingMoveOnlyOnes) {
    ThreadPoolExecutor ex(1);
    std::string text = "hello";
    auto f = ex.submit([](std::string s, std::unique_ptr<int> p) { return s + " " + std::to_string(*p); }, text,
                       std::make_unique<int>(7));
    text = "changed after submit";
    EXPECT_EQ(f.result(), "hello 7");
    auto v = ex.submit([] {});
    v.result();
    EXPECT_TRUE(v.done());
}

TEST_F(ExecutorTest, ResultWithATimeoutRaisesTimeoutErrorWhileTheJobRuns) {
    ThreadPoolExecutor ex(1);
    Gate gate;
    auto f = ex.submit([&] {
        gate.wait();
        return 5;
    });
    EXPECT_THROW(f.result(20ms), TimeoutError);
    EXPECT_THROW(f.exception(1ms), TimeoutError);
    EXPECT_FALSE(f.done());
    gate.open();
    EXPECT_EQ(f.result(std::chrono::duration<double>(test::kLoopbackTimeout)), 5);
}

TEST_F(ExecutorTest, AJobsExceptionIsRethrownAsTheVeryObjectThrown) {
    ThreadPoolExecutor ex(1);
    auto f = ex.submit([]() -> int { throw Tagged("job failed"); });
    std::exception_ptr e = f.exception();
    ASSERT_TRUE(e);
    try {
        f.result();
        ADD_FAILURE() << "result() did not rethrow";
    } catch (const Tagged& t) {
        EXPECT_STREQ(t.what(), "job failed");
        EXPECT_EQ(&t, t.self) << "the exception was copied on its way";
    }
    EXPECT_EQ(f.exception(), e) << "the same stored exception each time";
    EXPECT_FALSE(f.cancelled());
}

TEST_F(ExecutorTest, CancellingBeforeTheJobFinishesCancelsTheFutureAndDropsTheLateResult) {
    ThreadPoolExecutor ex(1);
    Gate gate, started;
    std::atomic<bool> job_finished{false};
    auto f = ex.submit([&] {
        started.open();
        gate.wait();
        job_finished = true;
        return 1;
    });
    ASSERT_TRUE(started.wait());  // cancel a running job, not a queued one
    EXPECT_TRUE(f.cancel()) << "tulip cancels a running job's future (Python's cancel() returns False)";
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancel()) << "a done future cannot be cancelled again";
    EXPECT_THROW(f.result(), CancelledError);
    EXPECT_THROW(f.exception(), CancelledError);
    gate.open();
    ex.shutdown(/*wait=*/true);
    EXPECT_TRUE(job_finished) << "a thread cannot be interrupted: the job ran to its end";
    EXPECT_TRUE(f.cancelled()) << "the late result must not replace the cancellation";
}

TEST_F(ExecutorTest, CancellingAQueuedJobKeepsItFromRunning) {
    // concurrent.futures: a cancelled work item is skipped by the worker.
    ThreadPoolExecutor ex(1);
    Gate gate;
    auto first = ex.submit([&] { gate.wait(); });
    std::atomic<bool> second_ran{false};
    auto second = ex.submit([&] { second_ran = true; });
    EXPECT_TRUE(second.cancel());
    gate.open();
    first.result();
    ex.shutdown(/*wait=*/true);
    EXPECT_FALSE(second_ran);
    EXPECT_TRUE(second.cancelled());
}

TEST_F(ExecutorTest, CancelAfterCompletionReturnsFalseAndKeepsTheResult) {
    ThreadPoolExecutor ex(1);
    auto f = ex.submit([] { return 3; });
    EXPECT_EQ(f.result(), 3);
    EXPECT_FALSE(f.cancel());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.result(), 3);
}

TEST_F(ExecutorTest, AProducerCanCompleteAConcurrentFutureOnlyOnce) {
    ConcurrentFuture<int> f;
    EXPECT_FALSE(f.done());
    EXPECT_TRUE(f.set_result(1));
    EXPECT_FALSE(f.set_result(2));
    EXPECT_FALSE(f.set_exception(std::make_exception_ptr(std::runtime_error("late"))));
    EXPECT_FALSE(f.set_cancelled());
    EXPECT_EQ(f.result(), 1);
}

TEST_F(ExecutorTest, ACopyOfAConcurrentFutureSharesItsState) {
    ConcurrentFuture<std::string> f;
    ConcurrentFuture<std::string> copy = f;
    std::thread producer([f]() mutable { f.set_result("from a thread"); });
    EXPECT_EQ(copy.result(std::chrono::duration<double>(test::kLoopbackTimeout)), "from a thread");
    producer.join();
}

TEST_F(ExecutorTest, MaxWorkersDefaultsToPythonsFormula) {
    std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_EQ(ThreadPoolExecutor().max_workers(), std::min<std::size_t>(32, cores + 4));
    EXPECT_EQ(ThreadPoolExecutor(3).max_workers(), 3u);
}

TEST_F(ExecutorTest, WorkersAreStartedOnlyWhenWorkArrives) {
    std::size_t before = test::thread_count();
    ThreadPoolExecutor ex(4);
    EXPECT_EQ(test::thread_count(), before) << "the constructor started threads";
    ex.submit([] {}).result();
    EXPECT_GE(test::thread_count(), before + 1);
}

TEST_F(ExecutorTest, NoMoreThanMaxWorkersJobsRunAtOnce) {
    constexpr std::size_t kWorkers = 2;
    ThreadPoolExecutor ex(kWorkers);
    std::size_t before = test::thread_count();
    std::atomic<int> active{0}, peak{0}, done{0};
    std::atomic<std::size_t> threads_seen{0};
    std::vector<ConcurrentFuture<void>> fs;
    for (int i = 0; i < 8; ++i) {
        fs.push_back(ex.submit([&] {
            int now = ++active;
            int p = peak.load();
            while (now > p && !peak.compare_exchange_weak(p, now)) {}
            threads_seen = std::max(threads_seen.load(), test::thread_count());
            std::this_thread::sleep_for(2ms);
            --active;
            ++done;
        }));
    }
    for (auto& f : fs) f.result();
    EXPECT_EQ(done, 8);
    EXPECT_LE(peak, static_cast<int>(kWorkers));
    EXPECT_GE(peak, 1);
    EXPECT_LE(threads_seen.load(), before + kWorkers) << "more worker threads than max_workers";
}

TEST_F(ExecutorTest, MaxWorkersJobsCanAllRunAtTheSameTime) {
    // Three jobs that each wait for the other two: they finish only if the
    // pool really runs three at once.
    constexpr int kWorkers = 3;
    ThreadPoolExecutor ex(kWorkers);
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
    std::vector<ConcurrentFuture<bool>> fs;
    for (int i = 0; i < kWorkers; ++i) {
        fs.push_back(ex.submit([&] {
            std::unique_lock g(mu);
            ++arrived;
            cv.notify_all();
            return cv.wait_for(g, test::kLoopbackTimeout, [&] { return arrived == kWorkers; });
        }));
    }
    for (auto& f : fs) EXPECT_TRUE(f.result()) << "the jobs never ran together";
}

TEST_F(ExecutorTest, ShutdownWithWaitRunsEverySubmittedJobThenSubmitThrows) {
    ThreadPoolExecutor ex(2);
    std::atomic<int> ran{0};
    for (int i = 0; i < 20; ++i)
        ex.submit([&] {
            std::this_thread::sleep_for(1ms);
            ++ran;
        });
    ex.shutdown(/*wait=*/true);
    EXPECT_EQ(ran, 20) << "shutdown(wait) returned before the queued jobs ran";
    EXPECT_THROW(ex.submit([] {}), std::runtime_error);
    EXPECT_THROW(ex.submit_job(Job([] {})), std::runtime_error);
    ex.shutdown(/*wait=*/true);  // a second shutdown is harmless
}

TEST_F(ExecutorTest, ShutdownWithoutWaitReturnsWhileAJobStillRuns) {
    ThreadPoolExecutor ex(1);
    Gate gate;
    auto f = ex.submit([&] {
        gate.wait();
        return 9;
    });
    ex.shutdown(/*wait=*/false);
    EXPECT_FALSE(f.done());
    EXPECT_THROW(ex.submit([] { return 0; }), std::runtime_error);
    gate.open();
    EXPECT_EQ(f.result(std::chrono::duration<double>(test::kLoopbackTimeout)), 9);
    // The detached worker exits on its own; the fixture checks it is gone.
}

TEST_F(ExecutorTest, TheDestructorWaitsForTheJobs) {
    std::atomic<bool> finished{false};
    {
        ThreadPoolExecutor ex(1);
        ex.submit([&] {
            std::this_thread::sleep_for(20ms);
            finished = true;
        });
    }
    EXPECT_TRUE(finished);
}

// ---- run_in_executor ------------------------------------------------------------

TEST_F(ExecutorTest, RunInExecutorWithNoExecutorUsesTheDefaultPoolOffTheLoopThread) {
    auto loop_thread = std::this_thread::get_id();
    auto f = loop().run_in_executor(nullptr,
                                    [] { return std::make_pair(std::this_thread::get_id(), current_thread_name()); });
    auto [id, name] = run(f);
    EXPECT_NE(id, loop_thread);
    EXPECT_EQ(name.rfind("tulip-default", 0), 0u) << name;
}

TEST_F(ExecutorTest, RunInExecutorUsesTheExecutorItIsGiven) {
    CountingExecutor ex(1);
    auto f = loop().run_in_executor(&ex, [] { return current_thread_name(); });
    EXPECT_EQ(run(f).rfind("counting", 0), 0u);
    EXPECT_EQ(ex.submitted, 1);
}

TEST_F(ExecutorTest, SetDefaultExecutorReplacesThePoolRunInExecutorUses) {
    auto ex = std::make_shared<CountingExecutor>(2);
    loop().set_default_executor(ex);
    EXPECT_EQ(&detail::LoopAccess::default_executor(loop()), ex.get());
    auto f = loop().run_in_executor(nullptr, [] { return 11; });
    EXPECT_EQ(run(f), 11);
    EXPECT_EQ(ex->submitted, 1);
    run(tulip::shutdown_default_executor(loop()));
    EXPECT_EQ(ex->shutdowns(), std::vector<bool>{true}) << "shutdown_default_executor waits for the jobs";
}

TEST_F(ExecutorTest, AnExceptionInAnExecutorJobReachesTheAwaiterAsTheSameObject) {
    auto f = loop().run_in_executor(nullptr, []() -> int { throw Tagged("worker failed"); });
    try {
        run(f);
        ADD_FAILURE() << "the exception was lost";
    } catch (const Tagged& t) {
        EXPECT_STREQ(t.what(), "worker failed");
        EXPECT_EQ(&t, t.self) << "the exception was copied on its way";
    }
}

TEST_F(ExecutorTest, ACoroutineCanAwaitExecutorFutures) {
    auto body = [&]() -> Coro<int> {
        int a = co_await loop().run_in_executor(nullptr, [] { return 20; });
        int b = co_await loop().run_in_executor(nullptr, [] { return 22; });
        co_return a + b;
    };
    EXPECT_EQ(run(body()), 42);
}

TEST_F(ExecutorTest, ManyJobsInFlightAllComplete) {
    constexpr int kJobs = 200;
    std::vector<Future<int>> fs;
    for (int i = 0; i < kJobs; ++i) fs.push_back(loop().run_in_executor(nullptr, [i] { return i * i; }));
    auto body = [&]() -> Coro<long> {
        long sum = 0;
        for (auto& f : fs) sum += co_await f;
        co_return sum;
    };
    long expected = 0;
    for (long i = 0; i < kJobs; ++i) expected += i * i;
    EXPECT_EQ(run(body()), expected);
    EXPECT_EQ(tulip::detail::LoopAccess::external_pending(loop()).load(), 0);
}

TEST_F(ExecutorTest, AMoveOnlyResultTravelsBackToTheLoop) {
    auto f = loop().run_in_executor(nullptr, [] { return std::make_unique<std::string>("boxed"); });
    std::unique_ptr<std::string> p = run(std::move(f));  // given away: the result is moved out
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, "boxed");
}

TEST_F(ExecutorTest, CancellingTheFutureWhileTheJobRunsDropsItsResult) {
    // CPython test_run_in_executor_cancel: the future is cancelled at once; the
    // job cannot be interrupted and its result is thrown away when it arrives.
    Gate gate, started;
    std::atomic<bool> job_finished{false};
    auto f = loop().run_in_executor(nullptr, [&] {
        started.open();
        gate.wait();
        job_finished = true;
        return 1;
    });
    EXPECT_TRUE(started.wait());
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(run(f), CancelledError);
    gate.open();
    // The job still posts its (dropped) result back; wait for it to land.
    run_until([&] { return tulip::detail::LoopAccess::external_pending(loop()).load() == 0; });
    EXPECT_TRUE(job_finished);
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(handler_calls.empty());
}

TEST_F(ExecutorTest, ACancelledFutureDoesNotReportTheJobsLateException) {
    Gate gate;
    auto f = loop().run_in_executor(nullptr, [&]() -> int {
        gate.wait();
        throw std::runtime_error("nobody is listening");
    });
    f.cancel();
    gate.open();
    run_until([&] { return tulip::detail::LoopAccess::external_pending(loop()).load() == 0; });
    EXPECT_TRUE(f.cancelled());
    // The fixture's TearDown fails the test on any exception-handler call.
}

TEST_F(ExecutorTest, AVirtualTimeLoopDoesNotJumpItsClockWhileAJobRuns) {
    bool timer_ran = false;
    loop().call_later(50.0, [&] { timer_ran = true; });
    auto f = loop().run_in_executor(nullptr, [] {
        std::this_thread::sleep_for(20ms);
        return 1;
    });
    EXPECT_EQ(run(f), 1);
    EXPECT_FALSE(timer_ran);
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    run(sleep_for(60.0));
    EXPECT_TRUE(timer_ran);
}

TEST_F(ExecutorTest, ShutdownDefaultExecutorWaitsForRunningJobsAndDeliversTheirResults) {
    std::atomic<bool> finished{false};
    auto f = loop().run_in_executor(nullptr, [&] {
        std::this_thread::sleep_for(20ms);
        finished = true;
        return 5;
    });
    run(tulip::shutdown_default_executor(loop()));
    EXPECT_TRUE(finished);
    ASSERT_TRUE(f.done()) << "the job's result arrives before the shutdown completes";
    EXPECT_EQ(f.result(), 5);
}

TEST_F(ExecutorTest, AfterShutdownDefaultExecutorRunInExecutorThrows) {
    // asyncio: RuntimeError('Executor shutdown has been called').
    run(loop().run_in_executor(nullptr, [] { return 0; }));
    run(tulip::shutdown_default_executor(loop()));
    EXPECT_THROW(loop().run_in_executor(nullptr, [] { return 1; }), std::runtime_error);
    EXPECT_EQ(tulip::detail::LoopAccess::external_pending(loop()).load(), 0)
        << "a refused job must not count as pending";
}

TEST_F(ExecutorTest, RunInExecutorOnAShutDownUserExecutorThrows) {
    CountingExecutor ex(1);
    ex.shutdown(true);
    EXPECT_THROW(loop().run_in_executor(&ex, [] { return 1; }), std::runtime_error);
    EXPECT_EQ(ex.submitted, 0);
    EXPECT_EQ(tulip::detail::LoopAccess::external_pending(loop()).load(), 0);
}

TEST_F(ExecutorTest, ShutdownDefaultExecutorWithoutADefaultExecutorIsANoOp) {
    std::size_t before = test::thread_count();
    run(tulip::shutdown_default_executor(loop()));
    EXPECT_EQ(test::thread_count(), before) << "it created a pool just to shut it down";
}

TEST_F(ExecutorTest, ClosingTheLoopShutsItsDefaultExecutorDownWithoutWaiting) {
    auto ex = std::make_shared<CountingExecutor>(1);
    loop().set_default_executor(ex);
    run(loop().run_in_executor(nullptr, [] { return 1; }));
    loop().close();
    EXPECT_EQ(ex->shutdowns(), std::vector<bool>{false});
    EXPECT_THROW(detail::LoopAccess::default_executor(loop()), std::runtime_error);
}

namespace {
// Runs each job on its own thread, which the test joins when it likes; its
// shutdown() only records the call (so loop.close() cannot detach anything).
class JoinableExecutor final : public Executor {
public:
    ~JoinableExecutor() override { join(); }
    void submit_job(Job job) override {
        threads_.emplace_back([j = std::move(job)]() mutable { j(); });
    }
    void shutdown(bool) override { ++shutdown_calls; }
    void join() {
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    int shutdown_calls = 0;

private:
    std::vector<std::thread> threads_;
};
}  // namespace

// When the loop is closed while a run_in_executor job still runs, the job's
// post-back is refused; the reference to the Future's state that the job
// stood for must still be released (by close(), on the loop thread), or the
// state leaks (LeakSanitizer reported it before the fix).
TEST_F(ExecutorTest, ClosingTheLoopWithAJobInFlightReleasesTheFuturesState) {
    auto ex = std::make_shared<JoinableExecutor>();
    loop().set_default_executor(ex);
    Gate gate;
    auto f = loop().run_in_executor(nullptr, [&] {
        gate.wait();
        return 1;
    });
    loop().close();
    EXPECT_EQ(ex->shutdown_calls, 1);
    gate.open();
    ex->join();  // the job has tried to post its result and been refused
    EXPECT_FALSE(f.done());
    EXPECT_EQ(f.state()->refs, 1u) << "only this test's Future should still refer to the state";
}

}  // namespace loop_executor_test
