#include <tulip/loop/nodes.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace loop_nodes_test {

using tulip::detail::CallbackNode;
using tulip::detail::DoneCallbackNode;
using tulip::detail::NodeQueue;
using tulip::detail::ReadyNode;
using tulip::detail::TimedCallbackNode;

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

// A burst of call_soon costs its bytes per node (first touch of fresh
// memory): the fields are 40 bytes, so a lambda of three pointers or
// references still fits one 64-byte pool block; a call_later node adds the
// timer's 32 (a 96-byte block).
static_assert(sizeof(CallbackNode) == 40);
static_assert(sizeof(TimedCallbackNode) == 72);

// Counts its live copies, to see each node type destroy its callable once.
struct Counted {
    int* live;
    int* calls;
    explicit Counted(int* l, int* c) : live(l), calls(c) { ++*live; }
    Counted(const Counted& o) : live(o.live), calls(o.calls) { ++*live; }
    ~Counted() { --*live; }
    void operator()() const { ++*calls; }
};

template <class Node>
void make_run_and_release() {
    int live = 0, calls = 0;
    Node* n = CallbackNode::make<Node>(nullptr, Counted(&live, &calls));
    CallbackNode* cb = n;
    EXPECT_EQ(live, 1);
    EXPECT_EQ(cb->refs, 1u);
    EXPECT_EQ(cb->ops->timed, (std::is_same_v<Node, TimedCallbackNode>));
    cb->ops->invoke(cb);
    cb->ops->invoke(cb);
    EXPECT_EQ(calls, 2);
    cb->incref();
    cb->decref();
    EXPECT_EQ(live, 1);  // a reference is left
    cb->decref();
    EXPECT_EQ(live, 0);  // the callable went with the last one (ASan checks the block's release)
}

TEST(CallbackNode, EachNodeTypeRunsItsCallableAndDestroysItOnce) {
    make_run_and_release<CallbackNode>();
    make_run_and_release<TimedCallbackNode>();
    make_run_and_release<DoneCallbackNode>();
}

TEST(CallbackNode, DroppingTheCallableEarlyLeavesTheNodeUntilItsLastReference) {
    int live = 0, calls = 0;
    auto* n = CallbackNode::make<TimedCallbackNode>(nullptr, Counted(&live, &calls));
    CallbackNode* cb = n;
    cb->drop_callable();  // what Handle::cancel does
    EXPECT_EQ(live, 0);
    EXPECT_FALSE(cb->has_callable);
    n->when = 42;  // the node's memory is still there
    EXPECT_EQ(n->when, 42);
    cb->decref();
    EXPECT_EQ(live, 0);
}

TEST(NodeQueueDeathTest, PushingANodeThatIsInTheMiddleOfTheQueueAborts) {
    EXPECT_DEATH(push_twice_in_one_queue(), "already in a queue");
}

TEST(NodeQueueDeathTest, PushingTheLastNodeOfAnotherQueueAborts) {
    EXPECT_DEATH(push_the_tail_of_another_queue(), "already in a queue");
}
#endif

}  // namespace loop_nodes_test
