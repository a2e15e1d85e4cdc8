// Extreme delays and deadlines at every API that takes one (issue 8, finding 10).
//
// Durations saturate: +inf and anything past the int64 nanosecond range mean
// "never" (the timer never fires, the loop does not wake for it, virtual time
// does not jump to it); negative and -inf mean "now"; NaN raises
// std::invalid_argument (asyncio 3.13 raises ValueError). Before the fix a
// huge delay wrapped to a deadline in the past: call_later(1e10) fired at
// once, sleep(1e10) and sleep(Seconds::max()) returned at once, and
// wait_for/timeout with a huge timeout raised TimeoutError at once.
#include <tulip/task/timeout.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace task_delays_test {

using namespace tulip;
using namespace std::chrono_literals;

namespace {

class Delays : public test::LoopTest {};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Every delay that must mean "never", as Seconds.
std::vector<Seconds> never_delays() {
    return {Seconds(1e10),
            Seconds(1e11),
            Seconds(1e300),
            Seconds(kInf),
            Seconds::max(),
            std::chrono::nanoseconds::max(),
            std::chrono::hours::max(),
            std::chrono::duration<double>(std::chrono::seconds::max())};
}

template <class F>
void expect_nan_error(F f) {
    try {
        f();
        ADD_FAILURE() << "no exception for a NaN delay";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("must not be NaN"), std::string::npos) << e.what();
    }
}

Coro<void> sleep_for(Seconds d, bool& returned) {
    co_await sleep(d);
    returned = true;
}

// tulip::timeout reads the running loop's clock when called: call it in a task.
template <class F>
Coro<int> in_timeout(Seconds d, F body) {
    auto scope = tulip::timeout(d, std::move(body));
    co_return co_await std::move(scope);
}

Coro<int> value_at(double t, int v) {
    co_await sleep(t);
    co_return v;
}

}  // namespace

// ---- call_later / call_at ----------------------------------------------------------------

TEST_F(Delays, CallLaterWithAHugeOrInfiniteDelayNeverFiresAndOtherTimersRunOnTime) {
    for (Seconds d : never_delays()) {
        bool fired = false;
        auto h = loop().call_later(d, [&] { fired = true; });
        EXPECT_TRUE(std::isinf(h.when())) << d.count();
        double start = loop().time();
        double seen = -1;
        loop().call_later(1.5, [&] {
            seen = loop().time();
            loop().stop();
        });
        loop().run_forever();
        EXPECT_FALSE(fired) << d.count();
        EXPECT_DOUBLE_EQ(seen, start + 1.5) << d.count();
        h.cancel();
        EXPECT_TRUE(h.cancelled());
    }
}

TEST_F(Delays, CallLaterWithANegativeOrMinusInfiniteDelayRunsSoonInOrder) {
    std::vector<int> order;
    loop().call_later(-kInf, [&] { order.push_back(1); });
    loop().call_later(-1e300, [&] { order.push_back(2); });
    loop().call_later(std::chrono::hours::min(), [&] { order.push_back(3); });
    loop().call_later(0.5, [&] { order.push_back(4); });
    run(sleep(1));
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(Delays, CallLaterAndCallAtRefuseNaN) {
    expect_nan_error([&] { loop().call_later(kNaN, [] {}); });
    expect_nan_error([&] { loop().call_later(Seconds(kNaN), [] {}); });
    expect_nan_error([&] { loop().call_at(kNaN, [] {}); });
    loop().call_soon([&] { loop().stop(); });
    loop().run_forever();  // nothing was scheduled by the refused calls
}

TEST_F(Delays, CallAtAHugeOrInfiniteTimeNeverFiresAndAMinusInfiniteOneRunsNow) {
    bool never = false;
    std::vector<int> order;
    std::vector<TimerHandle> hs;
    for (double when : {1e10, 1e19, 1e300, kInf, std::numeric_limits<double>::max()})
        hs.push_back(loop().call_at(when, [&] { never = true; }));
    loop().call_at(-kInf, [&] { order.push_back(1); });
    loop().call_at(-1e300, [&] { order.push_back(2); });
    loop().call_at(loop().time() + 2, [&] { order.push_back(3); });
    run(sleep(3));
    EXPECT_FALSE(never);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_DOUBLE_EQ(loop().time(), 3.0);
    for (auto& h : hs) {
        EXPECT_TRUE(std::isinf(h.when()));
        h.cancel();
    }
}

// Virtual time must not jump to a deadline at the end of time: timers added
// afterwards would then all be due at once.
TEST_F(Delays, ATimerThatNeverFiresDoesNotMoveTheVirtualClock) {
    auto never = loop().call_later(kInf, [] {});
    std::vector<double> at;
    loop().call_later(2, [&] {
        at.push_back(loop().time());
        loop().call_later(1, [&] {
            at.push_back(loop().time());
            loop().stop();
        });
    });
    loop().run_forever();
    EXPECT_EQ(at, (std::vector<double>{2.0, 3.0}));
    never.cancel();
}

TEST_F(Delays, ARealTimeLoopWithATimerThatNeverFiresStillRunsItsOtherTimersAndIO) {
    EventLoop real;  // epoll_wait must wait for the 20 ms timer, not for "never"
    auto never = real.call_later(kInf, [] {});
    auto huge = real.call_later(1e10, [] {});
    auto t0 = std::chrono::steady_clock::now();
    bool ran = false;
    real.call_later(0.02, [&] {
        ran = true;
        real.stop();
    });
    auto guard = real.call_later(test::kLoopbackTimeout, [&] { real.stop(); });
    real.run_forever();
    EXPECT_TRUE(ran);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, test::kLoopbackTimeout);
    never.cancel();
    huge.cancel();
    guard.cancel();
    real.close();
}

