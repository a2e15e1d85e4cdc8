// Condition.wait, ported from asyncio/locks.py (3.13).
#include <tulip/sync/condition.hpp>

#include <exception>

namespace tulip {

namespace {
// Parks on the condition's waiter list (asyncio: fut in self._waiters).
struct NotifyAwaiter {
    // Not an aggregate: see the GCC 12.2 note in sync/waiters.hpp.
    NotifyAwaiter(detail::WaiterList& l, detail::LinkedWaiter& w) noexcept : list(l), lw(w) {}
    detail::WaiterList& list;
    detail::LinkedWaiter& lw;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        lw.list = &list;
        list.push_back(&lw.w);
        lw.w.park(h);
    }
    void await_resume() {
        list.remove(&lw.w);
        lw.w.raise_if_cancelled();
    }
};
}  // namespace

// Stops after the n-th wake-up (a full walk made notify() O(waiters)).
void Condition::do_notify(std::size_t n) noexcept {
    std::size_t idx = 0;
    for (detail::Waiter* w = waiters_.first_not_done(); w && idx < n; w = w->next) {
        if (w->done()) continue;
        ++idx;
        w->set_result();
    }
}

Coro<bool> Condition::wait() {
    if (!locked()) throw std::runtime_error("cannot wait on un-acquired lock");
    std::exception_ptr failure;
    release();
    {
        detail::LinkedWaiter lw;
        try {
            co_await NotifyAwaiter(waiters_, lw);
        } catch (...) {
            failure = std::current_exception();
        }
    }
    // Re-acquire the lock even if the wait was cancelled; only cancellation
    // is retried, and the most recent CancelledError is the one raised.
    std::exception_ptr cancelled;
    for (;;) {
        try {
            auto held = co_await lock_->acquire();
            held.detach();
            break;
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        }
    }
    if (cancelled) failure = cancelled;
    if (failure) {
        // We may have been notified already: pass it on (a spurious wake-up is allowed).
        do_notify(1);
        std::rethrow_exception(failure);
    }
    co_return true;
}

}  // namespace tulip
