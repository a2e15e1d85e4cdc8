// The Future state machine (future.hpp).
//
// Future: pending -> finished | cancelled, once. On completion the queued
// callbacks (task steps and done-callback nodes) are spliced onto the loop's
// ready queue in the order they were added: asyncio's "callbacks are scheduled
// with call_soon".
#include <tulip/task/future.hpp>

#include <tulip/loop/loop_access.hpp>
#include <tulip/task/task.hpp>

#include "task_registry.hpp"

namespace tulip::detail {

FutureStateBase::~FutureStateBase() {
    // A pending future that dies still holds its callbacks' references.
    while (!callbacks.empty()) {
        ReadyNode* n = callbacks.pop();
        if (n->run == &run_done_callback) static_cast<CallbackNode*>(n)->decref();
    }
}

static DoneCallbackNode* done_node(ReadyNode* n) noexcept {
    return static_cast<DoneCallbackNode*>(static_cast<CallbackNode*>(n));
}

static bool is_dead_callback(ReadyNode* n) noexcept {
    return n->run == &run_done_callback && done_node(n)->future == nullptr;
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
    bool any_done_callback = false;
    for (ReadyNode* n = callbacks.head; n; n = NodeQueue::next_of(n))
        if (n->run == &run_done_callback) {
            incref();
            any_done_callback = true;
        }
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
    // If the loop closes before they run, its registry releases them (and
    // the references above): it must exist by then.
    if (any_done_callback) (void)task_registry(*loop);
    LoopAccess::schedule_all(*loop, callbacks);
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
    } catch (...) {}
}

void run_done_callback(ReadyNode* r) {
    auto* n = done_node(r);
    auto* fut = static_cast<FutureStateBase*>(n->future);
    CallbackNode::run_node(r);
    fut->decref();
}

void schedule_done_callback(FutureStateBase& st, ReadyNode* n) {
    (void)task_registry(*st.loop);  // see schedule_callbacks
    LoopAccess::schedule(*st.loop, n);
}

// A scheduled done-callback dropped by the loop's close(): it will never run.
void drop_done_callback(ReadyNode* r) noexcept {
    auto* n = done_node(r);
    auto* fut = static_cast<FutureStateBase*>(n->future);
    n->cancelled = true;
    n->drop_callable();
    n->decref();
    fut->decref();  // the reference schedule_callbacks took for the node
}

}  // namespace tulip::detail

namespace tulip {

std::size_t FutureBase::remove_done_callback(const DoneCallback& cb) const {
    auto* n = static_cast<detail::DoneCallbackNode*>(cb.n_);
    // `future` is this future while the node is registered on it; once the future
    // is done its callbacks were scheduled and can no longer be removed.
    if (!n || !s_ || n->future != s_ || s_->done()) return 0;
    n->future = nullptr;  // dead: the next sweep unlinks it and drops the list's reference
    n->cancelled = true;
    n->drop_callable();
    s_->note_dead_callback();
    return 1;
}

}  // namespace tulip
