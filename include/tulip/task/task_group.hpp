// tulip/task/task_group.hpp — TaskGroup (asyncio.TaskGroup).
//
// C++ has no `async with`: the group's body is a coroutine, and task_group()
// waits for every child before it returns:
//
//     co_await tulip::task_group([&](tulip::TaskGroup& tg) -> tulip::Coro<void> {
//         tg.create_task(fetch(1));
//         tg.create_task(fetch(2));
//         co_return;
//     });
//
// The first child that fails cancels its siblings and the body; when all
// are done, every failure is raised together in an ExceptionGroup
// ("unhandled errors in a TaskGroup"). Cancelling the task running the group
// cancels the children too, and CancelledError propagates once they are
// done. tg.cancel() cancels the group and its body without raising.
//
// Cancel safety: not safe: the body and every child are cancelled and waited
// for, then CancelledError; if a child had failed, the ExceptionGroup is
// raised and the task is cancelled again (asyncio 3.13 keeps the cancel
// count stable the same way).
//
// Allocation: the wait for the children allocates nothing (no coroutine
// frame, no Future), so running out of memory cannot end task_group() while
// children still run and refer to the body's locals; a child the group
// cannot adopt is cancelled at once.
//
// Thread safety: loop thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/core/owned.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/outcome.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

class TaskGroup {
public:
    TaskGroup();
    ~TaskGroup();
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    // Starts coro as a task of this group (asyncio TaskGroup.create_task).
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name = {}) {
        check_can_create();
        Task<T> task = loop_->create_task(std::move(coro), std::move(name));
        adopt(AnyTask(task));
        return task;
    }
    // Any other awaitable (q.get(), lock.acquire(), reader.read(n), sleep(d))
    // runs as a task of this group, as create_task() takes it. A Future or
    // Task is refused at compile time (asyncio: TypeError, a coroutine was
    // expected).
    template <class A>
        requires(!detail::is_coro_v<std::remove_cvref_t<A>>)
    auto create_task(A&& awaitable, std::string name = {}) {
        check_can_create();
        auto task = loop_->create_task(std::forward<A>(awaitable), std::move(name));
        adopt(AnyTask(task));
        return task;
    }
    // Cancels the children and the body; the group then exits without raising
    // CancelledError (asyncio 3.14's TaskGroup.cancel()). Idempotent.
    void cancel();

    std::size_t size() const noexcept;

    // The protocol that task_group() drives (public for custom scopes):
    // enter(), run the body, then `co_await exit(what the body threw)`. The
    // awaiter waits for every child and raises what the group must raise.
    class ExitAwaiter;
    void enter();
    ExitAwaiter exit(std::exception_ptr body_error) noexcept;

private:
    void check_can_create() const;
    void adopt(AnyTask task);
    void abort();
    void on_task_done(AnyTask& task);
    bool begin_exit();
    void park(std::coroutine_handle<> h);
    void note_exit_cancel(const std::string& msg) noexcept;
    void end_exit();

    struct ExitWaiter;

    EventLoop* loop_ = nullptr;
    AnyTask parent_;
    // The live children, keyed by state: a hash map defined in
    // task_group.cpp (keeps <unordered_map> out of this header).
    struct Tasks;
    detail::Owned<Tasks> tasks_;
    std::vector<std::exception_ptr> errors_;
    // The first KeyboardInterrupt from a child or the body: raised bare, not
    // in the ExceptionGroup (asyncio's _base_error for its "base errors").
    std::exception_ptr base_error_;
    // exit()'s state: the body's outcome and the cancellations received while
    // waiting (asyncio's propagate_cancellation_error; the messages stand for
    // the CancelledErrors, made when they are raised).
    std::exception_ptr body_error_;
    std::string propagate_msg_;
    std::string pending_msg_;
    enum class Propagate : std::uint8_t { none, body, waited };
    Propagate propagate_ = Propagate::none;
    bool pending_cancel_ = false;
    bool entered_ = false;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
    bool cancel_on_enter_ = false;
};

class [[nodiscard]] TaskGroup::ExitAwaiter {
public:
    bool await_ready() { return tg_->begin_exit(); }
    void await_suspend(std::coroutine_handle<> h) { tg_->park(h); }
    void await_resume() { tg_->end_exit(); }

private:
    friend class TaskGroup;
    explicit ExitAwaiter(TaskGroup* tg) noexcept : tg_(tg) {}
    TaskGroup* tg_;
};

inline TaskGroup::ExitAwaiter TaskGroup::exit(std::exception_ptr body_error) noexcept {
    body_error_ = std::move(body_error);
    return ExitAwaiter(this);
}

namespace detail {
template <class F>
using group_result_t = typename std::invoke_result_t<F&, TaskGroup&>::value_type;
}

// Runs body(TaskGroup&), then waits for every task of the group.
template <class F>
Coro<detail::group_result_t<F>> task_group(F body) {
    using R = detail::group_result_t<F>;
    TaskGroup tg;
    tg.enter();
    std::exception_ptr err;
    if constexpr (std::is_void_v<R>) {
        try {
            co_await body(tg);
        } catch (...) {
            err = std::current_exception();
        }
        co_await tg.exit(err);
    } else {
        std::optional<R> result;
        try {
            result.emplace(co_await body(tg));
        } catch (...) {
            err = std::current_exception();
        }
        co_await tg.exit(err);
        if (!result) throw CancelledError();  // the body was cancelled by tg.cancel()
        co_return std::move(*result);
    }
}

}  // namespace tulip
