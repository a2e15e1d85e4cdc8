// tulip/task/task.hpp — Task<T> (asyncio.Task), create_task, current_task, all_tasks.
//
// A Task runs a Coro on the loop. It is scheduled at once, is itself a Future
// (awaitable by many, with done callbacks), and is owned by the loop while it
// is pending, so a task nobody keeps still runs to completion (asyncio only
// keeps a weak reference). An exception nobody retrieved is reported to the
// loop's exception handler when the last handle goes away.
//
// Cancellation (as asyncio 3.11+): cancel(msg) asks. If the task is suspended
// on something cancellable (a Future, another Task, a sleep), that is
// cancelled and the task sees CancelledError thrown from its co_await;
// otherwise CancelledError is thrown at its next resume. The coroutine may
// catch it and go on. cancelling() counts pending requests, uncancel()
// withdraws one.
//
// Cancel safety (`co_await task`): not safe for the awaited task: cancelling
// the task that awaits it cancels it too (asyncio); shield() it to keep it
// running.
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/core/owned.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/executor.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

namespace detail {

void run_task_step(ReadyNode* n);
bool cancel_task(TaskBase& t, const std::string& msg);
// Links t into its loop's registry (the loop owns it while pending); returns
// whether a task factory is set.
bool register_task(EventLoop& loop, TaskBase& t);
void close_task_layer(EventLoop& loop);    // at the loop's close, by its registry
void task_finished(TaskBase& t) noexcept;  // unlinks and drops the loop's reference
std::string cancelled_message(const std::exception_ptr& e);
std::string task_name(const TaskBase& t);
void run_task_factory(EventLoop& loop, TaskBase& t);  // create_task with a task factory set
bool task_launched(const TaskBase& t) noexcept;
// Set around a create_task that runs where user code must not run inline (an
// async generator's finaliser, started from a destructor; asyncio defers it
// with call_soon): an eager start is scheduled instead.
inline thread_local bool tls_no_eager_start = false;

template <class T>
struct TaskState final : FutureState<T>, TaskBase {
    using handle_type = std::coroutine_handle<CoroPromise<T>>;

    TaskState(EventLoop* loop, handle_type h) : FutureState<T>(loop) {
        fut = this;
        root = h;
        resume_at = h;
        run = &run_task_step;
        finish = &finish_impl;
    }
    ~TaskState() override {
        if (root) root.destroy();
        delete creation_traceback;
    }

    bool cancel(const std::string& msg) override { return cancel_task(*this, msg); }
    TaskBase* as_task() noexcept override { return this; }
    FrameLink* root_promise() noexcept override {
        return root ? &handle_type::from_address(root.address()).promise() : nullptr;
    }
    std::string describe() const override { return "Task '" + task_name(*this) + "'"; }

    // The root coroutine returned or threw: the task takes its outcome.
    static void finish_impl(TaskBase* b) {
        auto* self = static_cast<TaskState*>(b);
        auto& p = handle_type::from_address(self->root.address()).promise();
        if (p.exc) {
            if (p.cancelled_exc) {
                self->must_cancel = false;
                self->exc = p.exc;  // every awaiter gets this very CancelledError (asyncio's _cancelled_exc)
                self->cancel_future(cancelled_message(p.exc));
            } else {
                self->FutureStateBase::set_exception(p.exc);
            }
        } else if (self->must_cancel) {
            // Cancelled right before the coroutine returned (asyncio does the same).
            self->must_cancel = false;
            self->cancel_future(self->cancel_message);
        } else {
            if constexpr (std::is_void_v<T>)
                self->value.emplace();
            else
                self->value.emplace(std::move(p.value.get()));
            self->mark_finished();
        }
        self->root.destroy();
        self->root = {};
        task_finished(*self);  // may delete self: last
    }
};

}  // namespace detail

