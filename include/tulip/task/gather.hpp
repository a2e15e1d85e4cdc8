// tulip/task/gather.hpp — gather (asyncio.gather).
//
// gather(a, b, c) runs Coros as Tasks (Tasks and Futures are taken as they
// are) and returns a Future of a tuple of their results, in argument order;
// a void child gives std::monostate. gather(range) returns a Future of a
// vector. With the tag `return_exceptions` first, each result is an
// Outcome<T> holding the value or the exception (asyncio returns the
// exception object in its place).
//
// Cancel safety: not safe: cancelling the gather (or the task awaiting it)
// cancels every child that is not done and drops the results of those that
// finished; the gather then ends with CancelledError (a child failing in the
// same iteration may complete it first with that failure, as asyncio's
// _GatheringFuture). Without
// return_exceptions, the first child failure (or cancellation) completes the
// gather at once with that exception, and the other children keep running,
// as in asyncio. Thread safety: loop thread only.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/outcome.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

struct ReturnExceptions {
    explicit constexpr ReturnExceptions() = default;
};
// Pass as gather's first argument: errors become values (asyncio's return_exceptions=True).
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

template <class T>
using gather_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// One child of a gather. `owned`: gather made its task from a Coro (or
// another awaitable), so nobody else can read its result and it is moved
// out; a Task or Future passed in follows the rule in future.hpp (moved if
// gather holds the only reference, else copied, else InvalidStateError).
struct GatherChild {
    FutureBase f;
    bool owned = false;
};

// Reads a done child's outcome as a value. `running`: the child whose done
// callback is running now (its node holds one more reference).
template <class T>
gather_value_t<T> child_value(const GatherChild& c, FutureStateBase* running) {
    auto* st = static_cast<FutureState<T>*>(c.f.state());
    if constexpr (std::is_void_v<T>) {
        st->rethrow_if_failed();
        return {};
    } else {
        if (c.owned) return std::move(st->result());
        return consume_result(*st, st == running ? 2 : 1);
    }
}
template <class T>
Outcome<gather_value_t<T>> child_outcome(const GatherChild& c, FutureStateBase* running) {
    FutureStateBase* s = c.f.state();
    if (s->is_cancelled()) return Outcome<gather_value_t<T>>(s->cancelled_error());
    if (s->exc) {
        s->log_traceback = false;
        return Outcome<gather_value_t<T>>(s->exc);
    }
    try {
        return Outcome<gather_value_t<T>>(child_value<T>(c, running));
    } catch (const InvalidStateError&) {
        return Outcome<gather_value_t<T>>(std::current_exception());  // a shared move-only result
    }
}

// The gathering future (asyncio's _GatheringFuture): cancel() cancels the children.
template <class R>
struct GatheringState final : FutureState<R> {
    using FutureState<R>::FutureState;
    std::vector<GatherChild> children;  // argument order, duplicates included
    std::size_t nfuts = 0;
    std::size_t nfinished = 0;
    bool return_exceptions = false;
    bool cancel_requested = false;
    R (*build)(GatheringState&, FutureStateBase* running) = nullptr;

    bool cancel(const std::string& msg) override {
        if (this->done()) return false;
        bool ret = false;
        for (auto& c : children)
            if (c.f.cancel(msg)) ret = true;
        if (ret) cancel_requested = true;
        return ret;
    }
    std::string describe() const override { return "gather"; }

    void child_done(FutureStateBase* f) {
        ++nfinished;
        if (this->done()) {
            if (!f->is_cancelled()) f->log_traceback = false;  // mark retrieved
            return;
        }
        if (!return_exceptions) {
            if (f->is_cancelled()) {
                this->FutureStateBase::set_exception(f->cancelled_error());
                return;
            }
            if (f->exc) {
                f->log_traceback = false;
                this->FutureStateBase::set_exception(f->exc);
                return;
            }
        }
        if (nfinished == nfuts) {
            if (cancel_requested) {
                this->FutureStateBase::set_exception(f->cancelled_error());
                return;
            }
            try {
                R r = build(*this, f);
                this->set_result(std::move(r));
            } catch (...) {
                this->FutureStateBase::set_exception(std::current_exception());
            }
        }
    }

    // Registers the children once each (duplicates share one future). As in
    // asyncio 3.12+, a child that is done already (a finished Future, an
    // eager task that completed in create_task) is accounted for here,
    // after the pending ones are registered and in argument order: if every
    // child is done, the gather is done when it is returned.
    void start() {
        std::vector<FutureStateBase*> unique;
        unique.reserve(children.size());
        StateSet seen(children.size());
        for (auto& c : children)
            if (seen.insert(c.f.state())) unique.push_back(c.f.state());
        nfuts = unique.size();
        std::size_t ndone = 0;
        for (auto* s : unique) {
            if (s->done()) {
                ++ndone;
                continue;
            }
            // Each pending callback keeps the gather alive, through a handle
            // in its capture: a callback dropped unrun (its loop closed)
            // releases it too.
            FutureBase(s).add_done_callback([self = FutureBase(this)](FutureBase& f) {
                static_cast<GatheringState*>(self.state())->child_done(f.state());
            });
        }
        if (ndone == 0) return;
        for (auto* s : unique)
            if (s->done()) child_done(s);
    }
};