// ---- sleep ---------------------------------------------------------------------------------

TEST_F(Delays, SleepWithAHugeOrInfiniteDelayWaitsUntilCancelled) {
    for (Seconds d : never_delays()) {
        bool returned = false;
        auto t = loop().create_task(sleep_for(d, returned));
        double start = loop().time();
        loop().call_later(5, [t] { t.cancel(); });
        EXPECT_THROW(run(t), CancelledError) << d.count();
        EXPECT_FALSE(returned) << d.count();
        EXPECT_DOUBLE_EQ(loop().time(), start + 5) << d.count();
    }
}

TEST_F(Delays, SleepWithANegativeDelayYieldsOnceAndNaNIsRefused) {
    for (double d : {-1.0, -1e300, -kInf}) {
        bool returned = false;
        run(sleep_for(Seconds(d), returned));
        EXPECT_TRUE(returned);
    }
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    expect_nan_error([] { (void)sleep(kNaN); });
    expect_nan_error([] { (void)sleep(Seconds(kNaN)); });
}

// ---- wait_for, timeout, timeout_at -------------------------------------------------------------

TEST_F(Delays, WaitForWithAHugeOrInfiniteTimeoutWaitsForTheResult) {
    for (Seconds d : never_delays()) {
        double start = loop().time();
        int v = run(wait_for(value_at(3, 7), d));
        EXPECT_EQ(v, 7) << d.count();
        EXPECT_DOUBLE_EQ(loop().time(), start + 3) << d.count();
    }
    int v = run(wait_for(value_at(1, 8), 1e10));  // the double overload
    EXPECT_EQ(v, 8);
}

TEST_F(Delays, WaitForWithAnInfiniteTimeoutIsStillCancellable) {
    auto fut = loop().create_future<int>();
    auto waiter = [](Future<int> f) -> Coro<int> { co_return co_await wait_for(f, kInf); };
    auto t = loop().create_task(waiter(fut));
    loop().call_later(4, [t] { t.cancel(); });
    EXPECT_THROW(run(t), CancelledError);
    EXPECT_TRUE(fut.cancelled());
    EXPECT_DOUBLE_EQ(loop().time(), 4.0);
}

TEST_F(Delays, WaitForWithAMinusInfiniteTimeoutTimesOutAtOnceAndNaNIsRefused) {
    EXPECT_THROW(run(wait_for(value_at(3, 7), -kInf)), TimeoutError);
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
    auto nan_wait = [&] { (void)run(wait_for(value_at(3, 7), kNaN)); };
    expect_nan_error(nan_wait);
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);
}

TEST_F(Delays, TimeoutWithAHugeOrInfiniteDelayNeverExpires) {
    for (Seconds d : never_delays()) {
        double start = loop().time();
        bool expired = true;
        auto body = [&](Timeout& t) -> Coro<int> {
            co_await sleep(2);
            expired = t.expired();
            co_return 1;
        };
        EXPECT_EQ(run(in_timeout(d, body)), 1) << d.count();
        EXPECT_FALSE(expired);
        EXPECT_DOUBLE_EQ(loop().time(), start + 2) << d.count();
    }
}

