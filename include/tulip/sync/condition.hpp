// tulip/sync/condition.hpp — Condition (asyncio.Condition, 3.13 semantics).
//
//     auto held = co_await cond.acquire();
//     co_await cond.wait_for([&] { return !items.empty(); });
//
// wait() releases the lock, waits for notify(), and re-acquires the lock
// before it returns — even when it is cancelled (then CancelledError is
// raised with the lock held again). A waiter that was notified but fails
// (cancelled) passes the notification to another waiter, so no wake-up is
// lost (a spurious wake-up is allowed by the protocol, as in asyncio 3.13).
// notify()/wait() without the lock held throw std::runtime_error.
// Cancel safety (wait(), wait_for()): safe; the lock is held again when
// CancelledError leaves, and a notification the waiter had received is
// passed on.
// Thread safety: loop thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include <tulip/sync/lock.hpp>
#include <tulip/sync/waiters.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

class Condition {
public:
    // Uses its own Lock, or `lock` (which must outlive the Condition).
    Condition() : own_(true), lock_(new Lock()) {}
    explicit Condition(Lock& lock) : own_(false), lock_(&lock) {}
    ~Condition() {
        if (own_) delete lock_;
    }
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    Lock::AcquireAwaiter acquire() noexcept { return lock_->acquire(); }
    void release() { lock_->release(); }
    bool locked() const noexcept { return lock_->locked(); }
    Lock& lock() noexcept { return *lock_; }

    // Releases the lock, waits for a notify, re-acquires. Returns true.
    Coro<bool> wait();
    // Waits until predicate() is truthy; returns its last value, as asyncio
    // does (so a predicate may return an optional or a pointer to what it found).
    template <class P, class R = std::decay_t<std::invoke_result_t<P&>>>
    Coro<R> wait_for(P predicate) {
        R result = predicate();
        while (!static_cast<bool>(result)) {
            co_await wait();
            result = predicate();
        }
        co_return result;
    }
    // Wakes up to n waiters (the lock must be held).
    void notify(std::size_t n = 1) {
        if (!locked()) throw std::runtime_error("cannot notify on un-acquired lock");
        do_notify(n);
    }
    void notify_all() { notify(waiters_.size()); }

private:
    void do_notify(std::size_t n) noexcept;
    bool own_;
    Lock* lock_;
    detail::WaiterList waiters_;
};

}  // namespace tulip
