// tulip/loop/concurrent_future.hpp — ConcurrentFuture (concurrent.futures.Future):
// a thread-safe result that a plain thread can block on, with result(timeout).
//
// What run_coroutine_threadsafe and ThreadPoolExecutor::submit return. The
// lock and the condition variable are behind detail::ConcurrentCore, defined
// in src/loop/concurrent_future.cpp, so that this header does not pull
// <mutex> or <condition_variable> into every user of tulip.hpp.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <tulip/core/copyable.hpp>
#include <tulip/core/exceptions.hpp>
#include <tulip/core/owned.hpp>

namespace tulip {

namespace detail {

// The untyped half of a ConcurrentFuture's state; any thread may use it. The
// outcome (cancelled, error, the typed value) is written once, under the lock,
// and never changes after done, so it may be read without the lock by a thread
// that saw done through wait().
class ConcurrentCore {
public:
    ConcurrentCore();
    ~ConcurrentCore();
    ConcurrentCore(const ConcurrentCore&) = delete;
    ConcurrentCore& operator=(const ConcurrentCore&) = delete;

    bool done() const;
    bool cancelled() const;
    // Blocks until done; throws TimeoutError when timeout passes first
    // (std::invalid_argument for a NaN timeout).
    void wait(const std::optional<std::chrono::duration<double>>& timeout);
    // The outcome, for a thread that returned from wait().
    bool outcome_cancelled() const noexcept { return cancelled_; }
    const std::exception_ptr& outcome_error() const noexcept { return error_; }

    // Runs fill(ctx) (which stores the value) and marks done, under the lock;
    // false, without calling fill, if done already.
    bool complete(void (*fill)(void*), void* ctx);
    bool set_exception(std::exception_ptr e);
    bool set_cancelled();
    // Cancels if not done; the hook runs on this thread, outside the lock.
    bool cancel();
    void set_cancel_hook(std::function<void()> hook);

private:
    struct Sync;  // the mutex and the condition variable
    Owned<Sync> sync_;
    bool done_ = false;
    bool cancelled_ = false;
    std::exception_ptr error_;
    std::function<void()> on_cancel_;  // asks the producer to stop (e.g. cancel a Task)
};

template <class T>
struct ConcurrentState : ConcurrentCore {
    std::optional<std::conditional_t<std::is_void_v<T>, char, T>> value;
};

}  // namespace detail

// concurrent.futures.Future: result(timeout) blocks the calling thread.
template <class T>
class ConcurrentFuture {
public:
    ConcurrentFuture() : s_(std::make_shared<detail::ConcurrentState<T>>()) {}

    bool done() const { return s_->done(); }
    bool cancelled() const { return s_->cancelled(); }
    // Blocks until done (or timeout: TimeoutError); returns the value or rethrows.
    // Every caller sees the same object (concurrent.futures): a copy of a
    // copyable result, a reference to a move-only one (valid while a handle
    // to this future lives; the value is never changed once set).
    std::conditional_t<detail::copyable_result_v<T>, T, std::add_lvalue_reference_t<T>> result(
        std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
        s_->wait(timeout);
        if (s_->outcome_cancelled()) throw CancelledError();
        if (s_->outcome_error()) std::rethrow_exception(s_->outcome_error());
        if constexpr (!std::is_void_v<T>) return *s_->value;
    }
    std::exception_ptr exception(std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
        s_->wait(timeout);
        if (s_->outcome_cancelled()) throw CancelledError();
        return s_->outcome_error();
    }
    // Cancels a future that is not done yet (false otherwise): it is cancelled
    // from now on, as concurrent.futures.Future.cancel(), and the producer is
    // asked to stop through the cancel hook; a result it delivers later is
    // dropped. (Waiting for the producer instead would let cancel() return
    // true for a future that then completes with a result.)
    bool cancel() { return s_->cancel(); }

    // Producer side.
    template <class... V>
    bool set_result(V&&... v) {
        auto fill = [&] {
            if constexpr (std::is_void_v<T>)
                s_->value.emplace('\0');
            else
                s_->value.emplace(std::forward<V>(v)...);
        };
        return s_->complete([](void* f) { (*static_cast<decltype(fill)*>(f))(); }, &fill);
    }
    bool set_exception(std::exception_ptr e) { return s_->set_exception(std::move(e)); }
    bool set_cancelled() { return s_->set_cancelled(); }
    void set_cancel_hook(std::function<void()> hook) { s_->set_cancel_hook(std::move(hook)); }

private:
    std::shared_ptr<detail::ConcurrentState<T>> s_;
};

}  // namespace tulip
