// tulip/task/sleep.hpp — sleep(delay) (asyncio.sleep).
//
// sleep(0) (or any delay <= 0) is a bare yield: the task goes to the tail of
// the ready queue and resumes in the next iteration. A positive delay arms a
// timer; when it fires, the task is scheduled (one hop, as asyncio's
// future + call_later).
//
// Cancel safety: safe; the timer is disarmed and CancelledError is thrown
// from the co_await; nothing else changes. Thread safety: loop thread only.
// Errors: CancelledError; std::invalid_argument for a NaN delay (at the call).
// Limits: none: an infinite or huge delay never fires (until cancelled); the
// clock is the loop's (virtual time in tests).
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <string>
#include <utility>

#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

namespace detail {

class SleepAwaiter final : Cancellable {
public:
    explicit SleepAwaiter(std::int64_t delay_ns) noexcept : delay_ns_(delay_ns) {}
    // Movable only before it is awaited (so gather(sleep(1), ...) can wrap it).
    SleepAwaiter(SleepAwaiter&& o) noexcept : delay_ns_(o.delay_ns_) {}
    SleepAwaiter(const SleepAwaiter&) = delete;
    ~SleepAwaiter() {
        if (state_ == State::armed && timer_.heap_index != TimerNode::kNotInHeap)
            detail::LoopAccess::remove_timer(*loop_, &timer_);
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        TaskBase& t = current_task_for_await("sleep");
        task_ = &t;
        loop_ = t.fut->loop;
        t.resume_at = h;
        if (delay_ns_ <= 0) {
            // asyncio's __sleep0: a bare yield; cancel() sets must_cancel instead.
            state_ = State::yielded;
            detail::LoopAccess::schedule(*loop_, &t);
            return;
        }
        state_ = State::armed;
        timer_.run = &on_timer;
        timer_.owner = this;
        detail::LoopAccess::add_timer(*loop_, &timer_, &timer_, detail::LoopAccess::deadline_after(*loop_, delay_ns_));
        t.waiter = this;
        if (t.must_cancel && cancel(t.fut->cancel_message)) t.must_cancel = false;
    }
    void await_resume() {
        TaskBase* t = std::exchange(task_, nullptr);
        if (state_ == State::cancelled) {
            state_ = State::idle;
            if (t) t->must_cancel = false;
            throw CancelledError(std::move(msg_));
        }
        state_ = State::idle;
        if (t) check_pending_cancel(*t);
    }

    bool cancel(const std::string& msg) override {
        if (state_ != State::armed) return false;
        if (timer_.heap_index != TimerNode::kNotInHeap) detail::LoopAccess::remove_timer(*loop_, &timer_);
        // If the timer was already moved to the ready queue, it runs before the
        // task (FIFO) and sees the cancelled state.
        state_ = State::cancelled;
        msg_ = msg;
        detail::LoopAccess::schedule(*loop_, task_);
        return true;
    }

private:
    enum class State : std::uint8_t { idle, yielded, armed, fired, cancelled };
    struct SleepTimer : TimerNode, ReadyNode {
        SleepAwaiter* owner = nullptr;
    };
    static void on_timer(ReadyNode* n) {
        auto* self = static_cast<SleepTimer*>(n)->owner;
        if (self->state_ != State::armed) return;
        self->state_ = State::fired;
        detail::LoopAccess::schedule(*self->loop_, self->task_);
    }
    SleepTimer timer_;
    std::int64_t delay_ns_;
    EventLoop* loop_ = nullptr;
    TaskBase* task_ = nullptr;
    std::string msg_;
    State state_ = State::idle;
};

}  // namespace detail

// Suspends the current task for `delay` (asyncio.sleep). sleep(0) yields once;
// a negative delay is 0; an infinite or huge one sleeps until cancelled; NaN
// throws std::invalid_argument.
[[nodiscard]] inline detail::SleepAwaiter sleep(Seconds delay) {
    return detail::SleepAwaiter(detail::LoopAccess::to_ns(delay, "sleep: delay"));
}
[[nodiscard]] inline detail::SleepAwaiter sleep(double delay_seconds) { return sleep(Seconds(delay_seconds)); }
// An exact match for integer literals, so that `sleep(0)` picks this one over
// POSIX ::sleep(unsigned) under `using namespace tulip`.
[[nodiscard]] inline detail::SleepAwaiter sleep(int delay_seconds) { return sleep(Seconds(delay_seconds)); }

// sleep(delay, result): returns result after the delay, as asyncio.sleep(delay, result).
template <class T>
Coro<T> sleep(Seconds delay, T result) {
    co_await sleep(delay);
    co_return result;
}
template <class T>
Coro<T> sleep(double delay_seconds, T result) {
    return sleep(Seconds(delay_seconds), std::move(result));
}

}  // namespace tulip
