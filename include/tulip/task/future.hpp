// tulip/task/future.hpp — Future<T> (asyncio.Future).
//
// A Future is a result that is not there yet. It is a handle: copies refer to
// the same state (as Python names refer to one object). Awaiting a pending
// Future suspends the awaiting task; when the Future completes, its done
// callbacks — the awaiting tasks among them — are scheduled with call_soon, in
// the order they were added, never run inline (asyncio's rule).
//
// Results (one rule for every Future, Task and combinator): asyncio hands
// every awaiter the same object. `co_await f` on a Future or Task that you
// keep (an lvalue) gives a copy of a copyable result and a reference (T&) to
// the stored object of a move-only one, valid while a handle to f lives.
// `co_await std::move(f)` (or awaiting a temporary) consumes: it moves the
// result out when that handle is the only reference to the future, else
// copies a copyable result, and raises InvalidStateError for a move-only
// result that other handles still share. A result is never emptied behind
// another reader's back.
//
// Cancel safety (`co_await future`): safe for the awaiter, but cancelling the
// task that awaits a pending Future cancels the Future too (asyncio); a
// Future that completed in the same iteration keeps its result (result()).
//
// Thread safety: a Future belongs to its loop's thread. From other threads use
// loop.call_soon_threadsafe or run_coroutine_threadsafe.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include <tulip/core/copyable.hpp>
#include <tulip/core/exceptions.hpp>
#include <tulip/core/pool.hpp>
#include <tulip/core/result_slot.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/nodes.hpp>

namespace tulip {

namespace detail {

// Something a suspended task waits on that can be asked to cancel
// (asyncio's Task._fut_waiter). cancel() returns true if the waiter will wake
// the task with CancelledError.
struct FutureStateBase;
struct Cancellable {
    virtual bool cancel(const std::string& msg) = 0;
    virtual FutureStateBase* as_future() noexcept { return nullptr; }

protected:
    ~Cancellable() = default;
};

struct TaskBase;
struct FrameLink;
inline thread_local TaskBase* tls_current_task = nullptr;

struct FutureStateBase : Cancellable {
    enum class State : std::uint8_t { pending, cancelled, finished };

    explicit FutureStateBase(EventLoop* l) noexcept : loop(l) {}
    virtual ~FutureStateBase();
    FutureStateBase(const FutureStateBase&) = delete;
    FutureStateBase& operator=(const FutureStateBase&) = delete;

    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }

    bool done() const noexcept { return state != State::pending; }
    bool is_cancelled() const noexcept { return state == State::cancelled; }

    // Future.cancel(): a pending future becomes cancelled and schedules its callbacks.
    bool cancel(const std::string& msg) override { return cancel_future(msg); }
    FutureStateBase* as_future() noexcept override { return this; }
    bool cancel_future(const std::string& msg);
    void set_exception(std::exception_ptr e);
    // For result()/exception(): throws CancelledError or InvalidStateError as asyncio.
    void check_result_ready() const {
        if (state != State::finished) [[unlikely]]
            check_result_ready_slow();
    }
    void check_result_ready_slow() const;
    void rethrow_if_failed() {
        check_result_ready();
        if (exc) {
            log_traceback = false;
            std::rethrow_exception(exc);
        }
    }
    std::exception_ptr exception() {
        check_result_ready();
        log_traceback = false;
        return exc;
    }
    [[noreturn]] void throw_cancelled() const;
    // What awaiting the cancelled future raises: the CancelledError its
    // coroutine raised (kept in exc), else a new one with the message.
    std::exception_ptr cancelled_error() const;
    void mark_finished() {
        state = State::finished;
        schedule_callbacks();
    }
    void schedule_callbacks() noexcept;
    void add_waiter(ReadyNode* n) noexcept { callbacks.push(n); }
    // Unlinks a task's step node (O(n); only when a suspended frame is torn down).
    bool remove_waiter(ReadyNode* n) noexcept { return callbacks.remove(n); }
    // remove_done_callback leaves the node linked, marked dead (its future = null),
    // and sweeps the list once the dead outnumber the live: removing n
    // callbacks of one future is O(n) overall, with no back pointer per node.
    void note_dead_callback() noexcept {
        if (dead_callbacks < 0xFFFF) ++dead_callbacks;
        if (dead_callbacks >= 16 && (std::size_t{dead_callbacks} * 2 >= callbacks.size || dead_callbacks == 0xFFFF))
            sweep_dead_callbacks();
    }
    void sweep_dead_callbacks() noexcept;