// The task-only methods, shared by Task<T> and the type-erased AnyTask.
template <class D>
class TaskMethods {
public:
    std::string get_name() const { return detail::task_name(tb()); }
    void set_name(std::string name) const { tb().name = std::move(name); }
    // How many cancel() requests are pending (asyncio 3.11 Task.cancelling()).
    std::uint32_t cancelling() const noexcept { return tb().num_cancels_requested; }
    // Withdraws one cancel() request; returns the remaining count.
    std::uint32_t uncancel() const noexcept {
        auto& t = tb();
        if (t.num_cancels_requested > 0) {
            --t.num_cancels_requested;
            if (t.num_cancels_requested == 0) t.must_cancel = false;
        }
        return t.num_cancels_requested;
    }
    // The coroutine frame (null once done): asyncio's get_coro(), for introspection.
    std::coroutine_handle<> get_coro() const noexcept { return tb().root; }
    // Where the task was created (debug mode), else empty.
    std::string get_creation_traceback() const {
        auto* tr = tb().creation_traceback;
        return tr ? *tr : std::string();
    }

private:
    detail::TaskBase& tb() const noexcept { return *static_cast<const D*>(this)->state()->as_task(); }
};

template <class T>
class Task : public Future<T>, public TaskMethods<Task<T>> {
public:
    Task() noexcept = default;
    explicit Task(detail::FutureStateBase* s, bool adopt = false) noexcept : Future<T>(s, adopt) {}

    template <class Fn>
    DoneCallback add_done_callback(Fn&& fn) const {
        return this->template add_done_callback_impl<Fn, Task<T>>(std::forward<Fn>(fn));
    }
};

// A handle to a task of any result type (what current_task and all_tasks return).
class AnyTask : public FutureBase, public TaskMethods<AnyTask> {
public:
    AnyTask() noexcept = default;
    explicit AnyTask(detail::TaskBase* t) noexcept : FutureBase(t ? t->fut : nullptr) {}
    template <class T>
    AnyTask(const Task<T>& t) noexcept : FutureBase(t) {}
    template <class Fn>
    DoneCallback add_done_callback(Fn&& fn) const {
        return this->add_done_callback_impl<Fn, AnyTask>(std::forward<Fn>(fn));
    }
    AnyTask(detail::FutureStateBase* s) noexcept : FutureBase(s) {}
};

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro) {
    return create_task(std::move(coro), std::string());
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string name) {
    detail::LoopAccess::check_closed(*this);
    detail::LoopAccess::check_thread(*this, "create_task");
    if (!coro) throw std::invalid_argument("create_task() needs a coroutine, got an empty Coro");
    auto* st = new detail::TaskState<T>(this, typename detail::TaskState<T>::handle_type{});
    auto h = coro.release();
    if (h.promise().started) {
        coro = Coro<T>(h);
        delete st;
        throw std::invalid_argument("create_task(): the coroutine was already awaited");
    }
    h.promise().started = true;
    st->root = h;
    st->resume_at = h;
    st->name = std::move(name);  // before a factory's eager step, which may ask for it
    bool factory = detail::register_task(*this, *st);
    Task<T> task(st, /*adopt=*/true);
    if (factory) [[unlikely]]
        detail::run_task_factory(*this, *st);
    else
        detail::LoopAccess::schedule(*this, st);  // the first step runs soon, as asyncio's call_soon(self.__step)
    return task;
}

// Wraps coro in a Task on the running loop (asyncio.create_task).
template <class T>
Task<T> create_task(Coro<T> coro) {
    return get_running_loop().create_task(std::move(coro));
}
template <class T>
Task<T> create_task(Coro<T> coro, std::string name) {
    return get_running_loop().create_task(std::move(coro), std::move(name));
}

// The task running now, or an empty AnyTask (asyncio.current_task()).
inline AnyTask current_task() noexcept { return AnyTask(detail::tls_current_task); }

// The loop's tasks that are not done (asyncio.all_tasks()).
std::vector<AnyTask> all_tasks(EventLoop& loop);
inline std::vector<AnyTask> all_tasks() { return all_tasks(get_running_loop()); }

// ---- task factories (asyncio loop.set_task_factory, 3.12's eager tasks) -------
//
// asyncio's factory builds the Task itself (often a Task subclass). In C++,
// create_task must return a Task<T> for its coroutine's T, and a type-erased
// factory cannot build one. So create_task builds the task (registered, named,
// not started) and hands it to the factory as an AnyTask; the factory may
// decorate it (done callbacks, bookkeeping, cancel()) and starts it with
// start_task. A factory that returns without starting it leaves that to
// create_task, which schedules it as without a factory. A factory that throws
// makes create_task throw; a task it did not start is then discarded.
// With no factory set, create_task pays one branch.

