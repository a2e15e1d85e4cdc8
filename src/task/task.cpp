// Future and Task state machines.
//
// Future: pending -> finished | cancelled, once. On completion the queued
// callbacks (task steps and done-callback nodes) are spliced onto the loop's
// ready queue in the order they were added: asyncio's "callbacks are scheduled
// with call_soon".
//
// Task: a step resumes the innermost suspended coroutine of the task. When
// the root coroutine finishes, finish() moves its outcome into the Future and
// the loop drops its reference. Invariants: a task's node is in at most one
// queue (the ready queue or one future's callbacks) and there once (NodeQueue
// checks it in debug builds); `waiter` is what it is suspended on, null while
// running or when yielding with sleep(0). Why a step is never queued twice:
// only the task's waiter wakes it, and a waiter wakes it once — its cancel()
// returns false once it has fired or the future is done, so cancel_task then
// sets must_cancel instead of scheduling again; with no waiter (first step,
// sleep(0)) the step is queued already and cancel only sets must_cancel.
#include <tulip/task/task.hpp>

#include <tulip/task/async_generator.hpp>
#include <tulip/task/coro.hpp>

#include <algorithm>

namespace tulip::detail {

// Whether task steps run coroutines through the trampoline (tls_next_hop in
// coro.hpp), decided here by the flags the library is built with, once for
// every user of it. GCC 12.2 compiles symmetric transfer (await_suspend
// returning the next handle) as a tail call when it optimises, so a deep await
// chain uses constant stack without help (a 1M-deep chain runs in the release
// build); at -O0, and under ASan or TSan at any level (their instrumentation
// of function exits blocks the tail call), each co_await nests a native frame
// and the 100,000-deep chain tests overflowed the stack. clang 16 always emits
// the tail call. Where it is not needed the trampoline would cost ~22
// instructions per await, so it is left off there.
#if defined(__clang__) || (defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__))
constexpr bool kCoroTrampoline = false;
#else
constexpr bool kCoroTrampoline = true;
#endif

FutureStateBase::~FutureStateBase() {
    // A pending future that dies still holds its callbacks' references.
    while (!callbacks.empty()) {
        ReadyNode* n = callbacks.pop();
        if (n->run == &run_done_callback) static_cast<CallbackNode*>(n)->decref();
    }
}

static bool is_dead_callback(ReadyNode* n) noexcept {
    return n->run == &run_done_callback && static_cast<CallbackNode*>(n)->aux == nullptr;
}

void FutureStateBase::sweep_dead_callbacks() noexcept {
    NodeQueue live;
    while (!callbacks.empty()) {
        ReadyNode* n = callbacks.pop();
        if (is_dead_callback(n))
            static_cast<CallbackNode*>(n)->decref();  // the list's reference
        else
            live.push(n);
    }
    callbacks.splice(live);
    dead_callbacks = 0;
}

void FutureStateBase::schedule_callbacks() noexcept {
    if (dead_callbacks) sweep_dead_callbacks();
    if (callbacks.empty()) return;
    // A done-callback node keeps its future alive until it has run.
    for (ReadyNode* n = callbacks.head; n; n = NodeQueue::next_of(n))
        if (n->run == &run_done_callback) incref();
    // On a closed loop the callbacks are dropped; a future may also outlive
    // its loop object (the running loop is alive: only others are looked up).
    if (loop != running_loop() && (!loop_alive(loop) || loop->is_closed())) {
        while (!callbacks.empty()) {
            ReadyNode* n = callbacks.pop();
            if (n->run == &run_done_callback) {
                static_cast<CallbackNode*>(n)->decref();
                decref();
            }
        }
        return;
    }
    loop->schedule_all(callbacks);
}

bool FutureStateBase::cancel_future(const std::string& msg) {
    log_traceback = false;
    if (done()) return false;
    state = State::cancelled;
    cancel_message = msg;
    schedule_callbacks();
    return true;
}

void FutureStateBase::set_exception(std::exception_ptr e) {
    if (done()) throw InvalidStateError("invalid state: " + describe() + " is already done");
    if (!e) throw std::invalid_argument("set_exception() needs an exception, got a null exception_ptr");
    exc = std::move(e);
    log_traceback = true;
    mark_finished();
}

void FutureStateBase::check_result_ready_slow() const {
    if (state == State::cancelled) throw_cancelled();
    if (state != State::finished) throw InvalidStateError("Result is not ready.");
}

void FutureStateBase::throw_cancelled() const {
    if (exc) std::rethrow_exception(exc);
    throw CancelledError(cancel_message);
}

std::exception_ptr FutureStateBase::cancelled_error() const {
    return exc ? exc : std::make_exception_ptr(CancelledError(cancel_message));
}

void FutureStateBase::report_unretrieved() noexcept {
    log_traceback = false;
    if (!loop_alive(loop)) return;
    try {
        ExceptionContext ctx;
        TaskBase* t = as_task();
        ctx.message = t ? "Task exception was never retrieved" : "Future exception was never retrieved";
        ctx.exception = exc;
        ctx.source = describe();
        if (t && t->creation_traceback) ctx.traceback = *t->creation_traceback;
        loop->call_exception_handler(ctx);
    } catch (...) {
    }
}

void run_done_callback(ReadyNode* r) {
    auto* n = static_cast<CallbackNode*>(r);
    auto* fut = static_cast<FutureStateBase*>(n->aux);
    CallbackNode::run_node(r);
    fut->decref();
}

// A scheduled done-callback dropped by the loop's close(): it will never run.
void drop_done_callback(ReadyNode* r) noexcept {
    auto* n = static_cast<CallbackNode*>(r);
    auto* fut = static_cast<FutureStateBase*>(n->aux);
    n->cancelled = true;
    n->drop_callable();
    n->decref();
    fut->decref();  // the reference schedule_callbacks took for the node
}

std::string cancelled_message(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError& c) {
        return c.message();
    } catch (...) {
    }
    return {};
}

