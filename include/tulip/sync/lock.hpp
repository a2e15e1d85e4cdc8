// tulip/sync/lock.hpp — Lock (asyncio.Lock).
//
//     auto held = co_await lock.acquire();   // async with lock:
//     ...                                     // released when `held` goes
//
// acquire() gives a Lock::Guard that releases on destruction (leaving needs
// no wait, so an RAII guard is the right C++ form); held.release() releases
// early, held.detach() keeps the lock held for a later lock.release().
// Fair: waiters acquire in FIFO order.
//
// Cancel safety: safe; a cancelled acquire() never leaves the lock held; if
// the waiter had already been woken, the wake-up passes to the next waiter.
// Thread safety: loop thread only. Errors: release() of an unlocked Lock
// throws std::runtime_error("Lock is not acquired.").
#pragma once

#include <coroutine>
#include <stdexcept>
#include <utility>

#include <tulip/sync/waiters.hpp>

namespace tulip {

class Lock {
public:
    using Guard = detail::ReleaseGuard<Lock>;

    Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    bool locked() const noexcept { return locked_; }

    struct AcquireAwaiter {
        // Not an aggregate: see the GCC 12.2 note in sync/waiters.hpp.
        explicit AcquireAwaiter(Lock& l) noexcept : lock(l) {}
        Lock& lock;
        detail::LinkedWaiter lw;
        bool fast = false;

        bool await_ready() noexcept {
            if (!lock.locked_ && lock.waiters_.all_cancelled()) {
                lock.locked_ = true;
                fast = true;
            }
            return fast;
        }
        void await_suspend(std::coroutine_handle<> h) {
            lw.list = &lock.waiters_;
            lock.waiters_.push_back(&lw.w);
            lw.w.park(h);
        }
        Guard await_resume() {
            if (fast) return Guard(&lock);
            lock.waiters_.remove(&lw.w);  // asyncio: finally: waiters.remove(fut)
            try {
                lw.w.raise_if_cancelled();
            } catch (...) {
                // Keep the invariant: if the lock is free, the head waiter will run.
                if (!lock.locked_) lock.wake_up_first();
                throw;
            }
            lock.locked_ = true;
            return Guard(&lock);
        }
    };
    // Waits until the lock is free and takes it; returns a Guard.
    AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }

    // Releases the lock (asyncio Lock.release()); prefer the Guard.
    void release() {
        if (!locked_) throw std::runtime_error("Lock is not acquired.");
        locked_ = false;
        wake_up_first();
    }

private:
    void wake_up_first() noexcept {
        detail::Waiter* w = waiters_.front();
        if (w && !w->done()) w->set_result();
    }
    detail::WaiterList waiters_;
    bool locked_ = false;
};

}  // namespace tulip
