// tulip/task/wait_for.hpp — wait_for (asyncio.wait_for, 3.12 semantics).
//
// Awaits a Coro, Task or Future with a timeout. On expiry the inner work is
// cancelled and waited for, then TimeoutError is raised. A Coro runs inline in
// the calling task (as `await coro` inside asyncio's wait_for); a Task or
// Future is awaited and cancelled on expiry. timeout <= 0: a done Future gives
// its result at once, anything else is cancelled and TimeoutError raised.
// nullopt: no timeout.
//
// Cancel safety: not safe: cancelling the caller cancels the inner work (its
// result, if any, is dropped) and propagates CancelledError, never
// TimeoutError. Thread safety: loop thread only.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/timeout.hpp>

namespace tulip {

namespace detail {

// Cancels f and waits until it is done, without raising its outcome.
Coro<void> cancel_and_wait(FutureBase f);

template <class A>
Coro<awaitable_result_t<A>> await_inner(A aw, Timeout&) {
    co_return co_await std::move(aw);
}

}  // namespace detail

template <class A>
Coro<detail::awaitable_result_t<A>> wait_for(A aw, std::optional<Seconds> timeout) {
    using T = detail::awaitable_result_t<A>;
    if (timeout) (void)detail::LoopAccess::to_ns(*timeout, "wait_for: timeout");  // NaN: std::invalid_argument
    if (timeout && timeout->count() <= 0) {
        auto fut = detail::ensure_future(get_running_loop(), std::move(aw));
        if (!fut.done()) {
            co_await detail::cancel_and_wait(fut);
            if (fut.cancelled()) throw TimeoutError("wait_for: the timeout expired");
        }
        co_return detail::consume_result<T>(fut, 1);  // the rule in future.hpp
    }
    auto body = [a = std::move(aw)](Timeout& t) mutable { return detail::await_inner(std::move(a), t); };
    co_return co_await tulip::timeout(timeout, std::move(body));
}

template <class A>
Coro<detail::awaitable_result_t<A>> wait_for(A aw, double timeout_seconds) {
    return wait_for(std::move(aw), std::optional<Seconds>(Seconds(timeout_seconds)));
}

}  // namespace tulip
