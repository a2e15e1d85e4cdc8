// How results travel (issue 8, findings 4, 5, 12, 14): every awaiter of a
// Future or Task sees the stored object, move-only results never vanish, a
// result moves along its one path without copies, a cancelled awaiter still
// counts as having read a stored exception, and the combinators stay correct
// over many children.
#include <tulip/task/future.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <tulip/sync/semaphore.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/shield.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/task_group.hpp>
#include <tulip/task/threadsafe.hpp>
#include <tulip/task/timeout.hpp>
#include <tulip/task/wait.hpp>
#include <tulip/task/wait_for.hpp>

#include "support/loop_test.hpp"

namespace task_results_test {

using namespace tulip;

namespace {

class MoveOnlyResults : public test::WatchdogLoopTest {};
class ResultCopies : public test::WatchdogLoopTest {};
class CancelledAwaiter : public test::WatchdogLoopTest {};
class ManyChildren : public test::WatchdogLoopTest {};
class MoveOnlyAcrossThreads : public test::RealTimeLoopTest {};

using Ptr = std::unique_ptr<int>;

// Counts its copies and moves (the results must move along their one path).
struct Counted {
    static inline int copies = 0;
    static inline int moves = 0;
    static void reset() { copies = moves = 0; }
    int v = 0;
    explicit Counted(int x) : v(x) {}
    Counted(const Counted& o) : v(o.v) { ++copies; }
    Counted(Counted&& o) noexcept : v(o.v) { ++moves; }
    Counted& operator=(const Counted& o) {
        v = o.v;
        ++copies;
        return *this;
    }
    Counted& operator=(Counted&& o) noexcept {
        v = o.v;
        ++moves;
        return *this;
    }
};

// gather() needs a running loop: these build it inside a task.
template <class... A>
Coro<void> gather_all(A... a) {
    co_await gather(std::move(a)...);
}
template <class T>
Coro<std::vector<T>> gather_vector(std::vector<Task<T>> ts) {
    co_return co_await gather(std::move(ts));
}
template <class T>
Coro<std::vector<Outcome<detail::gather_value_t<T>>>> gather_outcomes(std::vector<Task<T>> ts) {
    co_return co_await gather(return_exceptions, std::move(ts));
}

Coro<Ptr> make_ptr(int v) {
    co_await sleep(0);
    co_return std::make_unique<int>(v);
}

Coro<Counted> make_counted(int v) {
    co_await sleep(0);
    co_return Counted(v);
}

// Records the address of the object it was given (null stays null).
Coro<void> record_address(Future<Ptr> f, const int** out) {
    const Ptr& p = co_await f;  // compiles on the old rule too (a temporary bound to a const&)
    *out = p.get();
}

Coro<void> record_task_address(Task<Ptr> t, const int** out) {
    const Ptr& p = co_await t;
    *out = p.get();
}

// ---- finding 4: one rule for results ---------------------------------------

TEST_F(MoveOnlyResults, EveryTaskAwaitingOneFutureSeesTheSameObject) {
    auto f = loop().create_future<Ptr>();
    const int* seen[3] = {nullptr, nullptr, nullptr};
    auto a = loop().create_task(record_address(f, &seen[0]));
    auto b = loop().create_task(record_address(f, &seen[1]));
    auto c = loop().create_task(record_address(f, &seen[2]));
    run_briefly();
    f.set_result(std::make_unique<int>(7));
    run(gather_all(a, b, c));
    ASSERT_NE(seen[0], nullptr);
    EXPECT_EQ(seen[1], seen[0]) << "the second awaiter must not receive an emptied result";
    EXPECT_EQ(seen[2], seen[0]);
    EXPECT_EQ(f.result().get(), seen[0]) << "the future keeps its result";
}

TEST_F(MoveOnlyResults, ATaskAwaitedByTwoGivesBothTheObject) {
    auto t = loop().create_task(make_ptr(5));
    const int* seen[2] = {nullptr, nullptr};
    auto a = loop().create_task(record_task_address(t, &seen[0]));
    auto b = loop().create_task(record_task_address(t, &seen[1]));
    run(gather_all(a, b));
    ASSERT_NE(seen[0], nullptr);
    EXPECT_EQ(seen[0], seen[1]);
    EXPECT_EQ(*t.result(), 5);
}

TEST_F(MoveOnlyResults, AwaitingAHeldFutureGivesAReferenceToTheStoredObject) {
    static_assert(std::is_same_v<decltype(std::declval<detail::FutureAwaiter<Ptr>&>().await_resume()), Ptr&>);
    static_assert(std::is_same_v<decltype(std::declval<detail::FutureAwaiter<int>&>().await_resume()), int>);
    static_assert(std::is_same_v<decltype(std::declval<detail::FutureMoveAwaiter<Ptr>&>().await_resume()), Ptr>);
    // A container of move-only values counts as move-only (its copy constructor does not compile).
    static_assert(!detail::copyable_result_v<std::vector<Ptr>>);
    static_assert(detail::copyable_result_v<std::vector<std::string>>);
    auto f = loop().create_future<Ptr>();
    f.set_result(std::make_unique<int>(3));
    bool same = false;
    auto main = [&]() -> Coro<void> {
        Ptr& p = co_await f;
        same = &p == &f.result();
    };
    run(main());
    EXPECT_TRUE(same);
}

TEST_F(MoveOnlyResults, AGivenAwayFutureIsMovedOutWhenItIsTheOnlyReference) {
    Ptr got;
    auto main = [&]() -> Coro<void> { got = co_await create_task(make_ptr(9)); };
    run(main());
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(*got, 9);
}

TEST_F(MoveOnlyResults, AGivenAwaySharedMoveOnlyResultRaisesInvalidStateErrorAndStays) {
    auto f = loop().create_future<Ptr>();
    f.set_result(std::make_unique<int>(4));
    auto other = f;
    std::string error;
    auto main = [&]() -> Coro<void> {
        try {
            Ptr p = co_await std::move(f);
        } catch (const InvalidStateError& e) {
            error = e.what();
        }
    };
    run(main());
    EXPECT_NE(error.find("other handles still refer to it"), std::string::npos) << error;
    ASSERT_NE(other.result(), nullptr) << "the result must not vanish";
    EXPECT_EQ(*other.result(), 4);
}

TEST_F(MoveOnlyResults, AGivenAwaySharedCopyableResultIsCopied) {
    auto f = loop().create_future<Counted>();
    f.set_result(Counted(8));
    auto other = f;
    Counted::reset();
    int v = 0;
    auto main = [&]() -> Coro<void> {
        Counted c = co_await std::move(f);
        v = c.v;
    };
    run(main());
    EXPECT_EQ(v, 8);
    EXPECT_EQ(Counted::copies, 1);
    EXPECT_EQ(other.result().v, 8);
}

TEST_F(MoveOnlyResults, GatherOfASharedMoveOnlyTaskRaisesAndLeavesTheResultToItsOwner) {
    auto t = loop().create_task(make_ptr(6));
    bool invalid = false;
    const int* after = nullptr;
    auto main = [&]() -> Coro<void> {
        try {
            auto r = co_await gather(t, make_ptr(1));
        } catch (const InvalidStateError&) {
            invalid = true;
        }
        Ptr& p = co_await t;
        after = p.get();
    };
    run(main());
    EXPECT_TRUE(invalid) << "gather cannot hand out a result that the caller's Task still shares";
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(*after, 6);
}

TEST_F(MoveOnlyResults, GatherOfAGivenAwayMoveOnlyTaskMovesItsResult) {
    auto t = loop().create_task(make_ptr(6));
    int a = 0, b = 0;
    auto main = [&]() -> Coro<void> {
        auto [x, y] = co_await gather(std::move(t), make_ptr(1));
        a = *x;
        b = *y;
    };
    run(main());
    EXPECT_EQ(a, 6);
    EXPECT_EQ(b, 1);
}

TEST_F(MoveOnlyResults, GatherOfMoveOnlyCoroutinesInARange) {
    std::vector<Coro<Ptr>> cs;
    for (int i = 0; i < 5; ++i) cs.push_back(make_ptr(i));
    std::vector<Ptr> out;
    auto main = [&]() -> Coro<void> { out = co_await gather(std::move(cs)); };
    run(main());
    ASSERT_EQ(out.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(*out[i], i);
}

TEST_F(MoveOnlyResults, ShieldAndWaitForPassAMoveOnlyResultOn) {
    int s = 0, w = 0, z = 0;
    auto main = [&]() -> Coro<void> {
        Ptr a = co_await shield(make_ptr(1));
        s = *a;
        Ptr b = co_await wait_for(make_ptr(2), 5.0);
        w = *b;
        Ptr c = co_await wait_for(create_task(make_ptr(3)), 0.0 + 5.0);
        z = *c;
    };
    run(main());
    EXPECT_EQ(s, 1);
    EXPECT_EQ(w, 2);
    EXPECT_EQ(z, 3);
}

TEST_F(MoveOnlyResults, RunUntilCompleteOfAHeldMoveOnlyTaskGivesAReference) {
    auto t = loop().create_task(make_ptr(12));
    Ptr& p = run(t);
    EXPECT_EQ(&p, &t.result());
    Ptr& q = run(t);
    EXPECT_EQ(q.get(), p.get()) << "a second reader sees the same object";
}

TEST_F(MoveOnlyAcrossThreads, RunCoroutineThreadsafeDeliversAMoveOnlyResult) {
    int value = 0;
    auto done = loop().create_future<void>();
    std::thread submitter([&] {
        try {
            auto cf = run_coroutine_threadsafe(make_ptr(11), loop());
            Ptr& p = cf.result(test::kLoopbackTimeout);
            value = p ? *p : -1;
        } catch (...) {
            value = -2;
        }
        loop().call_soon_threadsafe([&done] { done.set_result(); });
    });
    run(done);
    submitter.join();
    EXPECT_EQ(value, 11);
}

// ---- finding 5: no copies along the way -------------------------------------

TEST_F(ResultCopies, GatherOfTwoCoroutinesCopiesNoResult) {
    Counted::reset();
    int sum = 0;
    auto main = [&]() -> Coro<void> {
        auto [a, b] = co_await gather(make_counted(1), make_counted(2));
        sum = a.v + b.v;
    };
    run(main());
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(Counted::copies, 0);
}

TEST_F(ResultCopies, GatherOfARangeAndWithReturnExceptionsCopiesNoResult) {
    Counted::reset();
    int sum = 0;
    auto main = [&]() -> Coro<void> {
        std::vector<Coro<Counted>> cs;
        cs.push_back(make_counted(1));
        cs.push_back(make_counted(2));
        std::vector<Counted> r = co_await gather(std::move(cs));
        auto [o1, o2] = co_await gather(return_exceptions, make_counted(3), make_counted(4));
        sum = r[0].v + r[1].v + o1.value().v + o2.value().v;
    };
    run(main());
    EXPECT_EQ(sum, 10);
    EXPECT_EQ(Counted::copies, 0);
}

TEST_F(ResultCopies, AwaitingACreatedTaskCopiesNoResult) {
    Counted::reset();
    int v = 0;
    auto main = [&]() -> Coro<void> {
        Counted c = co_await create_task(make_counted(5));
        v = c.v;
    };
    run(main());
    EXPECT_EQ(v, 5);
    EXPECT_EQ(Counted::copies, 0);
}

TEST_F(ResultCopies, WaitForShieldAndTimeoutCopyNoResult) {
    Counted::reset();
    int sum = 0;
    auto main = [&]() -> Coro<void> {
        Counted a = co_await wait_for(make_counted(1), 5.0);
        Counted b = co_await wait_for(create_task(make_counted(2)), 5.0);
        Counted c = co_await shield(make_counted(3));
        auto body = [](Timeout&) { return make_counted(4); };
        Counted d = co_await timeout(Seconds(5), body);
        sum = a.v + b.v + c.v + d.v;
    };
    run(main());
    EXPECT_EQ(sum, 10);
    EXPECT_EQ(Counted::copies, 0);
}

TEST_F(ResultCopies, TaskGroupResultsCopyNothing) {
    Counted::reset();
    int sum = 0;
    auto main = [&]() -> Coro<void> {
        Task<Counted> child;
        auto body = [&](TaskGroup& tg) -> Coro<Counted> {
            child = tg.create_task(make_counted(1));
            co_return Counted(2);
        };
        Counted r = co_await task_group(body);
        Counted c = co_await std::move(child);
        sum = r.v + c.v;
    };
    run(main());
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(Counted::copies, 0);
}

// ---- finding 12: a cancelled awaiter has read the exception -----------------

Coro<void> await_and_note(Future<int> f, int* cancelled) {
    try {
        (void)co_await f;
    } catch (const CancelledError&) {
        ++*cancelled;
    }
}

TEST_F(CancelledAwaiter, OfAFailedFutureLeavesNoNeverRetrievedReport) {
    constexpr int n = 200;
    int cancelled = 0;
    {
        std::vector<Future<int>> futs;
        std::vector<Task<void>> tasks;
        for (int i = 0; i < n; ++i) {
            futs.push_back(loop().create_future<int>());
            tasks.push_back(loop().create_task(await_and_note(futs.back(), &cancelled)));
        }
        run_briefly();
        // The futures fail, then their tasks are cancelled before they resume.
        for (auto& f : futs) f.set_exception(std::runtime_error("boom"));
        for (auto& t : tasks) t.cancel();
        run(gather_outcomes(tasks));
    }
    EXPECT_EQ(cancelled, n);
    EXPECT_TRUE(handler_calls.empty()) << handler_calls.size() << " 'exception was never retrieved' report(s), first: "
                                       << handler_calls.front().message;
}

// ---- finding 14: many children and waiters ----------------------------------

Coro<int> echo(int v) {
    co_await sleep(0);
    co_return v;
}

TEST_F(ManyChildren, GatherOfAHundredThousandTasksWithDuplicatesGivesEveryResult) {
    constexpr int n = 50000;
    std::vector<Task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(loop().create_task(echo(i)));
    std::vector<Task<int>> args;
    for (int i = 0; i < n; ++i) {
        args.push_back(tasks[i]);
        args.push_back(tasks[n - 1 - i]);
    }
    std::vector<int> r = run(gather_vector(args));
    ASSERT_EQ(r.size(), std::size_t{2 * n});
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(r[2 * i], i);
        ASSERT_EQ(r[2 * i + 1], n - 1 - i);
    }
}

TEST_F(ManyChildren, WaitOverManyDuplicatedFuturesReturnsEachOnce) {
    constexpr int n = 20000;
    std::vector<Task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(loop().create_task(echo(i)));
    std::vector<Task<int>> args = tasks;
    args.insert(args.end(), tasks.begin(), tasks.end());
    auto r = run(wait(args));
    EXPECT_EQ(r.done.size(), std::size_t{n});
    EXPECT_TRUE(r.pending.empty());
}

TEST_F(ManyChildren, RemovingManyDoneCallbacksOfOnePendingFutureKeepsTheOthers) {
    constexpr int n = 100000;
    auto f = loop().create_future<int>();
    int ran = 0;
    std::vector<DoneCallback> cbs;
    for (int i = 0; i < n; ++i) cbs.push_back(f.add_done_callback([&ran] { ++ran; }));
    std::size_t removed = 0;
    for (int i = 0; i < n; i += 2) removed += f.remove_done_callback(cbs[i]);
    EXPECT_EQ(removed, std::size_t{n / 2});
    EXPECT_EQ(f.remove_done_callback(cbs[0]), 0u) << "a callback is removed once";
    f.set_result(1);
    EXPECT_EQ(f.remove_done_callback(cbs[1]), 0u) << "scheduled callbacks can no longer be removed";
    run_briefly();
    EXPECT_EQ(ran, n / 2);
}

TEST_F(ManyChildren, CancellingManyShieldedWaitersOfOneFutureLeavesItUsable) {
    constexpr int n = 20000;
    auto f = loop().create_future<int>();
    auto waiter = [&]() -> Coro<int> { co_return co_await shield(f); };
    std::vector<Task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(loop().create_task(waiter()));
    run_briefly();
    for (int i = 0; i < n; i += 2) tasks[i].cancel();
    run_briefly();
    f.set_result(42);
    auto r = run(gather_outcomes(tasks));
    for (int i = 0; i < n; ++i) {
        if (i % 2 == 0)
            ASSERT_TRUE(r[i].cancelled());
        else
            ASSERT_EQ(r[i].value(), 42);
    }
}

TEST_F(ManyChildren, ASemaphoreReleasedOnceAtATimeServesManyWaitersInOrder) {
    constexpr int n = 20000;
    Semaphore sem(0);
    std::vector<int> order;
    auto waiter = [&](int i) -> Coro<void> {
        auto held = co_await sem.acquire();
        held.detach();
        order.push_back(i);
    };
    std::vector<Task<void>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(loop().create_task(waiter(i)));
    run_briefly();
    for (int i = 0; i < n; ++i) sem.release();
    run(gather_all(tasks));
    ASSERT_EQ(order.size(), std::size_t{n});
    for (int i = 0; i < n; ++i) ASSERT_EQ(order[i], i);
}

}  // namespace

}  // namespace task_results_test
