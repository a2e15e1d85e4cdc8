// tulip/loop/loop_ref.hpp — LoopRef: the handle other threads keep on an event
// loop (what a Python thread does with a `loop` object it was given, made safe
// for C++ lifetimes).
//
// Every way into a loop from another thread (call_soon_threadsafe, executor
// jobs posting their result back, run_coroutine_threadsafe, the child watcher)
// goes through one reference-counted entry, detail::LoopDoor: a mutex-guarded
// queue of callback nodes, a closed flag and the eventfd that wakes the loop.
// The loop holds one reference and close() shuts the door; a thread holding a
// LoopRef may outlive the loop, and its later posts are refused with
// std::runtime_error("Event loop is closed"), never written into freed memory.
//
// Thread safety: a LoopRef may be copied, used and dropped on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include <tulip/core/owned.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/loop/nodes.hpp>

namespace tulip {

class EventLoop;

namespace detail {

class LoopDoor {
public:
    // Creates the wake eventfd; the loop registers it with its poller.
    explicit LoopDoor(EventLoop* loop);
    LoopDoor(const LoopDoor&) = delete;
    LoopDoor& operator=(const LoopDoor&) = delete;

    void incref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void decref() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Queues n (which carries its creation reference) for the loop and wakes
    // it. After shut(): releases n on this thread, without running it, and
    // throws std::runtime_error("Event loop is closed").
    void post(CallbackNode* n);
    template <class F>
    Handle call_soon_threadsafe(F&& f) {
        auto* n = CallbackNode::make(loop_, std::forward<F>(f), /*threadsafe=*/true);
        Handle h(n);
        post(n);
        return h;
    }

    // Loop thread: whether posts are waiting (a plain load on x86, for the hot path).
    bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
    // Loop thread: moves what was posted onto `ready`, in posting order.
    void drain(NodeQueue& ready) noexcept;
    // Loop thread (close): refuses every later post, hands back what is still
    // queued and closes the eventfd (nobody writes to it after this).
    void shut(NodeQueue& rest) noexcept;
    bool is_closed() const noexcept { return closed_.load(std::memory_order_acquire); }

    int wake_fd() const noexcept { return wake_fd_; }
    // The loop behind the door. Only dereferenced on the loop's own thread,
    // by callbacks the loop runs (so while it is alive).
    EventLoop* loop() const noexcept { return loop_; }

private:
    ~LoopDoor();

    std::atomic<std::uint32_t> refs_{1};
    EventLoop* const loop_;
    int wake_fd_ = -1;  // written to under mu_ only, while open; -1 once shut
    // The mutex, defined in event_loop.cpp: keeps <mutex> out of this header.
    struct Mutex;
    Owned<Mutex> mu_;
    NodeQueue queue_;                   // guarded by mu_
    std::atomic<bool> pending_{false};  // written under mu_; read without it by the loop
    std::atomic<bool> closed_{false};   // written under mu_
};

}  // namespace detail

// A copyable, thread-safe reference to an event loop, for threads that may
// outlive it: loop.threadsafe_ref(). In asyncio a thread simply keeps the loop
// object; here the thread keeps a LoopRef and calls call_soon_threadsafe on
// it. Once the loop is closed (or destroyed), call_soon_threadsafe throws
// std::runtime_error("Event loop is closed") and the callable is destroyed on
// the calling thread without running.
class LoopRef {
public:
    LoopRef() noexcept = default;
    explicit LoopRef(detail::LoopDoor* door) noexcept : d_(door) {
        if (d_) d_->incref();
    }
    LoopRef(const LoopRef& o) noexcept : LoopRef(o.d_) {}
    LoopRef(LoopRef&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
    LoopRef& operator=(LoopRef o) noexcept {
        std::swap(d_, o.d_);
        return *this;
    }
    ~LoopRef() {
        if (d_) d_->decref();
    }

    // Schedules f on the loop (loop.call_soon_threadsafe) and wakes it. The
    // returned Handle may be cancelled from any thread (a cancel racing with
    // the callback's start may come too late, as in asyncio).
    template <class F>
    Handle call_soon_threadsafe(F&& f) const;
    // Whether the loop was closed (or destroyed); a later post would be refused.
    bool is_closed() const noexcept { return !d_ || d_->is_closed(); }
    explicit operator bool() const noexcept { return d_ != nullptr; }
    bool operator==(const LoopRef& o) const noexcept { return d_ == o.d_; }

    detail::LoopDoor* door() const noexcept { return d_; }

private:
    detail::LoopDoor* d_ = nullptr;
};

}  // namespace tulip
