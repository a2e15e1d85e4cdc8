// TaskGroup, ported from asyncio/taskgroups.py (3.12+, with 3.14's cancel()).
// asyncio's "base errors" (SystemExit, KeyboardInterrupt) are
// tulip::KeyboardInterrupt here: it leaves the group bare.
#include <tulip/task/task_group.hpp>

#include <algorithm>
#include <unordered_map>

namespace tulip {

namespace {

bool is_base_error(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const KeyboardInterrupt&) {
        return true;
    } catch (...) {
        return false;
    }
}

// Out of memory: the CancelledError goes without its message.
void copy_message(std::string& to, const std::string& from) noexcept {
    try {
        to = from;
    } catch (...) {
        to.clear();
    }
}

}  // namespace

// The task waiting in exit() parks on this, not on a Future: nothing to
// allocate while children run. A cancel of that task does not wake it: the
// group records the cancellation, cancels the children and goes on waiting
// (asyncio's exit loop, which re-awaits after each CancelledError).
struct TaskGroup::ExitWaiter final : detail::Cancellable {
    TaskGroup* group = nullptr;
    detail::TaskBase* task = nullptr;  // parked in exit(); null otherwise

    bool cancel(const std::string& msg) override {
        group->note_exit_cancel(msg);
        return true;  // the task raises (or not) from end_exit()
    }
    void wake() noexcept {
        if (detail::TaskBase* t = std::exchange(task, nullptr)) detail::LoopAccess::schedule(*t->fut->loop, t);
    }
};

struct TaskGroup::Tasks {
    std::unordered_map<detail::FutureStateBase*, AnyTask> map;
    ExitWaiter waiter;
};

TaskGroup::TaskGroup() : tasks_(detail::make_owned<Tasks>()) { tasks_->waiter.group = this; }
TaskGroup::~TaskGroup() = default;

std::size_t TaskGroup::size() const noexcept { return tasks_->map.size(); }

void TaskGroup::enter() {
    if (entered_) throw std::runtime_error("TaskGroup has already been entered");
    loop_ = &get_running_loop();
    parent_ = current_task();
    if (!parent_) throw std::runtime_error("TaskGroup cannot determine the parent task");
    entered_ = true;
    if (cancel_on_enter_) cancel();
}

void TaskGroup::check_can_create() const {
    if (!entered_) throw std::runtime_error("TaskGroup has not been entered");
    if (exiting_ && tasks_->map.empty()) throw std::runtime_error("TaskGroup is finished");
    if (aborting_) throw std::runtime_error("TaskGroup is shutting down");
}

void TaskGroup::adopt(AnyTask task) {
    // The task is already scheduled: if the group cannot take it (bad_alloc),
    // it is cancelled rather than left running unsupervised.
    bool inserted = false;
    try {
        // Room for the error of every live child (this one too) and the
        // body's: on_task_done and end_exit never allocate to record one.
        // Grown geometrically: one allocation per doubling, not per child.
        std::size_t need = errors_.size() + tasks_->map.size() + 2;
        if (errors_.capacity() < need) errors_.reserve(std::max(need, 2 * errors_.capacity()));
        inserted = tasks_->map.emplace(task.state(), task).second;
        task.add_done_callback([this](AnyTask& t) { on_task_done(t); });
    } catch (...) {
        if (inserted) tasks_->map.erase(task.state());
        task.cancel();
        throw;
    }
}

void TaskGroup::abort() {
    aborting_ = true;
    for (auto& [s, t] : tasks_->map)
        if (!t.done()) t.cancel();
}

void TaskGroup::cancel() {
    if (!entered_) {
        cancel_on_enter_ = true;
        return;
    }
    if (exiting_ && tasks_->map.empty()) return;
    if (!aborting_) {
        abort();
        if (parent_ && !parent_cancel_requested_) {
            parent_cancel_requested_ = true;
            parent_.cancel();
        }
    }
}

void TaskGroup::on_task_done(AnyTask& task) {
    tasks_->map.erase(task.state());
    if (tasks_->map.empty()) tasks_->waiter.wake();
    if (task.cancelled()) return;
    std::exception_ptr exc = task.exception();
    if (!exc) return;
    errors_.push_back(exc);
    if (!base_error_ && is_base_error(exc)) base_error_ = exc;
    if (parent_.done()) {
        ExceptionContext ctx;
        ctx.message = "Task " + task.get_name() + " has errored out but its parent task " + parent_.get_name() +
                      " is already completed";
        ctx.exception = exc;
        ctx.source = task.state()->describe();
        loop_->call_exception_handler(ctx);
        return;
    }
    if (!aborting_ && !parent_cancel_requested_) {
        // Cancel the body too; exit() will uncancel the parent.
        abort();
        parent_cancel_requested_ = true;
        parent_.cancel();
    }
}

bool TaskGroup::begin_exit() {
    exiting_ = true;
    if (detail::is_cancelled_error(body_error_)) propagate_ = Propagate::body;
    if (!base_error_ && is_base_error(body_error_)) base_error_ = body_error_;
    if (body_error_ && !aborting_) abort();
    return tasks_->map.empty();
}

void TaskGroup::park(std::coroutine_handle<> h) {
    detail::TaskBase& t = detail::current_task_for_await("wait for a TaskGroup");
    t.resume_at = h;
    t.waiter = &tasks_->waiter;
    tasks_->waiter.task = &t;
    // Cancelled while running: that cancellation counts as one received here.
    if (t.must_cancel) {
        t.must_cancel = false;
        note_exit_cancel(t.fut->cancel_message);
    }
}

void TaskGroup::note_exit_cancel(const std::string& msg) noexcept {
    pending_cancel_ = true;
    copy_message(pending_msg_, msg);
    if (!aborting_) {
        propagate_ = Propagate::waited;
        copy_message(propagate_msg_, msg);
        abort();
    }
}

void TaskGroup::end_exit() {
    std::exception_ptr body_error = std::exchange(body_error_, nullptr);

    // As asyncio: a base error wins over cancellation and the group, and the
    // parent's cancel request is left as it is.
    if (base_error_) {
        errors_.clear();
        std::rethrow_exception(std::exchange(base_error_, nullptr));
    }
    if (parent_cancel_requested_) {
        // We cancelled the parent ourselves: withdraw that request.
        if (parent_.uncancel() == 0) {
            propagate_ = Propagate::none;
        } else if (propagate_ == Propagate::none && pending_cancel_) {
            propagate_ = Propagate::waited;  // the remaining cancellation is not ours
            propagate_msg_ = std::move(pending_msg_);
        }
    }
    if (propagate_ != Propagate::none && errors_.empty()) {
        if (propagate_ == Propagate::body) std::rethrow_exception(body_error);
        throw CancelledError(std::move(propagate_msg_));
    }
    if (body_error && !detail::is_cancelled_error(body_error)) errors_.push_back(body_error);
    if (!errors_.empty()) {
        // Keep the parent's cancel count stable if it is being cancelled from outside.
        if (parent_.cancelling()) {
            parent_.uncancel();
            parent_.cancel();
        }
        auto errs = std::move(errors_);
        errors_.clear();
        throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errs));
    }
}

}  // namespace tulip