// What loop.set_task_factory takes: create_task hands it each new task,
// registered but not started, and it starts it. Empty: none (asyncio's None).
// A class rather than an alias so that event_loop.hpp can declare
// set_task_factory with it forward-declared.
class TaskFactory : public std::function<void(EventLoop&, const AnyTask&)> {
public:
    using std::function<void(EventLoop&, const AnyTask&)>::function;
    TaskFactory() = default;
};

// Starts a task handed to a task factory, once. eager_start (asyncio
// Task(..., eager_start=True)): if its loop is running on this thread, the
// first step runs now, inside this call, until the coroutine first suspends
// on something not done; current_task() is that task meanwhile and is
// restored after. A task that finishes in that step is never scheduled (its
// done callbacks still run soon, from the ready queue). Otherwise, or if the
// loop is not running, the first step is scheduled (call_soon).
// Raises std::runtime_error if the task was started already.
void start_task(const AnyTask& task, bool eager_start = false);

// The eager factory (asyncio.eager_task_factory): every create_task on the
// loop starts its task eagerly.  loop.set_task_factory(tulip::eager_task_factory);
void eager_task_factory(EventLoop& loop, const AnyTask& task);

// asyncio.create_eager_task_factory(custom_task_constructor): a factory that
// runs custom(loop, task) first (to decorate the task, as a custom Task class
// would), then starts the task eagerly unless custom started it itself.
template <class F>
    requires std::is_invocable_v<F&, EventLoop&, const AnyTask&>
TaskFactory create_eager_task_factory(F custom) {
    return [custom = std::move(custom)](EventLoop& loop, const AnyTask& task) mutable {
        custom(loop, task);
        if (!detail::task_launched(*task.state()->as_task())) start_task(task, /*eager_start=*/true);
    };
}

namespace detail {

// Any other awaitable (an awaiter such as sleep()'s, or a type with
// operator co_await): the type its await_resume() returns.
template <class A>
auto awaiter_of(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); })
        return std::forward<A>(a).operator co_await();
    else
        return std::forward<A>(a);
}
template <class A>
struct AwaitableResult {
    using type = decltype(std::declval<std::decay_t<decltype(awaiter_of(std::declval<A>()))>&>().await_resume());
};
template <class T>
struct AwaitableResult<Coro<T>> {
    using type = T;
};
template <class T>
struct AwaitableResult<Task<T>> {
    using type = T;
};
template <class T>
struct AwaitableResult<Future<T>> {
    using type = T;
};
template <class A>
using awaitable_result_t = typename AwaitableResult<std::remove_cvref_t<A>>::type;

// asyncio.ensure_future: a Coro becomes a Task; a Task or Future is returned as is.
// A set of future states, for the combinators' duplicate checks: a scan of
// a small vector for a few children, a hash set beyond (gather and wait over
// n children stay O(n)).
class StateSet {
public:
    explicit StateSet(std::size_t expected);
    ~StateSet();
    StateSet(const StateSet&) = delete;
    StateSet& operator=(const StateSet&) = delete;
    // True if s was not in the set yet.
    bool insert(const FutureStateBase* s) {
        if (big_ || small_.size() == kSmall) return insert_big(s);
        for (auto* o : small_)
            if (o == s) return false;
        small_.push_back(s);
        return true;
    }

private:
    // The hash set lives in src/task/state_set.cpp, out of every user's header.
    struct Big;
    bool insert_big(const FutureStateBase* s);
    static constexpr std::size_t kSmall = 16;
    std::size_t expected_;
    std::vector<const FutureStateBase*> small_;
    Owned<Big> big_;
};

