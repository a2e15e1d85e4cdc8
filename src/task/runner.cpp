#include <tulip/task/runner.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include <tulip/loop/executor.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/wait_for.hpp>

namespace tulip {

namespace {

// Waits for every task, ignoring their outcomes (gather(..., return_exceptions=True)).
Coro<void> wait_quietly(std::vector<AnyTask> tasks) {
    for (auto& t : tasks) {
        if (t.done()) continue;
        auto f = Future<void>::create(t.get_loop());
        t.add_done_callback([f] { f.set_result(); });
        co_await f;
    }
}

}  // namespace

void cancel_all_tasks(EventLoop& loop) {
    std::vector<AnyTask> tasks = all_tasks(loop);
    if (tasks.empty()) return;
    for (auto& t : tasks) t.cancel();
    loop.run_until_complete(wait_quietly(tasks));
    for (auto& t : tasks) {
        if (t.cancelled()) continue;
        if (auto e = t.exception()) {
            ExceptionContext ctx;
            ctx.message = "unhandled exception during tulip::run() shutdown";
            ctx.exception = e;
            ctx.source = t.state()->describe();
            loop.call_exception_handler(ctx);
        }
    }
}

Coro<void> shutdown_default_executor(EventLoop& loop, std::optional<Seconds> timeout) {
    using detail::LoopAccess;
    if (timeout) (void)LoopAccess::to_ns(*timeout, "shutdown_default_executor: timeout");  // NaN: before shutting down
    std::shared_ptr<Executor> ex = LoopAccess::default_executor_if_any(loop);
    if (!ex) co_return;
    // Join the workers on a helper thread so the loop keeps running meanwhile.
    auto done = Future<void>::create(loop);
    auto* st = done.state();
    st->incref();  // the joiner's reference, held by the loop (see run_in_executor)
    LoopAccess::track_in_flight(loop, st, [](void* p) noexcept { static_cast<detail::FutureStateBase*>(p)->decref(); });
    LoopAccess::external_pending(loop).fetch_add(1);
    // The joiner holds the loop only by its door: it may outlive the loop.
    std::thread joiner([door = loop.threadsafe_ref(), ex, st] {
        ex->shutdown(/*wait=*/true);
        try {
            EventLoop* loop = door.door()->loop();  // dereferenced only on the loop, by the callback
            door.door()->call_soon_threadsafe([loop, st] {
                LoopAccess::external_pending(*loop).fetch_sub(1);
                if (!LoopAccess::untrack_in_flight(*loop, st)) return;
                Future<void> f(st, /*adopt=*/true);
                if (!f.done()) f.set_result();
            });
        } catch (...) {
            // The loop is closed: close() released the state.
        }
    });
    // Once the joiner has posted back it only returns, so joining it then is
    // prompt. On a timeout or a cancellation it may still be blocked in a job
    // that never ends: it is detached then, never joined on the loop thread.
    struct Joiner {
        std::thread t;
        bool posted = false;
        ~Joiner() {
            if (posted)
                t.join();
            else
                t.detach();
        }
    } j{std::move(joiner)};
    std::optional<Seconds> wait = timeout;
    try {
        co_await wait_for(done, wait);
        j.posted = true;
    } catch (const TimeoutError&) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", timeout ? timeout->count() : 0.0);
        // asyncio's warning, word for word.
        log(LogLevel::warning,
            std::string("The executor did not finishing joining its threads within ") + buf + " seconds.");
        ex->shutdown(/*wait=*/false);
    }
}

void Runner::begin_sigint(AnyTask main_task) {
    interrupted_ = 0;
    sigint_cancelled_ = false;
    if (!options_.handle_sigint || ::gettid() != ::getpid()) return;
    struct sigaction old {};
    if (::sigaction(SIGINT, nullptr, &old) < 0 || old.sa_handler != SIG_DFL) return;
    try {
        loop_->add_signal_handler(SIGINT, [this, main_task] {
            if (++interrupted_ == 1) {
                // Handled on the loop, so it may come after the main task
                // ended (asyncio handles it at once): then run() just returns
                // the task's outcome.
                if (!main_task.done()) {
                    main_task.cancel();
                    sigint_cancelled_ = true;
                }
                return;
            }
            // A second Ctrl-C: back to the default, which ends the process.
            loop_->remove_signal_handler(SIGINT);
            ::raise(SIGINT);
        });
        sigint_installed_ = true;
    } catch (const std::exception&) {
        // Another loop owns the signals: run without Ctrl-C handling.
    }
}

void Runner::end_sigint() noexcept {
    if (!sigint_installed_) return;
    sigint_installed_ = false;
    try {
        if (loop_ && !loop_->is_closed()) loop_->remove_signal_handler(SIGINT);
    } catch (...) {}
}

Runner::Runner(RunnerOptions options) : options_(std::move(options)) {}

Runner::~Runner() {
    try {
        close();
    } catch (...) {}
}

EventLoop& Runner::get_loop() {
    if (closed_) throw std::runtime_error("Runner is closed");
    if (!loop_) {
        if (options_.loop_factory) {
            loop_ = options_.loop_factory();
        } else {
            EventLoopOptions lo;
            lo.debug = options_.debug;
            lo.virtual_time = options_.virtual_time;
            loop_ = new_event_loop(lo);
        }
        if (options_.debug) loop_->set_debug(true);
    }
    return *loop_;
}

void Runner::close() {
    if (closed_) return;
    closed_ = true;
    if (!loop_) return;
    struct Closer {
        EventLoop& l;
        ~Closer() { l.close(); }
    } closer{*loop_};
    cancel_all_tasks(*loop_);
    loop_->run_until_complete(shutdown_asyncgens(*loop_));
    loop_->run_until_complete(shutdown_default_executor(*loop_, Seconds(kThreadJoinTimeout)));
}

}  // namespace tulip
