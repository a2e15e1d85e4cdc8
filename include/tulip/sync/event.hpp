// tulip/sync/event.hpp — Event (asyncio.Event).
//
// wait() returns at once when the flag is set, else waits until set() is
// called; set() wakes every waiter (each resumes one hop later). clear()
// resets the flag. Cancel safety: safe; a cancelled wait() simply leaves.
// Thread safety: loop thread only (from other threads: loop.call_soon_threadsafe).
#pragma once

#include <coroutine>

#include <tulip/sync/waiters.hpp>

namespace tulip {

class Event {
public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    bool is_set() const noexcept { return value_; }
    void set() noexcept {
        if (value_) return;
        value_ = true;
        waiters_.for_each([](detail::Waiter* w) {
            if (!w->done()) w->set_result();
        });
    }
    void clear() noexcept { value_ = false; }

    struct WaitAwaiter {
        // Not an aggregate: see the GCC 12.2 note in sync/waiters.hpp.
        explicit WaitAwaiter(Event& e) noexcept : ev(e) {}
        Event& ev;
        detail::LinkedWaiter lw;
        bool await_ready() const noexcept { return ev.value_; }
        void await_suspend(std::coroutine_handle<> h) {
            lw.list = &ev.waiters_;
            ev.waiters_.push_back(&lw.w);
            lw.w.park(h);
        }
        bool await_resume() {
            if (lw.list) ev.waiters_.remove(&lw.w);
            if (lw.w.task) lw.w.raise_if_cancelled();
            return true;
        }
    };
    // Waits until the flag is set; returns true (as asyncio).
    WaitAwaiter wait() noexcept { return WaitAwaiter(*this); }

private:
    detail::WaiterList waiters_;
    bool value_ = false;
};

}  // namespace tulip