template <class T>
Task<T> ensure_future(EventLoop& loop, Coro<T>&& c) {
    return loop.create_task(std::move(c));
}
template <class T>
Task<T> ensure_future(EventLoop& loop, const Task<T>& t) {
    if (&t.get_loop() != &loop) throw std::invalid_argument("the Task belongs to a different loop");
    return t;
}
template <class T>
Future<T> ensure_future(EventLoop& loop, const Future<T>& f) {
    if (&f.get_loop() != &loop) throw std::invalid_argument("the Future belongs to a different loop");
    return f;
}
// A handle given away (std::move or a temporary) is taken over, so a
// consumer can tell when it holds the only reference (see future.hpp).
template <class T>
Task<T> ensure_future(EventLoop& loop, Task<T>&& t) {
    if (&t.get_loop() != &loop) throw std::invalid_argument("the Task belongs to a different loop");
    return std::move(t);
}
template <class T>
Future<T> ensure_future(EventLoop& loop, Future<T>&& f) {
    if (&f.get_loop() != &loop) throw std::invalid_argument("the Future belongs to a different loop");
    return std::move(f);
}

// Runs any other awaitable as a Task (asyncio: ensure_future of an awaitable).
template <class A>
Coro<awaitable_result_t<A>> await_in_coro(A a) {
    co_return co_await std::move(a);
}
template <class A>
concept PlainAwaitable = !std::is_base_of_v<FutureBase, std::remove_cvref_t<A>> && !is_coro_v<std::remove_cvref_t<A>>;

template <PlainAwaitable A>
Task<awaitable_result_t<A>> ensure_future(EventLoop& loop, A&& a) {
    return loop.create_task(std::forward<A>(a));
}

// The result for a consumer holding `own_refs` references to f's state (the
// rule in future.hpp): moved if nobody else holds one.
template <class T>
T consume_result(const Future<T>& f, std::uint32_t own_refs) {
    return consume_result(static_cast<FutureState<T>&>(*f.state()), own_refs);
}
// The result of a finished Task made here from a coroutine, which nobody else
// can read: moved out.
template <class T>
T move_result(const Future<T>& f) {
    if constexpr (std::is_void_v<T>)
        f.result();
    else
        return std::move(f.result());
}

}  // namespace detail

template <class A>
    requires(!detail::is_coro_v<std::remove_cvref_t<A>>)
auto EventLoop::create_task(A&& awaitable) {
    static_assert(detail::PlainAwaitable<A>,
                  "create_task() takes a coroutine or an awaitable; a Future or Task is scheduled already");
    return create_task(detail::await_in_coro<std::remove_cvref_t<A>>(std::forward<A>(awaitable)));
}
template <class A>
    requires(!detail::is_coro_v<std::remove_cvref_t<A>>)
auto EventLoop::create_task(A&& awaitable, std::string name) {
    auto t = create_task(std::forward<A>(awaitable));
    t.set_name(std::move(name));
    return t;
}
template <class A>
    requires(!detail::is_coro_v<std::remove_cvref_t<A>>)
auto create_task(A&& awaitable) {
    return get_running_loop().create_task(std::forward<A>(awaitable));
}
template <class A>
    requires(!detail::is_coro_v<std::remove_cvref_t<A>>)
auto create_task(A&& awaitable, std::string name) {
    return get_running_loop().create_task(std::forward<A>(awaitable), std::move(name));
}

namespace detail {
// run_until_complete's loop: runs until fut is done; the caller takes the result.
template <class T>
void run_until_done(EventLoop& loop, const Future<T>& fut) {
    auto cb = fut.add_done_callback([&loop] { loop.stop(); });
    try {
        loop.run_forever();
    } catch (...) {
        if (fut.done() && !fut.cancelled()) (void)fut.exception();  // do not log it twice
        // asyncio removes it in a `finally`: a stale callback would stop the loop later.
        fut.remove_done_callback(cb);
        throw;
    }
    fut.remove_done_callback(cb);
    if (!fut.done()) throw std::runtime_error("Event loop stopped before Future completed.");
}
}  // namespace detail

