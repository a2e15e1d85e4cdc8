// tulip/loop/executor.hpp — thread-pool executors (concurrent.futures.Executor /
// ThreadPoolExecutor) and ConcurrentFuture, the thread-safe result that a plain
// thread can block on (concurrent.futures.Future).
//
// run_in_executor / to_thread submit work here; the loop learns of completion
// through call_soon_threadsafe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/detail/copyable.hpp>

namespace tulip {

// A move-only void() callable (std::move_only_function is C++23).
class Job {
public:
    Job() = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Job>>>
    Job(F&& f) : p_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}
    void operator()() { p_->call(); }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    struct Base {
        virtual ~Base() = default;
        virtual void call() = 0;
    };
    template <class F>
    struct Impl final : Base {
        explicit Impl(F&& f) : f(std::move(f)) {}
        explicit Impl(const F& f) : f(f) {}
        void call() override { f(); }
        F f;
    };
    std::unique_ptr<Base> p_;
};

// What run_in_executor needs of an executor.
class Executor {
public:
    virtual ~Executor() = default;
    // Runs job on some thread, later. Throws std::runtime_error after shutdown().
    virtual void submit_job(Job job) = 0;
    // Stops accepting work; with wait, returns once every submitted job has run.
    virtual void shutdown(bool wait = true) = 0;
};

// concurrent.futures.ThreadPoolExecutor: threads are started lazily, up to
// max_workers (default min(32, cores + 4), as Python).
class ThreadPoolExecutor final : public Executor {
public:
    explicit ThreadPoolExecutor(std::size_t max_workers = 0, std::string thread_name_prefix = "tulip-worker");
    ~ThreadPoolExecutor() override;
    ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
    ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

    void submit_job(Job job) override;
    void shutdown(bool wait = true) override;
    std::size_t max_workers() const noexcept { return max_workers_; }

    // Submits f(args...) and returns a ConcurrentFuture for its result.
    template <class F, class... Args>
    auto submit(F&& f, Args&&... args);

private:
    // Shared with the workers, so shutdown(wait=false) may detach them safely.
    struct State {
        std::mutex mu;
        std::condition_variable cv;
        std::deque<Job> jobs;
        std::size_t idle = 0;
        bool shutdown = false;
    };
    static void worker(std::shared_ptr<State> st);
    std::shared_ptr<State> st_ = std::make_shared<State>();
    std::vector<std::thread> threads_;  // guarded by st_->mu
    std::size_t max_workers_;
    std::string prefix_;
};

namespace detail {
// Shared state of a ConcurrentFuture: guarded by a mutex, any thread may use it.
template <class T>
struct ConcurrentState {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    bool cancelled = false;
    std::optional<std::conditional_t<std::is_void_v<T>, char, T>> value;
    std::exception_ptr error;
    std::function<void()> on_cancel;  // asks the producer to stop (e.g. cancel a Task)
};
}  // namespace detail

// concurrent.futures.Future: result(timeout) blocks the calling thread.
template <class T>
class ConcurrentFuture {
public:
    ConcurrentFuture() : s_(std::make_shared<detail::ConcurrentState<T>>()) {}

    bool done() const {
        std::lock_guard g(s_->mu);
        return s_->done;
    }
    bool cancelled() const {
        std::lock_guard g(s_->mu);
        return s_->cancelled;
    }
    // Blocks until done (or timeout: TimeoutError); returns the value or rethrows.
    // Every caller sees the same object (concurrent.futures): a copy of a
    // copyable result, a reference to a move-only one (valid while a handle
    // to this future lives; the value is never changed once set).
    std::conditional_t<detail::copyable_result_v<T>, T, std::add_lvalue_reference_t<T>> result(std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
        std::unique_lock g(s_->mu);
        wait_locked(g, timeout);
        if (s_->cancelled) throw CancelledError();
        if (s_->error) std::rethrow_exception(s_->error);
        if constexpr (!std::is_void_v<T>) return *s_->value;
    }
    std::exception_ptr exception(std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
        std::unique_lock g(s_->mu);
        wait_locked(g, timeout);
        if (s_->cancelled) throw CancelledError();
        return s_->error;
    }
    // Cancels a future that is not done yet (false otherwise): it is cancelled
    // from now on, as concurrent.futures.Future.cancel(), and the producer is
    // asked to stop through the cancel hook; a result it delivers later is
    // dropped. (Waiting for the producer instead would let cancel() return
    // true for a future that then completes with a result.)
    bool cancel() {
        std::function<void()> hook;
        {
            std::lock_guard g(s_->mu);
            if (s_->done) return false;
            hook = s_->on_cancel;
            s_->cancelled = s_->done = true;
            s_->cv.notify_all();
        }
        if (hook) hook();
        return true;
    }

    // Producer side.
    template <class... V>
    bool set_result(V&&... v) {
        std::lock_guard g(s_->mu);
        if (s_->done) return false;
        if constexpr (std::is_void_v<T>)
            s_->value.emplace('\0');
        else
            s_->value.emplace(std::forward<V>(v)...);
        s_->done = true;
        s_->cv.notify_all();
        return true;
    }
    bool set_exception(std::exception_ptr e) {
        std::lock_guard g(s_->mu);
        if (s_->done) return false;
        s_->error = std::move(e);
        s_->done = true;
        s_->cv.notify_all();
        return true;
    }
    bool set_cancelled() {
        std::lock_guard g(s_->mu);
        if (s_->done) return false;
        s_->cancelled = s_->done = true;
        s_->cv.notify_all();
        return true;
    }
    void set_cancel_hook(std::function<void()> hook) {
        std::lock_guard g(s_->mu);
        s_->on_cancel = std::move(hook);
    }

private:
    void wait_locked(std::unique_lock<std::mutex>& g, std::optional<std::chrono::duration<double>> timeout) {
        // cv.wait_for converts to the clock's integer nanoseconds: a huge or
        // infinite timeout would overflow, so past ~30 years it means "no timeout".
        double secs = timeout ? timeout->count() : 0.0;
        if (timeout && secs != secs) throw std::invalid_argument("result: timeout must not be NaN");
        if (timeout && secs < 1e9) {
            auto d = std::chrono::duration<double>(secs > 0 ? secs : 0.0);
            if (!s_->cv.wait_for(g, d, [&] { return s_->done; })) throw TimeoutError();
        } else {
            s_->cv.wait(g, [&] { return s_->done; });
        }
    }
    std::shared_ptr<detail::ConcurrentState<T>> s_;
};

template <class F, class... Args>
auto ThreadPoolExecutor::submit(F&& f, Args&&... args) {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    ConcurrentFuture<R> fut;
    submit_job([fut, fn = std::forward<F>(f), ... a = std::forward<Args>(args)]() mutable {
        // A job cancelled while still queued never runs (concurrent.futures'
        // set_running_or_notify_cancel).
        if (fut.cancelled()) return;
        try {
            if constexpr (std::is_void_v<R>) {
                std::invoke(std::move(fn), std::move(a)...);
                fut.set_result();
            } else {
                fut.set_result(std::invoke(std::move(fn), std::move(a)...));
            }
        } catch (...) {
            fut.set_exception(std::current_exception());
        }
    });
    return fut;
}

}  // namespace tulip
