// tulip/task/to_thread.hpp — to_thread (asyncio.to_thread).
//
// co_await to_thread(f, args...) runs f(args...) on the loop's default
// executor and returns its result, rethrowing what f threw. Arguments are
// copied (or moved) to the worker thread.
//
// Cancel safety: not safe: the caller sees CancelledError at once; f keeps
// running to completion on its thread (a thread cannot be interrupted), its
// result is dropped. Thread safety: call from the loop thread.
#pragma once

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tulip/loop/event_loop.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

template <class F, class... Args>
Coro<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>> to_thread(F f, Args... args) {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    auto call = [fn = std::move(f), tup = std::make_tuple(std::move(args)...)]() mutable -> R {
        return std::apply(std::move(fn), std::move(tup));
    };
    auto fut = get_running_loop().run_in_executor(nullptr, std::move(call));
    if constexpr (std::is_void_v<R>) {
        co_await std::move(fut);
    } else {
        co_return co_await std::move(fut);  // ours alone: the result is moved
    }
}

}  // namespace tulip