TEST_F(Delays, TimeoutAtTheEndOfTimeNeverExpiresAndAtMinusInfinityExpiresAtOnce) {
    for (double when : {1e11, 1e300, kInf}) {
        auto body = [](Timeout&) -> Coro<int> {
            co_await sleep(1);
            co_return 2;
        };
        EXPECT_EQ(run(timeout_at(when, body)), 2);
    }
    auto slow = [](Timeout&) -> Coro<int> {
        co_await sleep(1);
        co_return 3;
    };
    double start = loop().time();
    EXPECT_THROW(run(timeout_at(-kInf, slow)), TimeoutError);
    EXPECT_THROW(run(in_timeout(Seconds(-kInf), slow)), TimeoutError);
    EXPECT_DOUBLE_EQ(loop().time(), start);
}

TEST_F(Delays, TimeoutRefusesNaNAndRescheduleToNaNLeavesTheDeadline) {
    auto body = [](Timeout&) -> Coro<int> { co_return 1; };
    auto nan_timeout = [&] { (void)run(in_timeout(Seconds(kNaN), body)); };
    expect_nan_error(nan_timeout);
    auto nan_at = [&] { (void)run(timeout_at(kNaN, body)); };
    expect_nan_error(nan_at);

    bool refused = false;
    std::optional<double> kept;
    auto moving = [&](Timeout& t) -> Coro<int> {
        try {
            t.reschedule(kNaN);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        kept = t.when();
        t.reschedule(kInf);  // never
        co_await sleep(100);
        co_return 4;
    };
    EXPECT_EQ(run(in_timeout(Seconds(5), moving)), 4);
    EXPECT_TRUE(refused);
    ASSERT_TRUE(kept.has_value());
    EXPECT_DOUBLE_EQ(*kept, 5.0);
}

// ---- wait, as_completed ------------------------------------------------------------------

TEST_F(Delays, WaitAndAsCompletedWithAnInfiniteTimeoutWaitForEverythingAndRefuseNaN) {
    auto a = loop().create_task(value_at(1, 1));
    auto b = loop().create_task(value_at(2, 2));
    std::vector<Task<int>> fs{a, b};
    WaitOptions all;
    all.timeout = Seconds(kInf);
    auto r = run(wait(fs, all));
    EXPECT_EQ(r.done.size(), 2u);
    EXPECT_TRUE(r.pending.empty());

    auto c = loop().create_task(value_at(1e9, 3));  // finite and far: 31 years of virtual time
    WaitOptions huge;
    huge.timeout = std::chrono::hours::max();
    auto waited = run(wait(std::vector<Task<int>>{c}, huge));
    EXPECT_EQ(waited.done.size(), 1u);

    auto d = loop().create_task(value_at(1, 4));
    auto collect = [](std::vector<Task<int>> v) -> Coro<int> {
        auto it = as_completed(std::move(v), Seconds(1e300));
        int sum = 0;
        while (it.remaining()) {
            auto f = co_await it.next();
            sum += co_await f;
        }
        co_return sum;
    };
    EXPECT_EQ(run(collect({d})), 4);

    WaitOptions nan;
    nan.timeout = Seconds(kNaN);
    auto e = loop().create_task(value_at(1, 5));
    auto nan_wait = [&] { (void)run(wait(std::vector<Task<int>>{e}, nan)); };
    expect_nan_error(nan_wait);
    auto nan_as_completed = [&] { (void)as_completed(std::vector<Task<int>>{e}, Seconds(kNaN)); };
    loop().call_soon([&] {
        expect_nan_error(nan_as_completed);  // needs a running loop
    });
    EXPECT_EQ(run(e), 5);
}

// ---- ConcurrentFuture::result(timeout) (run_coroutine_threadsafe, executors) ----------------

TEST(ConcurrentFutureDelays, ResultWithAHugeOrInfiniteTimeoutWaitsForTheValue) {
    for (Seconds d : never_delays()) {
        ConcurrentFuture<int> f;
        std::thread producer([f]() mutable {
            std::this_thread::sleep_for(5ms);
            f.set_result(9);
        });
        EXPECT_EQ(f.result(d), 9) << d.count();
        producer.join();
    }
}

TEST(ConcurrentFutureDelays, ResultWithANegativeTimeoutTimesOutAtOnceAndNaNIsRefused) {
    ConcurrentFuture<int> f;
    EXPECT_THROW(f.result(Seconds(-kInf)), TimeoutError);
    EXPECT_THROW(f.result(Seconds(-1.0)), TimeoutError);
    expect_nan_error([&] { (void)f.result(Seconds(kNaN)); });
    expect_nan_error([&] { (void)f.exception(Seconds(kNaN)); });
    f.set_result(1);
    EXPECT_EQ(f.result(Seconds(kInf)), 1);
}

}  // namespace task_delays_test
