// Barrier, ported from asyncio/locks.py (3.11+).
#include <tulip/sync/barrier.hpp>

namespace tulip {

Coro<void> Barrier::block() {
    // Draining or resetting: wait until done.
    co_await cond_.wait_for([this] { return state_ != State::draining && state_ != State::resetting; });
    if (state_ == State::broken) throw BrokenBarrierError();
}

Coro<void> Barrier::wait_filled() {
    co_await cond_.wait_for([this] { return state_ != State::filling; });
    if (state_ == State::broken || state_ == State::resetting) throw BrokenBarrierError();
}

void Barrier::exit() {
    // The last task out lets those waiting for the barrier to drain go.
    if (count_ == 0) {
        if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
        cond_.notify_all();
    }
}

Coro<std::size_t> Barrier::wait() {
    auto held = co_await cond_.acquire();
    co_await block();
    std::size_t index = count_++;
    std::exception_ptr err;
    try {
        if (index + 1 == parties_) {
            state_ = State::draining;  // we release the barrier
            cond_.notify_all();
        } else {
            co_await wait_filled();
        }
    } catch (...) {
        err = std::current_exception();
    }
    --count_;
    exit();
    if (err) std::rethrow_exception(err);
    co_return index;
}

Coro<void> Barrier::reset() {
    auto held = co_await cond_.acquire();
    if (count_ > 0) {
        if (state_ != State::resetting) state_ = State::resetting;  // wake the waiters
    } else {
        state_ = State::filling;
    }
    cond_.notify_all();
}

Coro<void> Barrier::abort() {
    auto held = co_await cond_.acquire();
    state_ = State::broken;
    cond_.notify_all();
}

}  // namespace tulip
