// tulip/sync/barrier.hpp — Barrier (asyncio.Barrier, 3.11+).
//
// wait() blocks until `parties` tasks are waiting, then releases them all;
// each gets a distinct index in 0..parties-1. reset() returns the barrier to
// empty (current waiters get BrokenBarrierError); abort() breaks it for good
// (all current and future waiters get BrokenBarrierError).
// Cancel safety (wait()): safe; a waiter cancelled while the barrier fills
// leaves it (n_waiting drops); cancelled after it filled, the others still
// pass. reset() and abort() take the barrier's lock first: cancelled while
// waiting for it, they change nothing.
// Thread safety: loop thread only.
#pragma once

#include <cstddef>
#include <stdexcept>

#include <tulip/sync/condition.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

class Barrier {
public:
    // parties <= 0 raises std::invalid_argument (asyncio: ValueError); signed,
    // so that a negative count is refused rather than wrapped to a huge one.
    explicit Barrier(std::ptrdiff_t parties) : parties_(checked(parties)) {}
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    // Waits for the other parties; returns this task's index.
    Coro<std::size_t> wait();
    Coro<void> reset();
    Coro<void> abort();

    std::size_t parties() const noexcept { return parties_; }
    std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
    bool broken() const noexcept { return state_ == State::broken; }

private:
    enum class State { filling, draining, resetting, broken };
    static std::size_t checked(std::ptrdiff_t parties) {
        if (parties < 1) throw std::invalid_argument("parties must be > 0");
        return static_cast<std::size_t>(parties);
    }
    Coro<void> block();
    Coro<void> wait_filled();
    void exit();
    Condition cond_;
    std::size_t parties_;
    std::size_t count_ = 0;
    State state_ = State::filling;
};

}  // namespace tulip
