// tulip/task/async_generator.hpp — AsyncGenerator<T> (asyncio's async generators, PEP 525).
//
// A coroutine that co_yields values and co_awaits between them:
//
//     tulip::AsyncGenerator<int> ticker(int n) {
//         for (int i = 0; i < n; ++i) { co_await tulip::sleep(0.1); co_yield i; }
//     }
//     auto gen = ticker(10);
//     while (auto v = co_await gen.next()) use(*v);        // async for v in ticker(10)
//
// next() returns std::optional<T>: nullopt when the generator is exhausted
// (asyncio's StopAsyncIteration); an exception in the generator propagates
// from next(). The generator runs inside the consumer's task.
//
// aclose() throws GeneratorExit in at the suspended co_yield, so the
// generator's cleanup (catch blocks, destructors) runs; cleanup may await. A
// generator dropped half-way is finalised the same way in a new task on the
// running loop (asyncio's finalizer hook), and run()/Runner finalises those
// still open at shutdown (asyncio's shutdown_asyncgens).
//
// Cancel safety (next(), asend(), athrow(), aclose()): that of what the
// generator awaits: cancelling the consumer's task cancels it there; the
// generator may catch CancelledError. A generator dropped after that is
// finalised (its destructors run). Thread safety: loop thread only.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/core/pool.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

// Thrown into a generator by aclose() (Python's GeneratorExit). Like
// CancelledError it is not a std::exception, so `catch (const std::exception&)`
// does not swallow it. A generator may run cleanup on it but must not yield again.
struct GeneratorExit {};

// S: what asend() sends in; `co_yield` then gives a std::optional<S> (nullopt
// when next() resumed the generator, as Python's `yield` gives None).
template <class T, class S = void>
class AsyncGenerator;

namespace detail {

// The part of a generator frame the loop's registry sees.
struct AsyncGenNode {
    AsyncGenNode* prev = nullptr;
    AsyncGenNode* next = nullptr;
    EventLoop* loop = nullptr;
    std::coroutine_handle<> frame;
    std::coroutine_handle<> consumer;
    std::exception_ptr exc;
    std::exception_ptr throw_in;  // athrow(): raised at the suspended co_yield
    bool started = false;
    bool closing = false;   // GeneratorExit is being thrown in
    bool finished = false;  // returned or threw
    bool yielded = false;   // the last resume ended in a co_yield

    void register_with(EventLoop& l) noexcept;
    void unregister() noexcept;
};

// Closes a suspended generator frame: resumes it with GeneratorExit pending.
Coro<void> aclose_node(AsyncGenNode& node);
// Takes over a frame dropped half-way, closes it, destroys it.
Coro<void> finalize_dropped(std::coroutine_handle<> frame, AsyncGenNode* node);

// The value asend() hands to the suspended co_yield (nothing when S is void).
template <class S>
struct SentSlot {
    std::optional<S> sent;
    std::optional<S> take_sent() { return std::exchange(sent, std::nullopt); }
};
template <>
struct SentSlot<void> {};

template <class T, class S = void>
struct AsyncGenPromise : AsyncGenNode, SentSlot<S>, FrameLink {
    std::optional<T> current;

    // The default argument names the generator function (see CoroPromise).
    AsyncGenPromise(std::source_location w = std::source_location::current()) : FrameLink(w, /*gen=*/true) {
        frame = std::coroutine_handle<AsyncGenPromise>::from_promise(*this);
    }
    ~AsyncGenPromise() { unregister(); }

    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }

    AsyncGenerator<T, S> get_return_object() noexcept;
    std::suspend_always initial_suspend() noexcept { return {}; }

    struct YieldAwaiter {
        AsyncGenPromise& p;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return p.consumer; }
        auto await_resume() const {
            if (p.closing) throw GeneratorExit{};
            if (p.throw_in) std::rethrow_exception(std::exchange(p.throw_in, nullptr));
            if constexpr (!std::is_void_v<S>) return p.take_sent();
        }
    };
    template <class U = T>
    YieldAwaiter yield_value(U&& v) {
        current.emplace(std::forward<U>(v));
        yielded = true;
        return YieldAwaiter{*this};
    }

    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<AsyncGenPromise> h) noexcept {
            return h.promise().consumer;
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept {
        finished = true;
        return {};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { exc = std::current_exception(); }
};

}  // namespace detail

