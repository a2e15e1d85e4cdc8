// tulip/task/threadsafe.hpp — run_coroutine_threadsafe (asyncio.run_coroutine_threadsafe).
//
// From any thread: schedules coro as a Task on `loop` (running in another
// thread) and returns a ConcurrentFuture that the calling thread can block on
// (result(timeout)). Cancelling the ConcurrentFuture cancels the Task.
//
// Lifetimes: the loop is reached through its LoopRef only (pass one, or the
// loop while it is surely alive). A loop closed before the call: throws
// std::runtime_error("Event loop is closed") as asyncio does. A loop closed
// before the coroutine completes (before it started or while it runs): the
// ConcurrentFuture fails with std::runtime_error, so result() never hangs.
#pragma once

#include <memory>
#include <stdexcept>
#include <utility>

#include <tulip/loop/concurrent_future.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

namespace detail {
// The task handle lives and dies on the loop thread; other threads only hold
// the box. `task` is reset on the loop thread once the task is done, or when
// the loop drops the task's callbacks at close.
template <class T>
struct ThreadsafeBox {
    Task<T> task;
};

// Fails the ConcurrentFuture if the loop drops the work before completing it
// (a closed loop destroys pending callbacks without running them): whatever
// path the work takes, the other thread hears of it. A no-op once done.
template <class T>
struct ConcurrentCompleter {
    explicit ConcurrentCompleter(ConcurrentFuture<T> f) : cf(std::move(f)) {}
    ConcurrentCompleter(ConcurrentCompleter&& o) noexcept : cf(std::move(o.cf)), armed(std::exchange(o.armed, false)) {}
    ConcurrentCompleter(const ConcurrentCompleter&) = delete;
    ConcurrentCompleter& operator=(const ConcurrentCompleter&) = delete;
    ~ConcurrentCompleter() {
        if (!armed) return;
        try {
            cf.set_exception(std::make_exception_ptr(std::runtime_error(
                "Event loop is closed: the coroutine given to run_coroutine_threadsafe did not complete")));
        } catch (...) {}
    }
    ConcurrentFuture<T> cf;
    bool armed = true;
};
}  // namespace detail

template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, LoopRef loop) {
    ConcurrentFuture<T> cf;
    auto box = std::make_shared<detail::ThreadsafeBox<T>>();
    cf.set_cancel_hook([loop, box] {
        try {
            loop.call_soon_threadsafe([box] {
                if (box->task) box->task.cancel();
            });
        } catch (...) {
            // The loop is closed: the ConcurrentFuture was failed or is cancelled already.
        }
    });
    if (!loop) throw std::runtime_error("LoopRef is empty");
    EventLoop* target = loop.door()->loop();  // dereferenced only by the callback, on the loop
    loop.call_soon_threadsafe([target, box, done = detail::ConcurrentCompleter<T>(cf), c = std::move(coro)]() mutable {
        ConcurrentFuture<T>& f = done.cf;
        if (f.cancelled()) {
            done.armed = false;
            return;
        }
        try {
            box->task = target->create_task(std::move(c));
        } catch (...) {
            // A task factory refused it: the caller gets the error and, as
            // asyncio re-raises it in the callback, so does the loop's
            // exception handler.
            f.set_exception(std::current_exception());
            done.armed = false;
            throw;
        }
        // If the loop closes with the task pending, it drops this callback:
        // the completer then fails the ConcurrentFuture and box is emptied on
        // the loop thread (a Task is never released on another thread).
        struct Reset {
            std::shared_ptr<detail::ThreadsafeBox<T>> box;
            Reset(std::shared_ptr<detail::ThreadsafeBox<T>> b) : box(std::move(b)) {}
            Reset(Reset&&) noexcept = default;
            ~Reset() {
                if (box) box->task = Task<T>();
            }
        };
        box->task.add_done_callback([reset = Reset(box), done = std::move(done)](Task<T>& t) mutable {
            ConcurrentFuture<T>& cf = done.cf;
            done.armed = false;
            if (t.cancelled()) {
                cf.set_cancelled();
            } else if (auto e = t.exception()) {
                cf.set_exception(e);
            } else if constexpr (std::is_void_v<T>) {
                cf.set_result();
            } else {
                cf.set_result(std::move(t.result()));  // our own task: nobody else reads it
            }
        });
    });
    return cf;
}

template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    return run_coroutine_threadsafe(std::move(coro), loop.threadsafe_ref());
}

}  // namespace tulip
