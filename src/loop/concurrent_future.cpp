#include <tulip/loop/concurrent_future.hpp>

#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include <tulip/core/exceptions.hpp>

namespace tulip::detail {

struct ConcurrentCore::Sync {
    std::mutex mu;
    std::condition_variable cv;
};

ConcurrentCore::ConcurrentCore() : sync_(make_owned<Sync>()) {}
ConcurrentCore::~ConcurrentCore() = default;

bool ConcurrentCore::done() const {
    std::lock_guard g(sync_->mu);
    return done_;
}

bool ConcurrentCore::cancelled() const {
    std::lock_guard g(sync_->mu);
    return cancelled_;
}

void ConcurrentCore::wait(const std::optional<std::chrono::duration<double>>& timeout) {
    std::unique_lock g(sync_->mu);
    // cv.wait_for converts to the clock's integer nanoseconds: a huge or
    // infinite timeout would overflow, so past ~30 years it means "no timeout".
    double secs = timeout ? timeout->count() : 0.0;
    if (timeout && secs != secs) throw std::invalid_argument("result: timeout must not be NaN");
    if (timeout && secs < 1e9) {
        auto d = std::chrono::duration<double>(secs > 0 ? secs : 0.0);
        if (!sync_->cv.wait_for(g, d, [&] { return done_; })) throw TimeoutError();
    } else {
        sync_->cv.wait(g, [&] { return done_; });
    }
}

bool ConcurrentCore::complete(void (*fill)(void*), void* ctx) {
    std::lock_guard g(sync_->mu);
    if (done_) return false;
    fill(ctx);  // may throw: the future stays pending
    done_ = true;
    sync_->cv.notify_all();
    return true;
}

bool ConcurrentCore::set_exception(std::exception_ptr e) {
    std::lock_guard g(sync_->mu);
    if (done_) return false;
    error_ = std::move(e);
    done_ = true;
    sync_->cv.notify_all();
    return true;
}

bool ConcurrentCore::set_cancelled() {
    std::lock_guard g(sync_->mu);
    if (done_) return false;
    cancelled_ = done_ = true;
    sync_->cv.notify_all();
    return true;
}

bool ConcurrentCore::cancel() {
    std::function<void()> hook;
    {
        std::lock_guard g(sync_->mu);
        if (done_) return false;
        hook = on_cancel_;
        cancelled_ = done_ = true;
        sync_->cv.notify_all();
    }
    if (hook) hook();
    return true;
}

void ConcurrentCore::set_cancel_hook(std::function<void()> hook) {
    std::lock_guard g(sync_->mu);
    on_cancel_ = std::move(hook);
}

}  // namespace tulip::detail
