// tulip/task/timeout.hpp — timeout / timeout_at (asyncio.timeout, asyncio.Timeout).
//
// C++ has no `async with`, and a destructor cannot wait or throw, so the scope
// takes its body as a coroutine:
//
//     auto page = co_await tulip::timeout(5s, [&](tulip::Timeout& t) -> tulip::Coro<std::string> {
//         co_return co_await fetch_page(url);      // t.reschedule(...), t.expired() inside
//     });
//
// When the deadline passes, the current task is cancelled; the body sees
// CancelledError at its await, and when it leaves, the scope turns that
// cancellation into TimeoutError — unless somebody else also cancelled the
// task (then CancelledError propagates, as asyncio's uncancel() accounting).
// A deadline of nullopt never expires.
//
// Cancel safety: that of the body: on expiry or on a cancel from outside, the
// body's work is cancelled and waited for; an outside cancel propagates as
// CancelledError (never TimeoutError), and after an expiry the task absorbed
// no cancel request is left (cancelling() is back where it was).
// Thread safety: loop thread only.
#pragma once

#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

class Timeout {
public:
    explicit Timeout(std::optional<double> when) noexcept : when_(when) {}
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout() { handle_.cancel(); }

    // The deadline on the loop's clock (loop.time() seconds), or nullopt.
    std::optional<double> when() const noexcept { return when_; }
    // Moves the deadline (nullopt or +inf: never). Only while the scope is
    // active. NaN throws std::invalid_argument and leaves the deadline as it was.
    void reschedule(std::optional<double> when);
    // Whether the deadline passed (the scope cancelled its task).
    bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

    // The scope protocol (used by timeout_at; public for custom scopes).
    void enter();
    // Leaves the scope; returns true if the body's CancelledError must become TimeoutError.
    bool exit(bool body_raised_cancelled) noexcept;

private:
    enum class State { created, entered, expiring, expired, exited };
    void on_timeout();
    std::optional<double> when_;
    State state_ = State::created;
    Handle handle_;
    AnyTask task_;
    std::uint32_t cancelling_ = 0;
};

namespace detail {
template <class F>
using scope_result_t = typename std::invoke_result_t<F&, Timeout&>::value_type;
}

// Runs body(Timeout&) with a deadline at `when` on the loop's clock.
template <class F>
Coro<detail::scope_result_t<F>> timeout_at(std::optional<double> when, F body) {
    using R = detail::scope_result_t<F>;
    Timeout t(when);
    t.enter();
    bool to_timeout = false;
    try {
        if constexpr (std::is_void_v<R>) {
            co_await body(t);
            t.exit(false);
            co_return;
        } else {
            R r = co_await body(t);
            t.exit(false);
            co_return r;
        }
    } catch (const CancelledError&) {
        to_timeout = t.exit(true);
        if (!to_timeout) throw;
    } catch (...) {
        t.exit(false);
        throw;
    }
    throw TimeoutError("the timeout expired");
}

// Runs body(Timeout&) with a deadline `delay` from now (nullopt: none; an
// infinite or huge delay never expires; NaN throws std::invalid_argument).
template <class F>
Coro<detail::scope_result_t<F>> timeout(std::optional<Seconds> delay, F body) {
    std::optional<double> when;
    if (delay) {
        (void)detail::LoopAccess::to_ns(*delay, "timeout: delay");  // NaN: refused here, not when awaited
        when = get_running_loop().time() + delay->count();
    }
    return timeout_at(when, std::move(body));
}

}  // namespace tulip