template <class T, class S>
class [[nodiscard]] AsyncGenerator {
public:
    using promise_type = detail::AsyncGenPromise<T, S>;
    using handle_type = std::coroutine_handle<promise_type>;

    AsyncGenerator() noexcept = default;
    explicit AsyncGenerator(handle_type h) noexcept : h_(h) {}
    AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
        if (this != &o) {
            drop();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~AsyncGenerator() { drop(); }

    struct NextAwaiter {
        // Not an aggregate (it holds an exception_ptr): see the GCC 12 note in sync/waiters.hpp.
        explicit NextAwaiter(handle_type hh, std::exception_ptr e = nullptr) noexcept : h(hh), throw_in(std::move(e)) {}
        handle_type h;
        std::exception_ptr throw_in;               // athrow()'s exception
        detail::SentSlot<S> send;                  // asend()'s value
        detail::FrameLink* parent_link = nullptr;  // call graphs, as Coro's awaiter
        bool used = false;
        bool await_ready() {
            if (!h) throw std::runtime_error("next() on an empty AsyncGenerator");
            // As asyncio's: one next()/athrow() awaitable is awaited once.
            if (used) throw std::runtime_error("cannot reuse already awaited next()/athrow()");
            used = true;
            auto& p = h.promise();
            if (p.consumer) throw std::runtime_error("asynchronous generator is already running");
            if (throw_in && !p.started && !p.finished) {
                // Never started: no code runs, the generator is closed and
                // the exception comes straight back (as Python's athrow()).
                p.finished = true;
                std::rethrow_exception(std::exchange(throw_in, nullptr));
            }
            return p.finished;
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> consumer) {
            auto& p = h.promise();
            if constexpr (std::is_base_of_v<detail::FrameLink, P>) {
                parent_link = &consumer.promise();
                parent_link->awaiting = &p;
            }
            if (!p.started) {
                p.started = true;
                if (auto* loop = detail::running_loop()) p.register_with(*loop);
            }
            p.consumer = consumer;
            p.current.reset();
            p.yielded = false;
            p.throw_in = std::move(throw_in);
            if constexpr (!std::is_void_v<S>) p.sent = std::move(send.sent);
            return h;
        }
        std::optional<T> await_resume() {
            if (parent_link) parent_link->awaiting = nullptr;
            auto& p = h.promise();
            p.consumer = {};
            if (p.exc) {
                auto e = std::exchange(p.exc, nullptr);
                std::rethrow_exception(e);
            }
            if (p.finished) return std::nullopt;
            p.yielded = false;
            return std::move(p.current);
        }
    };
    // The next value, or nullopt once the generator is exhausted.
    NextAwaiter next() noexcept { return NextAwaiter(h_); }
    // asyncio's athrow(): raises e at the co_yield the generator is suspended
    // on; gives the next value it yields, nullopt if it returns, or the
    // exception it lets out. On a generator that never started, closes it
    // and raises e; on an exhausted one, nullopt.
    NextAwaiter athrow(std::exception_ptr e) noexcept { return NextAwaiter(h_, std::move(e)); }
    // asyncio's asend(v): resumes the generator with `co_yield` giving v;
    // gives the next value, nullopt if it returns. A generator that has not
    // started yet has no co_yield to receive v: std::invalid_argument, as
    // Python's TypeError (next() starts it).
    template <class U = S>
        requires(!std::is_void_v<U>)
    NextAwaiter asend(U v) {
        if (h_ && !h_.promise().started && !h_.promise().finished)
            throw std::invalid_argument("can't send a value to a just-started async generator: call next() first");
        NextAwaiter a(h_);
        a.send.sent.emplace(std::move(v));
        return a;
    }
    template <class E>
        requires(!std::is_same_v<std::remove_cvref_t<E>, std::exception_ptr>)
    NextAwaiter athrow(E&& e) {
        return athrow(std::make_exception_ptr(std::forward<E>(e)));
    }

    // Runs the generator's cleanup (GeneratorExit at its co_yield). Idempotent.
    // Not a coroutine itself: the frame is taken now, so moving the generator
    // before the Coro runs is safe; the generator object must still outlive
    // it (borrowed, as next() borrows it).
    Coro<void> aclose() { return aclose_frame(h_); }
    bool finished() const noexcept { return !h_ || h_.promise().finished; }

private:
    static Coro<void> aclose_frame(handle_type h) {
        if (!h) co_return;
        auto& p = h.promise();
        if (!p.started || p.finished) {
            p.finished = true;
            co_return;
        }
        co_await detail::aclose_node(p);
    }
    void drop() noexcept {
        if (!h_) return;
        auto& p = h_.promise();
        auto h = std::exchange(h_, {});
        if (p.started && !p.finished) {
            // Dropped half-way: finalise in a task so the cleanup may await.
            EventLoop* loop = detail::running_loop();
            if (loop && loop == p.loop && !loop->is_closed()) {
                // Never eagerly (a task factory's): this is a destructor.
                bool outer = std::exchange(detail::tls_no_eager_start, true);
                try {
                    (void)loop->create_task(detail::finalize_dropped(h, &p));
                    detail::tls_no_eager_start = outer;
                    return;
                } catch (...) {}
                detail::tls_no_eager_start = outer;
            }
        }
        h.destroy();  // never started, finished, or no loop: destructors run, no awaits
    }
    handle_type h_;
};

namespace detail {
template <class T, class S>
AsyncGenerator<T, S> AsyncGenPromise<T, S>::get_return_object() noexcept {
    return AsyncGenerator<T, S>(std::coroutine_handle<AsyncGenPromise<T, S>>::from_promise(*this));
}

// Awaits a node's frame until its next co_yield or its end (used by aclose).
struct ResumeNodeAwaiter {
    AsyncGenNode& n;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
        n.consumer = consumer;
        n.yielded = false;
        return n.frame;
    }
    void await_resume() noexcept { n.consumer = {}; }
};
}  // namespace detail