    virtual TaskBase* as_task() noexcept { return nullptr; }
    // A task's outermost coroutine while it runs (call graphs); null otherwise.
    virtual FrameLink* root_promise() noexcept { return nullptr; }
    virtual std::string describe() const { return "Future"; }

    void incref() noexcept { ++refs; }
    void decref() noexcept {
        if (--refs == 0) {
            if (log_traceback) report_unretrieved();
            delete this;
        }
    }
    void report_unretrieved() noexcept;

    NodeQueue callbacks;  // task steps and done-callback nodes, FIFO
    EventLoop* loop;
    std::exception_ptr exc;
    std::string cancel_message;
    std::uint32_t refs = 1;
    State state = State::pending;
    bool log_traceback = false;        // an exception was set and nobody has looked at it
    std::uint16_t dead_callbacks = 0;  // removed done-callbacks still linked (fits the padding)
};

template <class T>
struct FutureState : FutureStateBase {
    using FutureStateBase::FutureStateBase;
    ResultSlot<T> value;

    template <class... A>
    void set_result(A&&... a) {
        if (done()) throw InvalidStateError("invalid state: " + describe() + " is already done");
        value.emplace(std::forward<A>(a)...);
        mark_finished();
    }
    // result(): the value by reference (asyncio returns the same object to all).
    decltype(auto) result() {
        rethrow_if_failed();
        if constexpr (!std::is_void_v<T>) return static_cast<T&>(value.get());
    }
};

// The machinery of a task that the awaiters need (the rest is in task.hpp).
struct TaskBase : ReadyNode {
    FutureStateBase* fut = nullptr;  // this task seen as a Future
    TaskBase* prev_task = nullptr;   // the loop's list of live tasks
    TaskBase* next_task = nullptr;
    std::coroutine_handle<> root;       // the task's coroutine
    std::coroutine_handle<> resume_at;  // the innermost suspended coroutine
    Cancellable* waiter = nullptr;      // what the task is suspended on
    void (*finish)(TaskBase*) = nullptr;
    std::string name;                           // empty: "Task-<id>"
    std::string* creation_traceback = nullptr;  // debug mode only
    std::uint64_t id = 0;
    std::uint32_t num_cancels_requested = 0;
    bool must_cancel = false;  // throw CancelledError at the next resume
    bool started = false;
};

inline TaskBase& current_task_for_await(const char* what) {
    if (!tls_current_task) throw std::runtime_error(std::string("cannot ") + what + " outside a Task");
    return *tls_current_task;
}

// Parks the current task on f; f's completion schedules the task's step.
inline void suspend_task_on(TaskBase& t, FutureStateBase& f, std::coroutine_handle<> h) {
    if (f.loop != t.fut->loop) throw std::runtime_error("Task got a Future attached to a different loop");
    // Without this check the task would wait for its own end forever (asyncio raises too).
    if (&f == t.fut) throw std::runtime_error("Task cannot await on itself");
    t.resume_at = h;
    t.waiter = &f;
    f.add_waiter(&t);
    // The task was cancelled while running: cancel what it now waits on (asyncio __step).
    if (t.must_cancel && f.cancel(t.fut->cancel_message)) t.must_cancel = false;
}

// On resume: raise the CancelledError that a cancel() left pending.
inline void check_pending_cancel(TaskBase& t) {
    if (t.must_cancel) {
        t.must_cancel = false;
        throw CancelledError(t.fut->cancel_message);
    }
}

// Hands a done future's result to a consumer that holds `own_refs` of its
// references (see the rule at the top): moved out if nobody else holds one,
// else copied, else InvalidStateError for a shared move-only result.
template <class T>
T consume_result(FutureState<T>& s, std::uint32_t own_refs) {
    if constexpr (std::is_void_v<T>) {
        s.rethrow_if_failed();
    } else {
        T& v = s.result();
        if (s.refs <= own_refs) return std::move(v);
        if constexpr (copyable_result_v<T>) {
            return v;
        } else {
            throw InvalidStateError("cannot move the move-only result out of " + s.describe() +
                                    ": other handles still refer to it (co_await it as an lvalue for a reference to "
                                    "the stored result, or drop the other handles first)");
        }
    }
}

// Awaits a FutureState (used by Future<T> and Task<T>). Holds a reference to
// the state: the caller may drop every handle while it waits.
template <class T>
struct FutureAwaiterBase {
    FutureState<T>* s;
    TaskBase* task = nullptr;