template <class A>
decltype(auto) EventLoop::run_until_complete(A&& awaitable) {
    using T = detail::awaitable_result_t<A>;
    detail::LoopAccess::check_closed(*this);
    // As asyncio's _check_running: refuse before wrapping a coroutine in a Task,
    // or the failed call would leave that Task scheduled behind.
    if (running_) throw std::runtime_error("This event loop is already running");
    if (detail::running_loop()) throw std::runtime_error("Cannot run the event loop while another loop is running");
    Future<T> fut = detail::ensure_future(*this, std::forward<A>(awaitable));
    detail::run_until_done(*this, fut);
    // The result as `co_await` gives it (future.hpp): the caller's own handle
    // gets a copy or, for a move-only result, a reference; a handle given
    // away is consumed; our own Task, which nobody else sees, is moved from.
    if constexpr (std::is_base_of_v<FutureBase, std::remove_cvref_t<A>> && std::is_lvalue_reference_v<A>) {
        if constexpr (std::is_void_v<T>)
            fut.result();
        else if constexpr (detail::copyable_result_v<T>)
            return T(fut.result());
        else
            return awaitable.result();  // T&, kept alive by the caller's handle
    } else if constexpr (std::is_base_of_v<FutureBase, std::remove_cvref_t<A>>) {
        return detail::consume_result<T>(fut, 1);
    } else {
        return detail::move_result<T>(fut);
    }
}

template <class F>
auto EventLoop::run_in_executor(Executor* executor, F&& f) {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    Future<R> fut = Future<R>::create(*this);
    Executor& ex = executor ? *executor : default_executor();
    auto* st = fut.state();
    // The job's reference, held by the loop (in_flight_) on this thread: the
    // post-back adopts it, or close() drops it if the job outlives the loop.
    // The worker only carries the pointer and never touches the state.
    st->incref();
    try {
        detail::LoopAccess::track_in_flight(
            *this, st, [](void* p) noexcept { static_cast<detail::FutureStateBase*>(p)->decref(); });
    } catch (...) {
        st->decref();
        throw;
    }
    detail::LoopAccess::external_pending(*this).fetch_add(1, std::memory_order_relaxed);
    try {
        // The job reaches the loop only through its door (a LoopRef): the loop
        // may be closed and destroyed before the job ends, and then the
        // post-back is refused instead of touching a freed loop.
        ex.submit_job([door = threadsafe_ref(), st, fn = std::forward<F>(f)]() mutable {
            std::exception_ptr err;
            std::optional<std::conditional_t<std::is_void_v<R>, char, R>> value;
            try {
                if constexpr (std::is_void_v<R>) {
                    fn();
                    value.emplace('\0');
                } else {
                    value.emplace(fn());
                }
            } catch (...) {
                err = std::current_exception();
            }
            // The exception is moved all the way, never copied: the posted
            // node may be freed on this worker thread (its Handle is dropped
            // here), and no reference to the exception must be left in it then.
            // (libstdc++ counts exception_ptr references in code TSan does not
            // see; a last release here would be reported as a race.)
            try {
                EventLoop* loop = door.door()->loop();  // dereferenced only by the callback, on the loop
                door.door()->call_soon_threadsafe([loop, st, value = std::move(value), err = std::move(err)]() mutable {
                    std::exception_ptr e = std::move(err);
                    detail::LoopAccess::external_pending(*loop).fetch_sub(1, std::memory_order_relaxed);
                    if (!detail::LoopAccess::untrack_in_flight(*loop, st)) return;  // close() released it already
                    Future<R> target(st, /*adopt=*/true);
                    if (target.done()) return;  // cancelled meanwhile: the result is dropped
                    if (e)
                        target.set_exception(std::move(e));
                    else if constexpr (std::is_void_v<R>) {
                        (void)value;  // unused for void; clang 16 warns (-Wunused-lambda-capture)
                        target.set_result();
                    } else
                        target.set_result(std::move(*value));
                });
            } catch (...) {
                // The loop was closed first: nobody can receive the result,
                // close() has released the state, and the result was
                // destroyed here, where it was made.
            }
        });
    } catch (...) {
        detail::LoopAccess::external_pending(*this).fetch_sub(1, std::memory_order_relaxed);
        if (detail::LoopAccess::untrack_in_flight(*this, st)) st->decref();
        throw;
    }
    return fut;
}

}  // namespace tulip
