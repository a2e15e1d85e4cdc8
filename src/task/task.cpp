// The Task state machine (the Future's is in future.cpp).
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

#include "task_registry.hpp"

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

std::string cancelled_message(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError& c) {
        return c.message();
    } catch (...) {}
    return {};
}

std::string task_name(const TaskBase& t) { return t.name.empty() ? "Task-" + std::to_string(t.id) : t.name; }

// At loop close: tasks still pending are destroyed ("Task was destroyed but it
// is pending!" in asyncio). First every frame is destroyed — the awaiters in
// them unlink from the futures they wait on, which are all still alive because
// the loop holds a reference to each pending task — then the states are
// finished and released.
void close_task_layer(EventLoop& loop) {
    TaskRegistry* reg = find_task_registry(loop);
    if (!reg) return;
    // Generators still open (never finalised) may be dropped after the loop
    // is gone: unlink them now so they never touch it.
    while (AsyncGenNode* g = reg->asyncgens_head) g->unregister();
    std::vector<TaskBase*> pending;
    for (TaskBase* t = reg->tasks_head; t; t = t->next_task) pending.push_back(t);
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

bool register_task(EventLoop& loop, TaskBase& t) {
    TaskRegistry& reg = task_registry(loop);
    t.id = reg.next_task_id++;
    t.fut->incref();  // the loop owns a pending task
    t.next_task = reg.tasks_head;
    if (reg.tasks_head) reg.tasks_head->prev_task = &t;
    reg.tasks_head = &t;
    ++reg.task_count;
    if (loop.get_debug()) t.creation_traceback = new std::string(capture_traceback(3));
    return static_cast<bool>(reg.task_factory);
}

void task_finished(TaskBase& t) noexcept {
    // Registered, so the registry is there.
    TaskRegistry& reg = *find_task_registry(*t.fut->loop);
    if (t.prev_task)
        t.prev_task->next_task = t.next_task;
    else
        reg.tasks_head = t.next_task;
    if (t.next_task) t.next_task->prev_task = t.prev_task;
    t.prev_task = t.next_task = nullptr;
    --reg.task_count;
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
        task_registry(loop).task_factory(loop, AnyTask(&t));
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
    if (!task_launched(t)) LoopAccess::schedule(loop, &t);
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

}  // namespace tulip::detail

namespace tulip {

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
        detail::LoopAccess::schedule(loop, t);
}

void eager_task_factory(EventLoop&, const AnyTask& task) { start_task(task, /*eager_start=*/true); }

std::vector<AnyTask> all_tasks(EventLoop& loop) {
    std::vector<AnyTask> out;
    detail::TaskRegistry* reg = detail::find_task_registry(loop);
    if (!reg) return out;
    out.reserve(reg->task_count);
    for (detail::TaskBase* t = reg->tasks_head; t; t = t->next_task)
        if (!t->fut->done()) out.emplace_back(t);
    std::reverse(out.begin(), out.end());  // creation order
    return out;
}

void EventLoop::set_task_factory(TaskFactory factory) {
    detail::task_registry(*this).task_factory = std::move(factory);
}

const TaskFactory& EventLoop::get_task_factory() const noexcept {
    static const TaskFactory none;
    const detail::TaskRegistry* reg = detail::find_task_registry(*this);
    return reg ? reg->task_factory : none;
}

}  // namespace tulip
