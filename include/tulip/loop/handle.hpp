// tulip/loop/handle.hpp — Handle and TimerHandle (asyncio.Handle / asyncio.TimerHandle).
//
// What call_soon / call_later / call_at return: a reference to the scheduled
// callback that can cancel it. Dropping the handle does not cancel anything.
// Thread safety: like asyncio, a handle is used on its loop's thread only;
// except that a Handle returned by call_soon_threadsafe may be cancelled (and
// asked cancelled()) from any thread: its captures are then released by the
// loop thread when it reaches the callback.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <utility>

#include <tulip/loop/nodes.hpp>

namespace tulip {

class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(detail::CallbackNode* n) noexcept : n_(n) {
        if (n_) n_->incref();
    }
    Handle(const Handle& o) noexcept : Handle(o.n_) {}
    Handle(Handle&& o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
    Handle& operator=(Handle o) noexcept {
        std::swap(n_, o.n_);
        return *this;
    }
    ~Handle() {
        if (n_) n_->decref();
    }

    // Cancels the callback if it has not run yet; its captures are released at
    // once (call_soon_threadsafe's: by the loop thread, soon).
    void cancel() noexcept;
    bool cancelled() const noexcept {
        return n_ && std::atomic_ref<bool>(n_->cancelled).load(std::memory_order_relaxed);
    }
    explicit operator bool() const noexcept { return n_ != nullptr; }

protected:
    detail::CallbackNode* n_ = nullptr;
};

class TimerHandle : public Handle {
public:
    using Handle::Handle;
    // The absolute deadline on the loop's clock, in seconds (loop.time() units);
    // +inf for a timer that never fires (an infinite or huge delay).
    double when() const noexcept {
        if (!n_) return 0.0;
        std::int64_t when = static_cast<const detail::TimedCallbackNode*>(n_)->when;
        return when == INT64_MAX ? std::numeric_limits<double>::infinity() : static_cast<double>(when) * 1e-9;
    }
};

}  // namespace tulip
