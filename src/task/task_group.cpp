// TaskGroup, ported from asyncio/taskgroups.py (3.12+, with 3.14's cancel()).
// asyncio's "base errors" (SystemExit, KeyboardInterrupt) are
// tulip::KeyboardInterrupt here: it leaves the group bare.
#include <tulip/task/task_group.hpp>

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

}  // namespace

struct TaskGroup::Tasks {
    std::unordered_map<detail::FutureStateBase*, AnyTask> map;
};

TaskGroup::TaskGroup() : tasks_(detail::make_owned<Tasks>()) {}
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
    if (on_completed_ && tasks_->map.empty() && !on_completed_.done()) on_completed_.set_result();
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

Coro<void> TaskGroup::exit(std::exception_ptr body_error) {
    exiting_ = true;
    bool body_cancelled = detail::is_cancelled_error(body_error);
    std::exception_ptr propagate_cancel = body_cancelled ? body_error : nullptr;
    std::exception_ptr pending_cancel;
    if (!base_error_ && is_base_error(body_error)) base_error_ = body_error;
    if (body_error && !aborting_) abort();

    // A loop: the wait can itself be cancelled several times.
    while (!tasks_->map.empty()) {
        if (!on_completed_) on_completed_ = Future<void>::create(*loop_);
        std::exception_ptr cancelled;
        try {
            co_await on_completed_;
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        }
        if (cancelled) {
            pending_cancel = cancelled;
            if (!aborting_) {
                propagate_cancel = cancelled;
                abort();
            }
        }
        on_completed_ = Future<void>();
    }

    // As asyncio: a base error wins over cancellation and the group, and the
    // parent's cancel request is left as it is.
    if (base_error_) {
        errors_.clear();
        std::rethrow_exception(std::exchange(base_error_, nullptr));
    }
    if (parent_cancel_requested_) {
        // We cancelled the parent ourselves: withdraw that request.
        if (parent_.uncancel() == 0)
            propagate_cancel = nullptr;
        else if (!propagate_cancel)
            propagate_cancel = pending_cancel;  // the remaining cancellation is not ours
    }
    if (propagate_cancel && errors_.empty()) std::rethrow_exception(propagate_cancel);
    if (body_error && !body_cancelled) errors_.push_back(body_error);
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
