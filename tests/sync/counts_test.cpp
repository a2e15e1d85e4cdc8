// Counts that asyncio takes as a (possibly negative) int: a negative never
// wraps to a huge unsigned value (issue 9). ValueError is std::invalid_argument.
#include <stdexcept>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace sync_counts_test {

using namespace tulip;

class SyncCountsTest : public test::LoopTest {};

TEST_F(SyncCountsTest, BarrierWithZeroOrNegativePartiesRaisesValueError) {
    EXPECT_THROW(Barrier(0), std::invalid_argument);
    EXPECT_THROW(Barrier(-1), std::invalid_argument);  // wrapped to SIZE_MAX before
    EXPECT_EQ(Barrier(1).parties(), 1u);
}

TEST_F(SyncCountsTest, SemaphoreWithANegativeValueRaisesValueError) {
    EXPECT_THROW(Semaphore(-1), std::invalid_argument);
    EXPECT_THROW(BoundedSemaphore(-1), std::invalid_argument);
    Semaphore zero(0);
    EXPECT_TRUE(zero.locked());
}

TEST_F(SyncCountsTest, QueueWithANegativeMaxsizeIsUnbounded) {
    Queue<int> q(-1);
    EXPECT_EQ(q.maxsize(), -1);
    for (int i = 0; i < 1000; ++i) q.put_nowait(i);
    EXPECT_FALSE(q.full());
    EXPECT_EQ(q.qsize(), 1000u);
}

}  // namespace sync_counts_test