std::string task_name(const TaskBase& t) { return t.name.empty() ? "Task-" + std::to_string(t.id) : t.name; }

// At loop close: tasks still pending are destroyed ("Task was destroyed but it
// is pending!" in asyncio). First every frame is destroyed — the awaiters in
// them unlink from the futures they wait on, which are all still alive because
// the loop holds a reference to each pending task — then the states are
// finished and released.
void close_task_layer(EventLoop& loop) {
    // Generators still open (never finalised) may be dropped after the loop
    // is gone: unlink them now so they never touch it.
    while (AsyncGenNode* g = loop.asyncgens_head) g->unregister();
    std::vector<TaskBase*> pending;
    for (TaskBase* t = loop.tasks_head; t; t = t->next_task) pending.push_back(t);
    // Unlink every task from the futures it waits on, one pass per future:
    // each frame unlinking itself would cost O(waiters) apiece, O(n^2) for n
    // tasks awaiting one future. Every task step in a list is a pending task
    // of this loop, and all of them are destroyed here.
    StateSet seen(pending.size());
    for (TaskBase* t : pending) {
        FutureStateBase* f = t->waiter ? t->waiter->as_future() : nullptr;
        if (!f) continue;
        t->waiter = nullptr;
        if (f->done() || !seen.insert(f)) continue;
        NodeQueue keep;
        while (!f->callbacks.empty()) {
            ReadyNode* n = f->callbacks.pop();
            if (n->run != &run_task_step) keep.push(n);
        }
        f->callbacks.splice(keep);
    }
    for (TaskBase* t : pending) {
        log(LogLevel::error, "Task was destroyed but it is pending: " + t->fut->describe());
        if (t->root) {
            t->root.destroy();
            t->root = {};
        }
    }
    for (TaskBase* t : pending) {
        FutureStateBase* f = t->fut;
        f->state = FutureStateBase::State::cancelled;
        f->schedule_callbacks();  // the loop is closed: this only drops them
        task_finished(*t);
    }
}

void register_task(EventLoop& loop, TaskBase& t) {
    loop.destroy_pending_tasks = &close_task_layer;
    t.id = loop.next_task_id++;
    t.fut->incref();  // the loop owns a pending task
    t.next_task = loop.tasks_head;
    if (loop.tasks_head) loop.tasks_head->prev_task = &t;
    loop.tasks_head = &t;
    ++loop.task_count;
    if (loop.get_debug()) t.creation_traceback = new std::string(capture_traceback(3));
}

void task_finished(TaskBase& t) noexcept {
    EventLoop& loop = *t.fut->loop;
    if (t.prev_task)
        t.prev_task->next_task = t.next_task;
    else
        loop.tasks_head = t.next_task;
    if (t.next_task) t.next_task->prev_task = t.prev_task;
    t.prev_task = t.next_task = nullptr;
    --loop.task_count;
    t.fut->decref();
}

