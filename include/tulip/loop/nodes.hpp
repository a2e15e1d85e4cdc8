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

// A node that can also sit in the loop's timer heap.
struct TimerNode : ReadyNode {
    static constexpr std::size_t kNotInHeap = ~std::size_t{0};
    union {
        std::int64_t when = 0;  // deadline, nanoseconds on the loop's clock (INT64_MAX: never)
        // A future's done-callback node is never a timer: there this holds
        // the task that added it (or null), the "awaited_by" of call graphs.
        void* added_by_task;
    };
    std::uint64_t seq = 0;  // scheduling order: equal deadlines run FIFO
    std::size_t heap_index = kNotInHeap;
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
// call_later and add_reader store. Allocated from the frame pool.
struct CallbackNode : TimerNode {
    struct Ops {
        void (*invoke)(CallbackNode*);
        void (*destroy)(CallbackNode*) noexcept;  // destroys the callable only
        std::size_t size;                         // bytes allocated for the node
    };
    const Ops* ops = nullptr;
    EventLoop* loop = nullptr;
    void* aux = nullptr;  // owner-specific (a done-callback's future)
    std::uint32_t refs = 1;
    bool cancelled = false;
    bool has_callable = true;
    // Threadsafe nodes: "claimed", set once through atomic_ref by the loop (to
    // run it) or by Handle::cancel from any thread; `cancelled` is then read
    // and written through atomic_ref too. See run_threadsafe_node.
    bool running = false;
    bool threadsafe = false;  // allocated off the loop thread: plain heap

    template <class F>
    F* callable() noexcept {
        return std::launder(reinterpret_cast<F*>(reinterpret_cast<char*>(this) + payload_offset<F>()));
    }
    template <class F>
    static constexpr std::size_t payload_offset() noexcept {
        constexpr std::size_t a = alignof(F) > alignof(CallbackNode) ? alignof(F) : alignof(CallbackNode);
        return (sizeof(CallbackNode) + a - 1) / a * a;
    }

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
            std::size_t n = ops->size;
            bool ts = threadsafe;
            this->~CallbackNode();
            if (ts)
                ::operator delete(this);
            else
                pool_deallocate(this, n);
        }
    }

    static void run_node(ReadyNode* n);  // defined in event_loop.cpp

    template <class F>
    static CallbackNode* make(EventLoop* loop, F&& f, bool threadsafe = false) {
        using Fn = std::decay_t<F>;
        static_assert(std::is_invocable_v<Fn&>, "a loop callback must be callable with no arguments");
        static constexpr Ops ops{
            [](CallbackNode* self) { (*self->callable<Fn>())(); },
            [](CallbackNode* self) noexcept { self->callable<Fn>()->~Fn(); },
            payload_offset<Fn>() + sizeof(Fn),
        };
        void* mem = threadsafe ? ::operator new(ops.size) : pool_allocate(ops.size);
        auto* node = ::new (mem) CallbackNode();
        try {
            ::new (node->callable<Fn>()) Fn(std::forward<F>(f));
        } catch (...) {
            node->~CallbackNode();
            if (threadsafe)
                ::operator delete(mem);
            else
                pool_deallocate(mem, ops.size);
            throw;
        }
        node->ops = &ops;
        node->loop = loop;
        node->threadsafe = threadsafe;
        node->run = &CallbackNode::run_node;
        return node;
    }
};

}  // namespace tulip::detail
