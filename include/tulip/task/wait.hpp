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
// next() raises TimeoutError for each future still pending once the timeout
// has passed; next_result() gives the next result instead of the future.
//
// Cancel safety: safe (wait(), next(), next_result()): cancelling the waiter
// does not cancel the futures, each keeps its result; a next() cancelled after
// it was handed a future gives it to the next waiting next().
// Thread safety: loop thread only.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>
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
// Hands completed futures to next() calls in order, any number of which may
// wait at once (asyncio passes them through a Queue).
template <class F>
struct AsCompletedState {
    std::deque<std::optional<F>> done;  // nullopt: a future the timeout cut off
    std::deque<Future<void>> getters;   // next() calls waiting, FIFO
    std::size_t todo = 0;               // next() calls still to come (asyncio's _todo_left)
    std::size_t pending = 0;            // futures not done yet
    bool timed_out = false;
    Handle timeout_handle;
    void put(std::optional<F> f) {
        done.push_back(std::move(f));
        wake_one();
    }
    void wake_one() {
        while (!getters.empty()) {
            Future<void> g = std::move(getters.front());
            getters.pop_front();
            if (!g.done()) {
                g.set_result();
                return;
            }
        }
    }
};
}  // namespace detail

template <class F>
class AsCompleted {
public:
    using State = detail::AsCompletedState<F>;
    AsCompleted(std::vector<F> fs, std::optional<Seconds> timeout) : st_(std::make_shared<State>()) {
        if (timeout) (void)detail::LoopAccess::to_ns(*timeout, "as_completed: timeout");  // NaN: before any callback
        fs = detail::unique_futures(std::move(fs));
        EventLoop& loop = get_running_loop();
        st_->todo = fs.size();
        st_->pending = fs.size();
        for (auto& f : fs) {
            std::weak_ptr<State> w = st_;
            FutureBase(f).add_done_callback([w, f](FutureBase&) {
                if (auto st = w.lock()) {
                    if (st->timed_out) return;
                    --st->pending;
                    st->put(f);
                    if (st->pending == 0) st->timeout_handle.cancel();
                }
            });
        }
        if (timeout && !fs.empty()) {
            std::weak_ptr<State> w = st_;
            st_->timeout_handle = loop.call_later(*timeout, [w] {
                if (auto st = w.lock()) {
                    // Every future not done yet becomes a TimeoutError for one next().
                    st->timed_out = true;
                    for (; st->pending > 0; --st->pending) st->put(std::nullopt);
                }
            });
        }
    }
    AsCompleted(AsCompleted&&) noexcept = default;
    ~AsCompleted() {
        if (st_) st_->timeout_handle.cancel();
    }

    // How many more next() calls will yield a future (or TimeoutError): each
    // call counts when it is made, as asyncio's iterator does, so that
    // several next() may wait at once.
    std::size_t remaining() const noexcept { return st_->todo; }

    // The next future to complete (the original Task or Future, as 3.13's
    // `async for f in as_completed(...)`). TimeoutError for each future still
    // pending when the timeout passed; std::out_of_range when every future
    // was asked for already. Any number of next() may wait at once; each
    // gets its own future, in the order they were called.
    // Not a coroutine itself: the state is taken now, so the Coro may
    // outlive this object (create_task(it.next()), CP.53).
    Coro<F> next() { return next_from(st_, take_one()); }

    // The next result (3.13's plain `for aw in as_completed(...): await aw`):
    // the value of the next future to complete, or its exception.
    Coro<typename F::value_type> next_result() { return result_of(next_from(st_, take_one())); }

private:
    bool take_one() noexcept {
        if (st_->todo == 0) return false;
        --st_->todo;
        return true;
    }
    static Coro<F> next_from(std::shared_ptr<State> st, bool counted) {
        if (!counted) throw std::out_of_range("as_completed: no futures left");
        while (st->done.empty()) {
            Future<void> g = Future<void>::create(get_running_loop());
            st->getters.push_back(g);
            std::exception_ptr err;
            try {
                co_await g;
            } catch (...) {
                err = std::current_exception();
            }
            if (err) {
                std::erase(st->getters, g);
                // Woken, then cancelled: the future meant for us goes to the next waiter.
                if (g.done() && !g.cancelled() && !st->done.empty()) st->wake_one();
                std::rethrow_exception(err);
            }
        }
        std::optional<F> f = std::move(st->done.front());
        st->done.pop_front();
        if (!f) throw TimeoutError("as_completed: the timeout expired");
        co_return std::move(*f);
    }
    static Coro<typename F::value_type> result_of(Coro<F> next) {
        F f = co_await std::move(next);
        if constexpr (std::is_void_v<typename F::value_type>)
            co_await std::move(f);
        else
            co_return co_await std::move(f);
    }

    std::shared_ptr<State> st_;
};

template <class F>
AsCompleted<F> as_completed(std::vector<F> fs, std::optional<Seconds> timeout = std::nullopt) {
    return AsCompleted<F>(std::move(fs), timeout);
}
// Coroutines are wrapped in tasks first (asyncio: ensure_future); next()
// yields those tasks.
template <class T>
AsCompleted<Task<T>> as_completed(std::vector<Coro<T>> cs, std::optional<Seconds> timeout = std::nullopt) {
    if (timeout) (void)detail::LoopAccess::to_ns(*timeout, "as_completed: timeout");  // NaN: before any task starts
    std::vector<Task<T>> ts;
    ts.reserve(cs.size());
    for (auto& c : cs) ts.push_back(create_task(std::move(c)));
    return AsCompleted<Task<T>>(std::move(ts), timeout);
}

}  // namespace tulip
