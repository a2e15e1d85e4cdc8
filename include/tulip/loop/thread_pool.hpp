// tulip/loop/thread_pool.hpp — ThreadPoolExecutor
// (concurrent.futures.ThreadPoolExecutor), the default executor of
// run_in_executor and to_thread.
//
// The workers, their queue and its lock live in src/loop/thread_pool.cpp, so
// that including this header does not pull <thread> or <mutex>.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <tulip/loop/concurrent_future.hpp>
#include <tulip/loop/executor.hpp>

namespace tulip {

// Threads are started lazily, up to max_workers (default min(32, cores + 4),
// as Python).
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
    struct State;
    static void worker(std::shared_ptr<State> st);
    std::shared_ptr<State> st_;
    std::size_t max_workers_;
    std::string prefix_;
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
