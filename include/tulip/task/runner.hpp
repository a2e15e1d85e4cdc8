// tulip/task/runner.hpp — run() and Runner (asyncio.run / asyncio.Runner).
//
// A Runner owns a loop: run(coro) runs one coroutine to completion on it and
// returns its result or rethrows; close() cancels every task still pending and
// waits for them, runs the loop's shutdown hooks (async generators), shuts the
// default executor down (waiting up to kThreadJoinTimeout for its threads) and
// closes the loop. run(coro) does all of it once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <tulip/loop/event_loop.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

// How long run()/Runner::close() wait for the default executor's threads
// before they log a warning and stop waiting (asyncio.constants.THREAD_JOIN_TIMEOUT).
inline constexpr double kThreadJoinTimeout = 300.0;

// Shuts loop's default executor down (asyncio's loop.shutdown_default_executor,
// 3.12), waiting for its jobs on a helper thread so that the loop keeps
// running. With a timeout, after it: logs asyncio's warning and stops waiting
// (the threads finish on their own); without one (the default, as asyncio's
// timeout=None) it waits as long as the jobs take. Cancelled: stops waiting at
// once. The loop thread never blocks on the join either way. NaN timeout:
// std::invalid_argument, before anything is shut. run() and Runner::close()
// pass kThreadJoinTimeout. A free function, as shutdown_asyncgens: the loop
// knows no coroutines (docs/architecture.md).
// Cancel safety: safe; the caller stops waiting, the workers are still
// joined on a helper thread.
Coro<void> shutdown_default_executor(EventLoop& loop, std::optional<Seconds> timeout = std::nullopt);

struct RunnerOptions {
    bool debug = false;         // asyncio.run(debug=True)
    bool virtual_time = false;  // see EventLoopOptions::virtual_time
    // Makes the loop (asyncio's loop_factory); default: new_event_loop().
    std::function<std::unique_ptr<EventLoop>()> loop_factory;
    // In the main thread, with SIGINT at its default: the first Ctrl-C cancels
    // the main task and run() then throws KeyboardInterrupt (asyncio.Runner);
    // a second Ctrl-C kills the process as usual.
    bool handle_sigint = true;
};

class Runner {
public:
    explicit Runner(RunnerOptions options = {});
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    // Runs coro in a new task on this runner's loop; returns its result.
    template <class T>
    T run(Coro<T> coro, std::string name = {}) {
        EventLoop& loop = get_loop();
        if (detail::running_loop()) throw std::runtime_error("Runner.run() cannot be called from a running event loop");
        Task<T> task = loop.create_task(std::move(coro), std::move(name));
        struct SigintScope {
            Runner& r;
            ~SigintScope() { r.end_sigint(); }
        } scope{*this};
        begin_sigint(AnyTask(task));
        try {
            detail::run_until_done(loop, task);
            return detail::move_result<T>(task);  // nobody else holds the main task: move
        } catch (const CancelledError&) {
            // As asyncio: KeyboardInterrupt only if Ctrl-C's cancel is the
            // one that ended the task (no other cancel request is left).
            if (sigint_cancelled_ && task.uncancel() == 0) throw KeyboardInterrupt();
            throw;
        }
    }
    // Cancels what is left, finalises, shuts the executor down, closes the loop.
    void close();
    EventLoop& get_loop();

private:
    void begin_sigint(AnyTask main_task);
    void end_sigint() noexcept;
    int interrupted_ = 0;
    bool sigint_cancelled_ = false;  // the first Ctrl-C cancelled the main task
    bool sigint_installed_ = false;
    RunnerOptions options_;
    std::unique_ptr<EventLoop> loop_;
    bool closed_ = false;
};

// asyncio.run(main): a fresh loop, main to completion, everything cleaned up.
template <class T>
T run(Coro<T> main, RunnerOptions options = {}) {
    Runner runner(std::move(options));
    return runner.run(std::move(main));
}

// Cancels every pending task of the loop and runs the loop until they are done
// (asyncio.runners._cancel_all_tasks). Failures other than cancellation go to
// the exception handler.
void cancel_all_tasks(EventLoop& loop);

}  // namespace tulip