    FutureAwaiterBase(FutureState<T>* st, bool adopt) noexcept : s(st) {
        if (!adopt) s->incref();
    }
    FutureAwaiterBase(const FutureAwaiterBase&) = delete;
    ~FutureAwaiterBase() {
        // Destroyed while suspended (the frame is torn down): unlink the task,
        // unless close() has unlinked every task at once (waiter reset).
        if (task && !s->done() && task->waiter == s) s->remove_waiter(task);
        s->decref();
    }
    bool await_ready() const noexcept { return s->done(); }
    void await_suspend(std::coroutine_handle<> h) {
        TaskBase& t = current_task_for_await("await a Future");
        suspend_task_on(t, *s, h);
        task = &t;
    }
    void resumed() {
        if (TaskBase* t = std::exchange(task, nullptr)) {
            // Cancelled after the future finished: asyncio's __wakeup has read
            // the result before CancelledError is thrown in, so an exception
            // stored there counts as retrieved (no "never retrieved" log).
            if (t->must_cancel && s->state == FutureStateBase::State::finished) s->log_traceback = false;
            check_pending_cancel(*t);
        }
    }
};

// `co_await f` on an lvalue: a copy of a copyable result, T& to a move-only one.
template <class T>
struct FutureAwaiter : FutureAwaiterBase<T> {
    using result_type = std::conditional_t<copyable_result_v<T>, T, std::add_lvalue_reference_t<T>>;
    explicit FutureAwaiter(FutureState<T>* st) noexcept : FutureAwaiterBase<T>(st, false) {}
    result_type await_resume() {
        this->resumed();
        if constexpr (std::is_void_v<T>)
            this->s->rethrow_if_failed();
        else
            return this->s->result();
    }
};

// `co_await std::move(f)` or a temporary: consumes (adopts the handle's reference).
template <class T>
struct FutureMoveAwaiter : FutureAwaiterBase<T> {
    explicit FutureMoveAwaiter(FutureState<T>* st) noexcept : FutureAwaiterBase<T>(st, true) {}
    T await_resume() {
        this->resumed();
        return consume_result(*this->s, 1);
    }
};

}  // namespace detail

// What add_done_callback returns; pass it to remove_done_callback.
class DoneCallback : public Handle {
public:
    using Handle::Handle;

private:
    friend class FutureBase;
};

