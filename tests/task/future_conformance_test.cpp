// Future cases of CPython's Lib/test/test_asyncio/test_futures.py that
// future_test.cpp does not cover.
#include <tulip/task/future.hpp>

#include <vector>

#include "support/loop_test.hpp"

namespace task_future_conformance_test {

using namespace tulip;

namespace {

class FutureConformance : public test::LoopTest {};

TEST_F(FutureConformance, AwaitingTheSameFutureTwiceGivesItsResultBothTimesAndOnlyTheFirstSuspends) {
    // test_yield_from_twice.
    auto f = loop().create_future<int>();
    std::vector<int> seen;
    int iterations_before = 0;  // outside the frame: the callback runs after the coroutine ends
    auto body = [&]() -> Coro<void> {
        seen.push_back(co_await f);
        loop().call_soon([&] { iterations_before = 1; });
        seen.push_back(co_await f);  // done: no suspension, the callback has not run
        seen.push_back(iterations_before);
    };
    auto t = loop().create_task(body());
    run_briefly();
    EXPECT_TRUE(seen.empty());
    f.set_result(42);
    run(t);
    EXPECT_EQ(seen, (std::vector<int>{42, 42, 0}));
}

TEST_F(FutureConformance, ACallbackRemovingAnotherOnceTheFutureIsDoneRemovesNothingAndBothRun) {
    // test_schedule_callbacks_list_mutation_1: the callbacks were all
    // scheduled by set_result; removing one then is too late.
    auto f = loop().create_future<int>();
    std::vector<int> ran;
    DoneCallback second;
    std::size_t removed = 99;
    f.add_done_callback([&](Future<int>& fut) {
        ran.push_back(1);
        removed = fut.remove_done_callback(second);
    });
    second = f.add_done_callback([&] { ran.push_back(2); });
    f.add_done_callback([&] { ran.push_back(3); });
    f.set_result(1);
    run_briefly();
    EXPECT_EQ(removed, 0u);
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

}  // namespace

}  // namespace task_future_conformance_test