void run_task_step(ReadyNode* n) {
    auto* t = static_cast<TaskBase*>(n);
    if (t->fut->done()) return;
    t->waiter = nullptr;
    if (t->must_cancel && !t->started) {
        // Cancelled before its first step: the body never runs (asyncio throws
        // CancelledError in at the first line, which no handler can see).
        t->must_cancel = false;
        FutureStateBase* f = t->fut;
        f->cancel_future(f->cancel_message);
        t->root.destroy();
        t->root = {};
        task_finished(*t);
        return;
    }
    t->started = true;
    TaskBase* outer = tls_current_task;
    tls_current_task = t;
    if constexpr (kCoroTrampoline) {
        // The trampoline (see tls_next_hop in coro.hpp): each co_await on a Coro
        // and each Coro's return leaves the coroutine to run next in `next`.
        std::coroutine_handle<> next = t->resume_at;
        std::coroutine_handle<>* outer_hop = tls_next_hop;
        tls_next_hop = &next;
        do {
            std::exchange(next, {}).resume();
        } while (next);
        tls_next_hop = outer_hop;
    } else {
        t->resume_at.resume();  // symmetric transfer, tail calls all the way
    }
    tls_current_task = outer;
    if (t->root.done()) t->finish(t);
}

// Started: its first step is queued (or it waits on something), it has run,
// or it is done. A task straight from create_task is none of these.
bool task_launched(const TaskBase& t) noexcept { return t.started || t.queued() || t.fut->done(); }

void run_task_factory(EventLoop& loop, TaskBase& t) {
    try {
        loop.get_task_factory()(loop, AnyTask(&t));
    } catch (...) {
        if (!task_launched(t)) {
            // Never started: drop the frame and the loop's reference; the
            // caller's handle goes with the exception.
            t.root.destroy();
            t.root = {};
            t.fut->cancel_future(std::string());
            task_finished(t);
        }
        throw;
    }
    if (!task_launched(t)) loop.schedule(&t);
}

bool cancel_task(TaskBase& t, const std::string& msg) {
    FutureStateBase& f = *t.fut;
    f.log_traceback = false;
    if (f.done()) return false;
    ++t.num_cancels_requested;
    if (t.waiter && t.waiter->cancel(msg)) {
        // The waiter wakes us with CancelledError; nothing more to do.
        return true;
    }
    t.must_cancel = true;
    f.cancel_message = msg;
    return true;
}

bool coro_debug_slow() noexcept {
    if (EventLoop* l = running_loop()) return l->get_debug();
    static const bool env = debug_from_env();
    tls_debug_state = env ? 1 : 0;  // run_forever overrides it while a loop runs
    return env;
}

void report_never_awaited(std::string* traceback) noexcept {
    try {
        log(LogLevel::warning, "coroutine was never awaited; created at:\n" + *traceback);
    } catch (...) {
    }
}

}  // namespace tulip::detail

namespace tulip {

std::size_t FutureBase::remove_done_callback(const DoneCallback& cb) const {
    detail::CallbackNode* n = cb.n_;
    // aux is this future while the node is registered on it; once the future
    // is done its callbacks were scheduled and can no longer be removed.
    if (!n || !s_ || n->aux != s_ || s_->done()) return 0;
    n->aux = nullptr;  // dead: the next sweep unlinks it and drops the list's reference
    n->cancelled = true;
    n->drop_callable();
    s_->note_dead_callback();
    return 1;
}

void start_task(const AnyTask& task, bool eager_start) {
    detail::TaskBase* t = task ? task.state()->as_task() : nullptr;
    if (!t) throw std::invalid_argument("start_task() needs a Task, got an empty handle");
    if (detail::task_launched(*t))
        throw std::runtime_error("start_task(): " + t->fut->describe() + " was started already");
    EventLoop& loop = *t->fut->loop;
    // asyncio starts eagerly only on a running loop (Task.__init__); a loop
    // running on another thread is not ours to step.
    if (eager_start && detail::running_loop() == &loop && !detail::tls_no_eager_start)
        detail::run_task_step(t);  // the first step, now; it swaps current_task
    else
        loop.schedule(t);
}

void eager_task_factory(EventLoop&, const AnyTask& task) { start_task(task, /*eager_start=*/true); }

std::vector<AnyTask> all_tasks(EventLoop& loop) {
    std::vector<AnyTask> out;
    out.reserve(loop.task_count);
    for (detail::TaskBase* t = loop.tasks_head; t; t = t->next_task)
        if (!t->fut->done()) out.emplace_back(t);
    std::reverse(out.begin(), out.end());  // creation order
    return out;
}

}  // namespace tulip
