// tulip/detail/nodes.hpp — the intrusive nodes the event loop schedules (internal).
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

#include <tulip/detail/pool.hpp>

namespace tulip {
class EventLoop;
}

namespace tulip::detail {

struct ReadyNode {
    ReadyNode* next = nullptr;
    void (*run)(ReadyNode*) = nullptr;  // called by the loop when the node is dequeued
};

// A node that can also sit in the loop's timer heap.
struct TimerNode : ReadyNode {
    static constexpr std::size_t kNotInHeap = ~std::size_t{0};
    std::int64_t when = 0;  // deadline, nanoseconds on the loop's clock
    std::uint64_t seq = 0;  // scheduling order: equal deadlines run FIFO
    std::size_t heap_index = kNotInHeap;
};

// A FIFO of ReadyNodes (singly linked, O(1) push and splice).
struct NodeQueue {
    ReadyNode* head = nullptr;
    ReadyNode* tail = nullptr;
    std::size_t size = 0;

    bool empty() const noexcept { return head == nullptr; }
    void push(ReadyNode* n) noexcept {
        n->next = nullptr;
        if (tail)
            tail->next = n;
        else
            head = n;
        tail = n;
        ++size;
    }
    ReadyNode* pop() noexcept {
        ReadyNode* n = head;
        head = n->next;
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
        for (ReadyNode* p = head; p; prev = p, p = p->next) {
            if (p != n) continue;
            (prev ? prev->next : head) = p->next;
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
        std::size_t size;                          // bytes allocated for the node
    };
    const Ops* ops = nullptr;
    EventLoop* loop = nullptr;
    void* aux = nullptr;  // owner-specific (a done-callback's future)
    std::uint32_t refs = 1;
    bool cancelled = false;
    bool has_callable = true;
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

// A future's done-callback node (defined in src/task/task.cpp): it holds a
// reference to its future while scheduled, which close() must release when
// it drops the node unrun.
void run_done_callback(ReadyNode* n);
void discard_done_callback(ReadyNode* n) noexcept;

}  // namespace tulip::detail
