#include <tulip/loop/nodes.hpp>

#include <gtest/gtest.h>

namespace loop_nodes_test {

using tulip::detail::NodeQueue;
using tulip::detail::ReadyNode;

// The ready queue and the futures' callback lists link their nodes in place:
// a node is in at most one queue, at most once.

TEST(NodeQueue, QueuedFollowsANodeThroughPushPopRemoveAndSplice) {
    NodeQueue q, other;
    ReadyNode a, b, c;
    EXPECT_FALSE(a.queued());
    q.push(&a);
    q.push(&b);
    EXPECT_TRUE(a.queued());
    EXPECT_TRUE(b.queued());  // the last one too
    other.push(&c);
    q.splice(other);
    EXPECT_TRUE(other.empty());
    EXPECT_EQ(q.size, 3u);
    EXPECT_TRUE(q.remove(&b));
    EXPECT_FALSE(b.queued());
    EXPECT_FALSE(q.remove(&b));
    EXPECT_EQ(q.pop(), &a);
    EXPECT_FALSE(a.queued());
    EXPECT_EQ(q.pop(), &c);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.tail, nullptr);
    q.push(&c);  // a node that left its queue may be queued again
    EXPECT_TRUE(q.remove(&c));
    EXPECT_TRUE(q.empty());
}

TEST(NodeQueue, WalkingAQueueStopsAtItsLastNode) {
    NodeQueue q;
    ReadyNode n[3];
    for (auto& x : n) q.push(&x);
    int count = 0;
    for (ReadyNode* p = q.head; p; p = NodeQueue::next_of(p)) ++count;
    EXPECT_EQ(count, 3);
    EXPECT_TRUE(q.remove(&n[2]));  // the tail: the new tail ends the queue
    ReadyNode d;
    q.push(&d);
    EXPECT_EQ(NodeQueue::next_of(&n[1]), &d);
    EXPECT_EQ(NodeQueue::next_of(&d), nullptr);
    while (!q.empty()) q.pop();
}

#ifndef NDEBUG
namespace {
void push_twice_in_one_queue() {
    NodeQueue q;
    ReadyNode a, b;
    q.push(&a);
    q.push(&b);
    q.push(&a);
}
void push_the_tail_of_another_queue() {
    NodeQueue q, other;
    ReadyNode a;
    other.push(&a);
    q.push(&a);
}
}  // namespace

TEST(NodeQueueDeathTest, PushingANodeThatIsInTheMiddleOfTheQueueAborts) {
    EXPECT_DEATH(push_twice_in_one_queue(), "already in a queue");
}

TEST(NodeQueueDeathTest, PushingTheLastNodeOfAnotherQueueAborts) {
    EXPECT_DEATH(push_the_tail_of_another_queue(), "already in a queue");
}
#endif

}  // namespace loop_nodes_test
