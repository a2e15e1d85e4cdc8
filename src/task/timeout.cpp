#include <tulip/task/timeout.hpp>

#include <tulip/loop/loop_access.hpp>

#include <string>

namespace tulip {

void Timeout::enter() {
    if (state_ != State::created) throw std::runtime_error("Timeout has already been entered");
    AnyTask t = current_task();
    if (!t) throw std::runtime_error("Timeout should be used inside a task");
    state_ = State::entered;
    task_ = t;
    cancelling_ = t.cancelling();
    reschedule(when_);
}

void Timeout::reschedule(std::optional<double> when) {
    if (state_ != State::entered) {
        if (state_ == State::created) throw std::runtime_error("Timeout has not been entered");
        // Named as asyncio names its states.
        const char* name = state_ == State::expiring ? "expiring" : state_ == State::expired ? "expired" : "finished";
        throw std::runtime_error(std::string("Cannot change state of ") + name + " Timeout");
    }
    if (when) (void)detail::LoopAccess::deadline_ns(*when, "timeout: when");  // NaN: refused before any change
    when_ = when;
    handle_.cancel();
    handle_ = Handle();
    if (!when) return;
    EventLoop& loop = get_running_loop();
    if (*when <= loop.time())
        handle_ = loop.call_soon([this] { on_timeout(); });
    else
        handle_ = loop.call_at(*when, [this] { on_timeout(); });
}

void Timeout::on_timeout() {
    if (state_ != State::entered) return;
    task_.cancel();
    state_ = State::expiring;
}

bool Timeout::exit(bool body_raised_cancelled) noexcept {
    handle_.cancel();
    handle_ = Handle();
    bool to_timeout = false;
    if (state_ == State::expiring) {
        state_ = State::expired;
        // No other cancel() came in while we were cancelling: ours to handle.
        if (task_.uncancel() <= cancelling_ && body_raised_cancelled) to_timeout = true;
    } else if (state_ == State::entered) {
        state_ = State::exited;
    }
    task_ = AnyTask();
    return to_timeout;
}

}  // namespace tulip
