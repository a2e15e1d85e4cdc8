// tulip/task/threadsafe.hpp — run_coroutine_threadsafe (asyncio.run_coroutine_threadsafe).
//
// From any thread: schedules coro as a Task on `loop` (running in another
// thread) and returns a ConcurrentFuture that the calling thread can block on
// (result(timeout)). Cancelling the ConcurrentFuture cancels the Task.
#pragma once

#include <memory>
#include <utility>

#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/executor.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

namespace detail {
// The task handle lives and dies on the loop thread; other threads only hold
// the box. `task` is reset on the loop thread once the task is done.
template <class T>
struct ThreadsafeBox {
    Task<T> task;
};
}  // namespace detail

template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    ConcurrentFuture<T> cf;
    auto box = std::make_shared<detail::ThreadsafeBox<T>>();
    cf.set_cancel_hook([&loop, box] {
        try {
            loop.call_soon_threadsafe([box] {
                if (box->task) box->task.cancel();
            });
        } catch (...) {
        }
    });
    loop.call_soon_threadsafe([&loop, cf, box, c = std::move(coro)]() mutable {
        if (cf.cancelled()) return;
        try {
            box->task = loop.create_task(std::move(c));
        } catch (...) {
            cf.set_exception(std::current_exception());
            return;
        }
        box->task.add_done_callback([cf, box](Task<T>& t) mutable {
            if (t.cancelled()) {
                cf.set_cancelled();
            } else if (auto e = t.exception()) {
                cf.set_exception(e);
            } else if constexpr (std::is_void_v<T>) {
                cf.set_result();
            } else {
                cf.set_result(std::move(t.result()));  // our own task: nobody else reads it
            }
            box->task = Task<T>();
        });
    });
    return cf;
}

}  // namespace tulip