// The type-independent part of every Future and Task handle.
class FutureBase {
public:
    FutureBase() noexcept = default;
    explicit FutureBase(detail::FutureStateBase* s, bool adopt = false) noexcept : s_(s) {
        if (s_ && !adopt) s_->incref();
    }
    FutureBase(const FutureBase& o) noexcept : FutureBase(o.s_) {}
    FutureBase(FutureBase&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    FutureBase& operator=(FutureBase o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~FutureBase() {
        if (s_) s_->decref();
    }

    bool done() const noexcept { return s_->done(); }
    bool cancelled() const noexcept { return s_->is_cancelled(); }
    // Cancels the future (or asks the task to cancel); false if already done.
    bool cancel(const std::string& msg = {}) const { return s_->cancel(msg); }
    // The stored exception (null if none); CancelledError if cancelled,
    // InvalidStateError if not done.
    std::exception_ptr exception() const { return s_->exception(); }
    // A Task's outcome comes from its coroutine: on a Task these raise
    // std::runtime_error, as asyncio's Task.set_exception()/set_result() do.
    void set_exception(std::exception_ptr e) const {
        refuse_on_task("set_exception");
        s_->set_exception(std::move(e));
    }
    template <class E, class = std::enable_if_t<!std::is_same_v<std::decay_t<E>, std::exception_ptr>>>
    void set_exception(E&& e) const {
        refuse_on_task("set_exception");
        s_->set_exception(std::make_exception_ptr(std::forward<E>(e)));
    }
    EventLoop& get_loop() const noexcept { return *s_->loop; }

    // fn(FutureBase&) or fn() is called soon after the future is done (with
    // call_soon: never inline, even when it is done already).
    template <class Fn>
    DoneCallback add_done_callback(Fn&& fn) const {
        return add_done_callback_impl<Fn, FutureBase>(std::forward<Fn>(fn));
    }
    // Removes a callback added by add_done_callback; returns how many were removed (0 or 1).
    std::size_t remove_done_callback(const DoneCallback& cb) const;

    explicit operator bool() const noexcept { return s_ != nullptr; }
    bool operator==(const FutureBase& o) const noexcept { return s_ == o.s_; }
    detail::FutureStateBase* state() const noexcept { return s_; }

protected:
    template <class Fn, class Self>
    DoneCallback add_done_callback_impl(Fn&& fn) const;
    void refuse_on_task(const char* what) const {
        if (s_->as_task()) [[unlikely]]
            throw std::runtime_error(std::string("Task does not support ") + what + "()");
    }
    detail::FutureStateBase* s_ = nullptr;
};

namespace detail {
// A future's done-callback node runs this; the loop's close() hands such a
// node to the task layer's registry (LoopExtension::drop_node), which releases
// it and the reference to its future the node holds once scheduled with
// drop_done_callback.
void run_done_callback(ReadyNode* n);
void drop_done_callback(ReadyNode* n) noexcept;
// Schedules a done-callback node of an already finished future (asyncio's
// call_soon), making sure the loop's registry is there to drop it at close.
void schedule_done_callback(FutureStateBase& st, ReadyNode* n);
}  // namespace detail

template <class Fn, class Self>
DoneCallback FutureBase::add_done_callback_impl(Fn&& fn) const {
    auto* st = s_;
    auto* n = detail::CallbackNode::make<detail::DoneCallbackNode>(st->loop, [st, f = std::forward<Fn>(fn)]() mutable {
        Self self(st);
        if constexpr (std::is_invocable_v<decltype(f)&, Self&>)
            f(self);
        else
            f();
    });
    n->future = st;
    n->added_by_task = detail::tls_current_task;  // awaited_by in call graphs (task/graph.hpp)
    n->run = &detail::run_done_callback;
    DoneCallback h(n);
    if (st->done()) {
        // asyncio: "if the future is already done, callback is scheduled with call_soon".
        st->incref();
        detail::schedule_done_callback(*st, n);
    } else {
        st->add_waiter(n);
    }
    return h;
}

template <class T>
class Future : public FutureBase {
    static_assert(!std::is_reference_v<T>, "Future<T&> is not supported; use a pointer");

public:
    using value_type = T;
    Future() noexcept = default;
    explicit Future(detail::FutureStateBase* s, bool adopt = false) noexcept : FutureBase(s, adopt) {}

    // A new pending Future on `loop` (asyncio: loop.create_future()).
    static Future create(EventLoop& loop) { return Future(new detail::FutureState<T>(&loop), /*adopt=*/true); }

    // The result; rethrows the stored exception; CancelledError if cancelled;
    // InvalidStateError if not done.
    decltype(auto) result() const { return typed()->result(); }
    template <class... A>
    void set_result(A&&... a) const {
        this->refuse_on_task("set_result");
        typed()->set_result(std::forward<A>(a)...);
    }

    // fn(Future<T>&) or fn() is called soon after the future is done.
    template <class Fn>
    DoneCallback add_done_callback(Fn&& fn) const {
        return this->template add_done_callback_impl<Fn, Future<T>>(std::forward<Fn>(fn));
    }

    // See the rule at the top of this file.
    detail::FutureAwaiter<T> operator co_await() const& noexcept { return detail::FutureAwaiter<T>(typed()); }
    detail::FutureMoveAwaiter<T> operator co_await() && noexcept {
        return detail::FutureMoveAwaiter<T>(static_cast<detail::FutureState<T>*>(std::exchange(this->s_, nullptr)));
    }

protected:
    detail::FutureState<T>* typed() const noexcept { return static_cast<detail::FutureState<T>*>(s_); }
};

template <class T = void>
Future<T> create_future() {
    return Future<T>::create(get_running_loop());
}

template <class T>
Future<T> EventLoop::create_future() {
    return Future<T>::create(*this);
}

}  // namespace tulip
