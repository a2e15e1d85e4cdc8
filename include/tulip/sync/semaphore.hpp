// tulip/sync/semaphore.hpp — Semaphore and BoundedSemaphore (asyncio.Semaphore,
// asyncio.BoundedSemaphore).
//
//     auto slot = co_await sem.acquire();   // async with sem:
//
// A counter: acquire() takes one (waiting while it is 0), release() gives one
// back. FIFO: once anybody waits, newcomers wait behind them even if the
// counter is positive. BoundedSemaphore::release() past the initial value
// throws std::invalid_argument("BoundedSemaphore released too many times").
//
// Cancel safety: safe; a cancelled acquire() takes nothing; if it had already
// been granted a unit, the unit goes back and passes to the next waiter.
// Thread safety: loop thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <stdexcept>
#include <utility>

#include <tulip/sync/waiters.hpp>

namespace tulip {

class Semaphore {
public:
    explicit Semaphore(std::ptrdiff_t value = 1) : value_(value) {
        if (value < 0) throw std::invalid_argument("Semaphore initial value must be >= 0");
    }
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    virtual ~Semaphore() = default;

    using Guard = detail::ReleaseGuard<Semaphore>;

    // True if acquire() would wait.
    bool locked() const noexcept { return value_ == 0 || waiters_.any_not_cancelled(); }
    std::ptrdiff_t value() const noexcept { return value_; }

    struct AcquireAwaiter {
        // Not an aggregate: see the GCC 12.2 note in sync/waiters.hpp.
        explicit AcquireAwaiter(Semaphore& s) noexcept : sem(s) {}
        Semaphore& sem;
        detail::LinkedWaiter lw;
        bool fast = false;
        bool await_ready() noexcept {
            if (!sem.locked()) {
                --sem.value_;
                fast = true;
            }
            return fast;
        }
        void await_suspend(std::coroutine_handle<> h) {
            lw.list = &sem.waiters_;
            sem.waiters_.push_back(&lw.w);
            lw.w.park(h);
        }
        Guard await_resume() {
            if (fast) return Guard(&sem);
            sem.waiters_.remove(&lw.w);
            try {
                lw.w.raise_if_cancelled();
            } catch (...) {
                // Granted by wake_up_next() but not taking it: give the unit back.
                if (lw.w.done() && !lw.w.cancelled()) ++sem.value_;
                sem.wake_while_positive();
                throw;
            }
            sem.wake_while_positive();  // newcomers may have queued behind us
            return Guard(&sem);
        }
    };
    AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }

    virtual void release() {
        ++value_;
        wake_up_next();
    }

protected:
    // Wakes the first waiter not woken yet: O(1) amortised (a walk of the
    // whole list per release made n releases over n waiters quadratic).
    bool wake_up_next() noexcept {
        detail::Waiter* w = waiters_.first_not_done();
        if (!w) return false;
        --value_;
        w->set_result();
        return true;
    }
    void wake_while_positive() noexcept {
        while (value_ > 0)
            if (!wake_up_next()) break;
    }
    detail::WaiterList waiters_;
    std::ptrdiff_t value_;
};

class BoundedSemaphore final : public Semaphore {
public:
    explicit BoundedSemaphore(std::ptrdiff_t value = 1) : Semaphore(value), bound_(value) {}
    void release() override {
        if (value_ >= bound_) throw std::invalid_argument("BoundedSemaphore released too many times");
        Semaphore::release();
    }

private:
    std::ptrdiff_t bound_;
};

}  // namespace tulip
