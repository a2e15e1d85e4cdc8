// tulip/task/wait.hpp — wait and as_completed (asyncio.wait, asyncio.as_completed).
//
// wait(futures, {timeout, return_when}) waits until the condition holds and
// returns {done, pending} (vectors in the order given; duplicates removed;
// asyncio returns sets). It never raises the futures' errors and never
// cancels them; on timeout it simply returns. Coros are refused, as in
// asyncio 3.11+: wrap them in tasks.
//
// as_completed(futures, timeout) yields the futures as they complete:
//     auto it = tulip::as_completed(tasks);
//     while (it.remaining()) { auto f = co_await it.next(); use(co_await f); }
// next() raises TimeoutError once the timeout has passed.
//
// Cancellation: cancelling the waiter does not cancel the futures.
// Thread safety: loop thread only.
#pragma once

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

struct WaitOptions {
    std::optional<Seconds> timeout;
    ReturnWhen return_when = ReturnWhen::ALL_COMPLETED;
};

template <class F>
struct WaitResult {
    std::vector<F> done;
    std::vector<F> pending;
};

namespace detail {

// Shared between wait()'s frame and the callbacks it leaves on the futures.
struct WaitContext {
    Future<void> waiter;
    std::size_t counter = 0;
    ReturnWhen return_when{};
    void on_completion(FutureBase& f) {
        --counter;
        bool failed = !f.cancelled() && f.state()->exc;
        if (counter == 0 || return_when == ReturnWhen::FIRST_COMPLETED ||
            (return_when == ReturnWhen::FIRST_EXCEPTION && failed)) {
            if (!waiter.done()) waiter.set_result();
        }
    }
};

template <class F>
std::vector<F> unique_futures(std::vector<F> fs) {
    std::vector<F> out;
    out.reserve(fs.size());
    StateSet seen(fs.size());
    for (auto& f : fs) {
        if (!f) throw std::invalid_argument("wait(): an empty Future/Task handle was passed");
        if (seen.insert(f.state())) out.push_back(std::move(f));
    }
    return out;
}

}  // namespace detail

template <class F>
Coro<WaitResult<F>> wait(std::vector<F> fs, WaitOptions options = {}) {
    static_assert(std::is_base_of_v<FutureBase, F>,
                  "wait() takes Tasks or Futures; passing coroutines is forbidden, use tasks explicitly");
    if (fs.empty()) throw std::invalid_argument("Set of Tasks/Futures is empty.");
    fs = detail::unique_futures(std::move(fs));
    EventLoop& loop = get_running_loop();
    auto ctx = std::make_shared<detail::WaitContext>();
    ctx->waiter = Future<void>::create(loop);
    ctx->counter = fs.size();
    ctx->return_when = options.return_when;
    Handle timeout_handle;
    if (options.timeout) {
        timeout_handle = loop.call_later(*options.timeout, [ctx] {  // NaN throws here, before any callback
            if (!ctx->waiter.done()) ctx->waiter.set_result();
        });
    }
    std::vector<DoneCallback> cbs;
    cbs.reserve(fs.size());
    for (auto& f : fs) {
        FutureBase base(f);
        cbs.push_back(base.add_done_callback([ctx](FutureBase& done) { ctx->on_completion(done); }));
    }
    std::exception_ptr err;
    try {
        co_await ctx->waiter;
    } catch (...) {
        err = std::current_exception();
    }
    timeout_handle.cancel();
    for (std::size_t i = 0; i < fs.size(); ++i) FutureBase(fs[i]).remove_done_callback(cbs[i]);
    if (err) std::rethrow_exception(err);
    WaitResult<F> r;
    for (auto& f : fs) (f.done() ? r.done : r.pending).push_back(f);
    co_return r;
}

namespace detail {
template <class F>
struct AsCompletedState {
    std::deque<F> done;
    std::size_t todo = 0;
    bool timed_out = false;
    Future<void> waiter;  // set when something arrives while next() waits
    Handle timeout_handle;
    void wake() {
        if (waiter && !waiter.done()) waiter.set_result();
    }
};
}  // namespace detail

template <class F>
class AsCompleted {
public:
    AsCompleted(std::vector<F> fs, std::optional<Seconds> timeout) : st_(std::make_shared<detail::AsCompletedState<F>>()) {
        if (timeout) (void)EventLoop::to_ns(*timeout, "as_completed: timeout");  // NaN: before any callback
        fs = detail::unique_futures(std::move(fs));
        EventLoop& loop = get_running_loop();
        st_->todo = fs.size();
        for (auto& f : fs) {
            std::weak_ptr<detail::AsCompletedState<F>> w = st_;
            FutureBase(f).add_done_callback([w, f](FutureBase&) {
                if (auto st = w.lock()) {
                    if (st->timed_out) return;
                    st->done.push_back(f);
                    st->wake();
                }
            });
        }
        if (timeout && !fs.empty()) {
            std::weak_ptr<detail::AsCompletedState<F>> w = st_;
            st_->timeout_handle = loop.call_later(*timeout, [w] {
                if (auto st = w.lock()) {
                    st->timed_out = true;
                    st->wake();
                }
            });
        }
    }
    AsCompleted(AsCompleted&&) noexcept = default;
    ~AsCompleted() {
        if (st_) st_->timeout_handle.cancel();
    }

    // Futures not yet handed out by next().
    std::size_t remaining() const noexcept { return st_->todo; }

    // The next future to complete. TimeoutError once the timeout has passed;
    // std::out_of_range when every future was handed out.
    // Not a coroutine itself: the state is taken now, so the Coro may
    // outlive this object (create_task(it.next()), CP.53).
    Coro<F> next() { return next_from(st_); }

private:
    static Coro<F> next_from(std::shared_ptr<detail::AsCompletedState<F>> st) {
        if (st->todo == 0) throw std::out_of_range("as_completed: no futures left");
        while (st->done.empty()) {
            if (st->timed_out) throw TimeoutError("as_completed: the timeout expired");
            st->waiter = Future<void>::create(get_running_loop());
            co_await st->waiter;
        }
        F f = std::move(st->done.front());
        st->done.pop_front();
        --st->todo;
        co_return f;
    }

    std::shared_ptr<detail::AsCompletedState<F>> st_;
};

template <class F>
AsCompleted<F> as_completed(std::vector<F> fs, std::optional<Seconds> timeout = std::nullopt) {
    return AsCompleted<F>(std::move(fs), timeout);
}

}  // namespace tulip
