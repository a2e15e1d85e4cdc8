// tulip/loop/nodes.hpp — the intrusive nodes the event loop schedules (internal).
//
// Everything the loop runs is a ReadyNode: a callback from call_soon, a timer,
// a task's step, a future's done-callback. Nodes link themselves into the
// ready queue and the timer heap, so scheduling never allocates.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include <tulip/core/pool.hpp>

namespace tulip {
class EventLoop;
}

namespace tulip::detail {

struct ReadyNode {
    // Non-null exactly while the node is in a NodeQueue (the ready queue or a
    // future's callbacks): the next node, or queue_end() for the last one.
    ReadyNode* next = nullptr;
    void (*run)(ReadyNode*) = nullptr;  // called by the loop when the node is dequeued

    bool queued() const noexcept { return next != nullptr; }
};

// What the last node of a queue points to: never dereferenced, only compared,
// so that "in a queue" is one test of `next` whatever the node's position.
inline ReadyNode* queue_end() noexcept { return reinterpret_cast<ReadyNode*>(alignof(ReadyNode)); }

// Debug builds abort here when a node that is already queued is pushed again:
// a node links itself, so a second push would relink the queue and lose what
// follows it. Defined in the library (event_loop.cpp).
[[noreturn]] void node_queued_twice(const ReadyNode* n) noexcept;

// What the loop's timer heap holds: a deadline and the node to schedule when
// it is due. A separate base, not a ReadyNode, so that a node which is not
// always a timer (a callback) carries these fields only when it is one.
struct TimerNode {
    static constexpr std::size_t kNotInHeap = ~std::size_t{0};
    std::int64_t when = 0;  // deadline, nanoseconds on the loop's clock (INT64_MAX: never)
    std::uint64_t seq = 0;  // scheduling order: equal deadlines run FIFO
    std::size_t heap_index = kNotInHeap;
    ReadyNode* node = nullptr;  // set by add_timer: the ready queue gets it when due
};

// A FIFO of ReadyNodes (singly linked, O(1) push and splice). Invariant: a
// node is in at most one queue, at most once (checked by push in debug
// builds; the layout and the release code do not depend on NDEBUG).
// A chunk a completion-based poller received for a stream fd (io_uring's
// multishot recv): size bytes at data, in a buffer the poller lends until
// release_received; or res == 0 for end of stream, res < 0 for -errno.
struct Received {
    const char* data = nullptr;
    std::size_t size = 0;
    int res = 0;
    std::uint32_t bid = 0;
};

struct NodeQueue {
    ReadyNode* head = nullptr;
    ReadyNode* tail = nullptr;
    std::size_t size = 0;

    // The node after n in its queue, or null at the end (for walking a queue).
    static ReadyNode* next_of(const ReadyNode* n) noexcept { return n->next == queue_end() ? nullptr : n->next; }

    bool empty() const noexcept { return head == nullptr; }
    void push(ReadyNode* n) noexcept {
#ifndef NDEBUG
        if (n->next) node_queued_twice(n);
#endif
        n->next = queue_end();
        if (tail)
            tail->next = n;
        else
            head = n;
        tail = n;
        ++size;
    }
    ReadyNode* pop() noexcept {
        ReadyNode* n = head;
        head = next_of(n);
        if (!head) tail = nullptr;
        n->next = nullptr;
        --size;
        return n;
    }
    void splice(NodeQueue& other) noexcept {
        if (other.empty()) return;
        if (tail)
            tail->next = other.head;
        else
            head = other.head;
        tail = other.tail;
        size += other.size;
        other.head = other.tail = nullptr;
        other.size = 0;
    }
    // Unlinks n if present; O(n). Returns whether it was found.
    bool remove(ReadyNode* n) noexcept {
        ReadyNode* prev = nullptr;
        for (ReadyNode* p = head; p; prev = p, p = next_of(p)) {
            if (p != n) continue;
            ReadyNode* after = next_of(p);
            if (prev)
                prev->next = after ? after : queue_end();
            else
                head = after;
            if (tail == p) tail = prev;
            p->next = nullptr;
            --size;
            return true;
        }
        return false;
    }
};

// A type-erased callable owned by a ref-counted node: what call_soon,
// add_reader and signal handlers store (call_later's and done-callbacks' are
// the derived nodes below). Allocated from the frame pool, the callable right
// after the node's fields: 40 bytes of fields, so a call_soon node with a
// lambda of three captures takes one 64-byte block. Bytes per node are what
// a burst of callbacks costs (first touch of fresh memory).
struct CallbackNode : ReadyNode {
    struct Ops {
        void (*invoke)(CallbackNode*);
        void (*destroy)(CallbackNode*) noexcept;  // destroys the callable only
        void (*release)(CallbackNode*) noexcept;  // frees the whole node (its callable already destroyed)
        bool timed;                               // a TimedCallbackNode (call_later, call_at)
    };
    const Ops* ops = nullptr;
    EventLoop* loop = nullptr;
    std::uint32_t refs = 1;
    bool cancelled = false;
    bool has_callable = true;
    // Threadsafe nodes: "claimed", set once through atomic_ref by the loop (to
    // run it) or by Handle::cancel from any thread; `cancelled` is then read
    // and written through atomic_ref too. See run_threadsafe_node.
    bool running = false;
    bool threadsafe = false;  // allocated off the loop thread: plain heap

