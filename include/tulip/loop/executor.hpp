// tulip/loop/executor.hpp — Job and Executor: what run_in_executor needs of an
// executor (concurrent.futures.Executor's submit, as an interface).
//
// The thread pool behind the default executor is in loop/thread_pool.hpp, the
// blocking ConcurrentFuture in loop/concurrent_future.hpp; the loop itself
// needs neither, so neither is paid for by a program that only awaits.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

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

}  // namespace tulip
