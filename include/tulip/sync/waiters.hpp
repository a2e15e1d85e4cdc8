// tulip/sync/waiters.hpp — the intrusive waiter behind every sync primitive (internal).
//
// asyncio's primitives park a task on a fresh Future kept in a deque. tulip's
// Waiter plays that Future's part without allocating: it lives in the
// awaiter, inside the waiting coroutine's frame, and links itself into the
// primitive's list. Its states mirror the Future's (pending, done, cancelled),
// so the primitives can be ported line by line: set_result() wakes the task
// one hop later, cancel() (from Task::cancel) wakes it with CancelledError,
// and a cancelled waiter stays linked until its task runs — exactly when
// asyncio's `finally: waiters.remove(fut)` would run.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/task/future.hpp>

namespace tulip::detail {

struct Waiter final : Cancellable {
    enum class State : std::uint8_t { pending, done, cancelled };

    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    bool linked = false;
    State state = State::pending;
    TaskBase* task = nullptr;
    std::string cancel_msg;

    Waiter() = default;
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    bool done() const noexcept { return state != State::pending; }
    bool cancelled() const noexcept { return state == State::cancelled; }

    // Future.set_result: the task resumes in a later iteration.
    void set_result() noexcept {
        state = State::done;
        LoopAccess::schedule(*task->fut->loop, task);
    }
    // Task::cancel reaches us through TaskBase::waiter.
    bool cancel(const std::string& msg) override {
        if (state != State::pending) return false;
        state = State::cancelled;
        cancel_msg = msg;
        LoopAccess::schedule(*task->fut->loop, task);
        return true;
    }
    // In await_suspend: parks the current task on this waiter.
    void park(std::coroutine_handle<> h) {
        TaskBase& t = current_task_for_await("wait on a synchronisation primitive");
        task = &t;
        t.resume_at = h;
        t.waiter = this;
        if (t.must_cancel && cancel(t.fut->cancel_message)) t.must_cancel = false;
    }
    // In await_resume: raises CancelledError if cancelled or a cancel is pending
    // (asyncio: CancelledError from `await fut`, or thrown in by __step).
    void raise_if_cancelled() {
        if (state == State::cancelled) {
            task->must_cancel = false;
            throw CancelledError(cancel_msg);
        }
        check_pending_cancel(*task);
    }
};

// A FIFO of waiters (asyncio's collections.deque of futures).
class WaiterList {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    Waiter* front() const noexcept { return head_; }

    void push_back(Waiter* w) noexcept {
        w->prev = tail_;
        w->next = nullptr;
        (tail_ ? tail_->next : head_) = w;
        tail_ = w;
        w->linked = true;
        ++size_;
    }
    void remove(Waiter* w) noexcept {
        if (!w->linked) return;
        if (w == hint_) hint_ = w->prev;
        (w->prev ? w->prev->next : head_) = w->next;
        (w->next ? w->next->prev : tail_) = w->prev;
        w->prev = w->next = nullptr;
        w->linked = false;
        --size_;
    }
    Waiter* pop_front() noexcept {
        Waiter* w = head_;
        if (w) remove(w);
        return w;
    }
    template <class F>
    void for_each(F&& f) const {
        for (Waiter* w = head_; w;) {
            Waiter* n = w->next;  // f may unlink w
            f(w);
            w = n;
        }
    }
    // The first waiter not done yet, or null. Woken waiters stay linked until
    // their task runs (asyncio's `finally: waiters.remove(fut)`); a hint past
    // that done prefix keeps n wake-ups in a row O(n), not O(n^2). A waiter
    // never becomes pending again and new ones go to the back, so everything
    // before the hint stays done.
    Waiter* first_not_done() noexcept {
        Waiter* w = hint_ ? hint_ : head_;
        while (w && w->done()) {
            hint_ = w;
            w = w->next;
        }
        return w;
    }
    bool all_cancelled() const noexcept {
        for (Waiter* w = head_; w; w = w->next)
            if (!w->cancelled()) return false;
        return true;
    }
    bool any_not_cancelled() const noexcept { return !all_cancelled(); }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
    Waiter* hint_ = nullptr;  // every waiter up to and including it is done (null: none known)
    std::size_t size_ = 0;
};

// Unlinks on destruction: a frame torn down while waiting leaves no dangling node.
//
// GCC 12.2 note: an awaiter that holds one of these must have a constructor.
// When a co_await operand is an aggregate-initialised temporary
// (`co_await Park{a, b}`), GCC 12.2 destroys its members twice; we saw it as
// a free() of a bad pointer from ~std::string. Constructed awaiters are fine.
struct LinkedWaiter {
    Waiter w;
    WaiterList* list = nullptr;
    LinkedWaiter() = default;
    LinkedWaiter(const LinkedWaiter&) = delete;
    // An awaiter may be moved before its first co_await, as in
    // wait_for(ev.wait(), t) or gather(ev.wait(), lock.acquire()) (asyncio's
    // `wait_for(event.wait(), t)`); without this those do not compile. The
    // move yields a fresh, unlinked waiter. A parked waiter is never moved
    // (its awaiter sits in the suspended frame); if one were, the source
    // would keep its link and drop it on destruction.
    LinkedWaiter(LinkedWaiter&&) noexcept {}
    ~LinkedWaiter() {
        if (list) list->remove(&w);
    }
};

// The RAII guard that acquire() returns (Lock::Guard, Semaphore::Guard):
// releases on destruction; release() early, detach() to keep it held.
template <class P>
class [[nodiscard]] ReleaseGuard {
public:
    ReleaseGuard() noexcept = default;
    explicit ReleaseGuard(P* p) noexcept : p_(p) {}
    ReleaseGuard(ReleaseGuard&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    ReleaseGuard& operator=(ReleaseGuard&& o) noexcept {
        if (this != &o) {
            reset();
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    // A destructor must not throw (it may run while unwinding): if the caller
    // released the primitive by hand while this guard still held it, the
    // second release fails (Lock: "Lock is not acquired.") and is logged.
    ~ReleaseGuard() {
        try {
            reset();
        } catch (const std::exception& e) {
            log(LogLevel::error,
                std::string("releasing a guard on exit failed (was it released by hand?): ") + e.what());
        }
    }
    // Releases now (idempotent).
    void release() { reset(); }
    // Keeps it held; the caller must call release() on the primitive later.
    void detach() noexcept { p_ = nullptr; }
    bool owns() const noexcept { return p_ != nullptr; }
    bool owns_lock() const noexcept { return p_ != nullptr; }

private:
    void reset() {
        if (auto* p = std::exchange(p_, nullptr)) p->release();
    }
    P* p_ = nullptr;
};

}  // namespace tulip::detail
