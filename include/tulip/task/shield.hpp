// tulip/task/shield.hpp — shield (asyncio.shield).
//
// shield(x) returns a Future that mirrors x (a Coro becomes a Task), except
// that cancelling that Future — or the task awaiting it — does not cancel x.
// The caller sees CancelledError; x runs on. Keep a reference to x's task if
// you need its result later.
// Cancel safety: safe for x (only the outer Future is cancelled); x's result
// goes only to whoever holds x, and a failure of x nobody reads is reported as
// "Task exception was never retrieved" when the task goes (asyncio 3.12+ too).
// Thread safety: loop thread only.
#pragma once

#include <utility>

#include <tulip/task/future.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

namespace detail {
// Passes inner's outcome to outer. own_refs: 0 when shield made inner itself
// (nobody else can read it: moved), else the references shield holds (the
// rule in future.hpp decides between move, copy and InvalidStateError).
template <class T>
void copy_future_state(FutureState<T>& from, FutureState<T>& to, std::uint32_t own_refs) {
    if (from.is_cancelled()) {
        to.cancel_future(from.cancel_message);
    } else if (from.exc) {
        from.log_traceback = false;
        to.set_exception(from.exc);
    } else if constexpr (std::is_void_v<T>) {
        to.set_result();
    } else if (own_refs == 0) {
        to.set_result(std::move(from.value.get()));
    } else {
        try {
            to.set_result(consume_result(from, own_refs));
        } catch (const InvalidStateError&) {
            to.set_exception(std::current_exception());
        }
    }
}
}  // namespace detail

template <class A>
Future<detail::awaitable_result_t<A>> shield(A&& aw) {
    using T = detail::awaitable_result_t<A>;
    constexpr bool owned = !std::is_base_of_v<FutureBase, std::remove_cvref_t<A>>;
    EventLoop& loop = get_running_loop();
    Future<T> inner = detail::ensure_future(loop, std::forward<A>(aw));
    if (inner.done()) return inner;
    Future<T> outer = Future<T>::create(loop);
    auto* in_st = static_cast<detail::FutureState<T>*>(inner.state());
    auto* out_st = static_cast<detail::FutureState<T>*>(outer.state());
    DoneCallback inner_cb = inner.add_done_callback([outer, in_st, out_st] {
        if (outer.done()) {
            if (!in_st->is_cancelled()) in_st->log_traceback = false;  // mark retrieved
            return;
        }
        // Not owned: outer's callback below holds one reference to inner, and
        // this callback's node one more while it runs.
        detail::copy_future_state(*in_st, *out_st, owned ? 0 : 2);
    });
    outer.add_done_callback([inner, inner_cb] {
        if (!inner.done()) inner.remove_done_callback(inner_cb);
    });
    return outer;
}

}  // namespace tulip