template <class T>
GatherChild gather_child(EventLoop& loop, Coro<T>&& c) {
    return {Future<T>(loop.create_task(std::move(c))), true};
}
template <class T>
GatherChild gather_child(EventLoop& loop, const Task<T>& t) {
    return {Future<T>(ensure_future(loop, t)), false};
}
template <class T>
GatherChild gather_child(EventLoop& loop, Task<T>&& t) {
    return {Future<T>(ensure_future(loop, std::move(t))), false};
}
template <class T>
GatherChild gather_child(EventLoop& loop, const Future<T>& f) {
    return {ensure_future(loop, f), false};
}
template <class T>
GatherChild gather_child(EventLoop& loop, Future<T>&& f) {
    return {ensure_future(loop, std::move(f)), false};
}
// Any other awaitable (e.g. sleep(1)) runs in a task of its own.
template <PlainAwaitable A>
GatherChild gather_child(EventLoop& loop, A&& a) {
    return {Future<awaitable_result_t<A>>(ensure_future(loop, std::forward<A>(a))), true};
}

template <bool ReturnExc, class... A>
auto gather_variadic(A&&... args) {
    using R = std::conditional_t<ReturnExc, std::tuple<Outcome<gather_value_t<awaitable_result_t<A>>>...>,
                                 std::tuple<gather_value_t<awaitable_result_t<A>>...>>;
    EventLoop& loop = get_running_loop();
    auto* g = new GatheringState<R>(&loop);
    Future<R> outer(g, /*adopt=*/true);
    g->return_exceptions = ReturnExc;
    g->children.reserve(sizeof...(A));
    (g->children.push_back(gather_child(loop, std::forward<A>(args))), ...);
    g->build = [](GatheringState<R>& self, FutureStateBase* running) -> R {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            if constexpr (ReturnExc)
                return R(child_outcome<awaitable_result_t<A>>(self.children[I], running)...);
            else
                return R(child_value<awaitable_result_t<A>>(self.children[I], running)...);
        }(std::index_sequence_for<A...>{});
    };
    if constexpr (sizeof...(A) == 0) {
        g->set_result(R{});  // asyncio: gather() with nothing is done at once
    } else {
        g->start();
    }
    return outer;
}

template <bool ReturnExc, class Range>
auto gather_range(Range&& range) {
    using A = std::remove_cvref_t<decltype(*std::begin(range))>;
    using T = awaitable_result_t<A>;
    using Elem = std::conditional_t<ReturnExc, Outcome<gather_value_t<T>>, gather_value_t<T>>;
    using R = std::vector<Elem>;
    EventLoop& loop = get_running_loop();
    auto* g = new GatheringState<R>(&loop);
    Future<R> outer(g, /*adopt=*/true);
    g->return_exceptions = ReturnExc;
    for (auto&& a : range) {
        if constexpr (std::is_rvalue_reference_v<Range&&> || !std::is_copy_constructible_v<A>)
            g->children.push_back(gather_child(loop, std::move(a)));
        else
            g->children.push_back(gather_child(loop, a));
    }
    g->build = [](GatheringState<R>& self, FutureStateBase* running) -> R {
        R out;
        out.reserve(self.children.size());
        for (auto& c : self.children) {
            if constexpr (ReturnExc)
                out.push_back(child_outcome<T>(c, running));
            else
                out.push_back(child_value<T>(c, running));
        }
        return out;
    };
    if (g->children.empty()) {
        g->set_result(R{});
        return outer;
    }
    g->start();
    return outer;
}

template <class A>
concept GatherRange = requires(A& a) {
    std::begin(a);
    std::end(a);
} && !std::is_same_v<std::remove_cvref_t<A>, std::string>;

}  // namespace detail

// gather(a, b, ...): Future<std::tuple<results...>>.
template <class... A>
    requires(!(detail::GatherRange<A> || ...))
auto gather(A&&... args) {
    return detail::gather_variadic<false>(std::forward<A>(args)...);
}
// gather(return_exceptions, a, b, ...): Future<std::tuple<Outcome<results>...>>.
template <class... A>
    requires(!(detail::GatherRange<A> || ...))
auto gather(ReturnExceptions, A&&... args) {
    return detail::gather_variadic<true>(std::forward<A>(args)...);
}
// gather(range): Future<std::vector<result>>.
template <detail::GatherRange R>
auto gather(R&& range) {
    return detail::gather_range<false>(std::forward<R>(range));
}
template <detail::GatherRange R>
auto gather(ReturnExceptions, R&& range) {
    return detail::gather_range<true>(std::forward<R>(range));
}

}  // namespace tulip