    void drop_callable() noexcept {
        if (has_callable) {
            has_callable = false;
            ops->destroy(this);
        }
    }
    // A call_soon_threadsafe node is shared between the posting thread (its
    // Handle, usually a temporary dropped right after the post) and the loop
    // thread (which runs and releases it): count its references atomically.
    // Loop-thread nodes keep the plain counter.
    void incref() noexcept {
        if (threadsafe)
            std::atomic_ref<std::uint32_t>(refs).fetch_add(1, std::memory_order_relaxed);
        else
            ++refs;
    }
    void decref() noexcept {
        std::uint32_t left =
            threadsafe ? std::atomic_ref<std::uint32_t>(refs).fetch_sub(1, std::memory_order_acq_rel) - 1 : --refs;
        if (left == 0) {
            drop_callable();
            ops->release(this);
        }
    }

    static void run_node(ReadyNode* n);  // defined in event_loop.cpp

    // A node of type Node (CallbackNode or one derived from it) holding f.
    template <class Node = CallbackNode, class F>
    static Node* make(EventLoop* loop, F&& f, bool threadsafe = false);
};

// The fields of every node type are trivially destructible: a node is freed
// without running a destructor (only its callable has one).
static_assert(std::is_trivially_destructible_v<CallbackNode>);

// A call_later / call_at node: when due, the loop queues its CallbackNode
// part, which runs as a call_soon node does.
struct TimedCallbackNode : TimerNode, CallbackNode {};

// A future's done-callback (add_done_callback).
struct DoneCallbackNode : CallbackNode {
    // The future while the callback is registered on it; null once removed
    // (remove_done_callback leaves the node linked, dead, for the next sweep).
    void* future = nullptr;
    // The task that added it (or null), the "awaited_by" of call graphs.
    void* added_by_task = nullptr;
};

template <class Node, class F>
Node* CallbackNode::make(EventLoop* loop, F&& f, bool threadsafe) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&>, "a loop callback must be callable with no arguments");
    static_assert(std::is_base_of_v<CallbackNode, Node> && std::is_trivially_destructible_v<Node>);
    // The pool's blocks are 32-byte aligned, operator new's 16.
    static_assert(alignof(Fn) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                  "a loop callback's captures must not be over-aligned");
    static constexpr std::size_t offset = (sizeof(Node) + alignof(Fn) - 1) / alignof(Fn) * alignof(Fn);
    static constexpr std::size_t size = offset + sizeof(Fn);
    struct Impl {
        static Fn* callable(CallbackNode* self) noexcept {
            return std::launder(reinterpret_cast<Fn*>(reinterpret_cast<char*>(static_cast<Node*>(self)) + offset));
        }
    };
    static constexpr Ops ops{
        [](CallbackNode* self) { (*Impl::callable(self))(); },
        [](CallbackNode* self) noexcept { Impl::callable(self)->~Fn(); },
        [](CallbackNode* self) noexcept {
            void* mem = static_cast<Node*>(self);
            if (self->threadsafe)
                ::operator delete(mem);
            else
                pool_deallocate(mem, size);
        },
        std::is_base_of_v<TimerNode, Node>,
    };
    void* mem = threadsafe ? ::operator new(size) : pool_allocate(size);
    auto* node = ::new (mem) Node();
    try {
        ::new (reinterpret_cast<char*>(mem) + offset) Fn(std::forward<F>(f));
    } catch (...) {
        if (threadsafe)
            ::operator delete(mem);
        else
            pool_deallocate(mem, size);
        throw;
    }
    CallbackNode* cb = node;
    cb->ops = &ops;
    cb->loop = loop;
    cb->threadsafe = threadsafe;
    cb->run = &CallbackNode::run_node;
    return node;
}

}  // namespace tulip::detail