// Finalises every started, unfinished generator of the loop (asyncio's
// loop.shutdown_asyncgens()); errors go to the exception handler.
Coro<void> shutdown_asyncgens(EventLoop& loop);

// ---- tulip::asyncgen: the pieces of an async comprehension ------------------
// Free functions over AsyncGenerators, in their own namespace so that the
// generic names (filter, transform, collect) say what they work on and do not
// meet std's or a user's under `using namespace tulip`. Named after asyncio's
// own word (shutdown_asyncgens), not `agen`: that is what users call their
// generators, and a namespace of that name would make `agen()` ambiguous.
//
// pred and fn may be plain callables or return something to await (a Coro,
// Task, Future): Python's
//     [await f() async for f in funcs() if await ok(f)]
// reads
//     co_await asyncgen::collect(asyncgen::transform(asyncgen::filter(funcs(), ok), [](auto f) { return f(); }))
// filter and transform are lazy, and aclose() on them closes the generator
// underneath.
namespace detail {
template <class R>
concept MustAwait = is_coro_v<std::remove_cvref_t<R>> || std::is_base_of_v<FutureBase, std::remove_cvref_t<R>> ||
                    requires(std::remove_cvref_t<R>& r) { r.await_ready(); };
template <class R, bool = MustAwait<R>>
struct Transformed {
    using type = std::remove_cvref_t<R>;
};
template <class R>
struct Transformed<R, true> {
    using type = std::remove_cvref_t<awaitable_result_t<R>>;
};
template <class F, class T>
using transformed_t = typename Transformed<std::invoke_result_t<F&, T>>::type;
}  // namespace detail

namespace asyncgen {

// Collects every value of a generator (a list comprehension over `async for`).
template <class T>
Coro<std::vector<T>> collect(AsyncGenerator<T> gen) {
    std::vector<T> out;
    while (auto v = co_await gen.next()) out.push_back(std::move(*v));
    co_return out;
}

// The values of gen for which pred(value) holds.
template <class T, class Pred>
AsyncGenerator<T> filter(AsyncGenerator<T> gen, Pred pred) {
    bool closing = false;
    try {
        while (auto v = co_await gen.next()) {
            bool keep;
            if constexpr (detail::MustAwait<std::invoke_result_t<Pred&, const T&>>)
                keep = co_await pred(std::as_const(*v));
            else
                keep = pred(std::as_const(*v));
            if (keep) co_yield std::move(*v);
        }
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) co_await gen.aclose();
}

// fn(value) for each value of gen.
template <class T, class F>
AsyncGenerator<detail::transformed_t<F, T>> transform(AsyncGenerator<T> gen, F fn) {
    bool closing = false;
    try {
        while (auto v = co_await gen.next()) {
            if constexpr (detail::MustAwait<std::invoke_result_t<F&, T>>)
                co_yield co_await fn(std::move(*v));
            else
                co_yield fn(std::move(*v));
        }
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) co_await gen.aclose();
}

}  // namespace asyncgen

}  // namespace tulip
