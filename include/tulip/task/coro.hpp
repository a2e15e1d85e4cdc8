// tulip/task/coro.hpp — Coro<T>, what a coroutine function returns (asyncio's
// coroutine object).
//
// A Coro is lazy: nothing runs until it is awaited or wrapped in a Task.
// `co_await coro` runs it directly, as `await coro()` does — no trip through
// the loop — and deep await chains use constant stack (a trampoline in the
// task step, see tls_next_hop; symmetric transfer outside a task).
// Exceptions propagate to the awaiter. Frames come from a recycling
// allocator. A Coro is awaited at most once and owns its frame.
// Cancel safety (`co_await coro`): that of what the coroutine awaits when the
// cancel comes: it runs inside the awaiting task, so the cancel reaches it.
#pragma once

#include <coroutine>
#include <exception>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <tulip/core/exceptions.hpp>
#include <tulip/core/pool.hpp>
#include <tulip/core/result_slot.hpp>
#include <tulip/loop/debug.hpp>

namespace tulip {

template <class T = void>
class Coro;

namespace detail {

bool coro_debug_slow() noexcept;
// Debug mode for coroutines created now (see tls_debug_state): one TLS load.
inline bool coro_debug_enabled() noexcept {
    signed char s = tls_debug_state;
    return s < 0 ? coro_debug_slow() : s != 0;
}
void report_never_awaited(std::string* traceback) noexcept;

// The trampoline of the task step that is running on this thread (null when
// no step runs). GCC 12 does not turn symmetric transfer into a tail call at
// -O0 or under ASan or TSan, so returning the next handle from await_suspend
// nests a native frame per co_await and a 100,000-deep chain overflows the
// stack.
// Inside a task step, Coro's awaiters therefore leave the next coroutine here
// and return to run_task_step, which resumes it: the same "no trip through
// the loop" as symmetric transfer, in constant stack on every compiler.
// Outside a task step they fall back to symmetric transfer. Consequence for
// custom awaiters: inside a task step, hand a coroutine over by returning its
// handle from await_suspend, never by calling .resume() on it (the trampoline
// would take the rest of that coroutine's run away from the nested call).
//
// Whether a task step installs the trampoline is decided once, by the flags
// the library is built with (run_task_step in src/task/task.cpp): where the
// compiler makes symmetric transfer a tail call it does not, and
// tls_next_hop stays null. transfer_to is therefore the same inline function
// in every translation unit, whatever that unit's optimisation or sanitizer
// flags (one definition): one TLS load and a branch.
inline thread_local std::coroutine_handle<>* tls_next_hop = nullptr;

inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
    if (std::coroutine_handle<>* hop = tls_next_hop) {
        *hop = next;
        return std::noop_coroutine();
    }
    return next;
}

// What a call graph (task/graph.hpp) knows of a coroutine frame: its
// function (a pointer to static data, filled at creation) and the frame it
// is suspended on, a Coro or an async generator (set and cleared by their
// awaiters; null while running or suspended on anything else).
struct FrameLink {
    // A constructor, so that the layout may reuse this struct's tail padding:
    // CoroPromiseBase's flags sit there, and a 1M-deep chain's frames are
    // 128 bytes, not 136 (a pool class of 160).
    explicit FrameLink(std::source_location w, bool gen = false) noexcept : where(w), generator(gen) {}
    std::source_location where;
    FrameLink* awaiting = nullptr;
    bool generator = false;  // an async generator's frame
};

struct CoroPromiseBase : FrameLink {
    bool cancelled_exc = false;  // exc holds a CancelledError
    bool started = false;
    std::coroutine_handle<> continuation;  // who awaits us; null for a task's root
    std::exception_ptr exc;
    std::string* traceback = nullptr;  // where it was created (debug mode only)

    explicit CoroPromiseBase(std::source_location w) : FrameLink(w) {
        if (coro_debug_enabled()) traceback = new std::string(capture_traceback(3));
    }
    ~CoroPromiseBase() { delete traceback; }
    CoroPromiseBase(const CoroPromiseBase&) = delete;

    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }

    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            if (auto c = h.promise().continuation) return transfer_to(c);
            return std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept {
        exc = std::current_exception();
        try {
            throw;
        } catch (const CancelledError&) {
            cancelled_exc = true;
        } catch (...) {}
    }
};

static_assert(sizeof(void*) != 8 || sizeof(CoroPromiseBase) == 48,
              "CoroPromiseBase's flags should fill FrameLink's tail padding");

// The default argument is evaluated where the promise is made: in the
// coroutine function itself, so `where` names it (g++ 12 and clang 16 alike).
template <class T>
struct CoroPromise : CoroPromiseBase {
    CoroPromise(std::source_location w = std::source_location::current()) : CoroPromiseBase(w) {}
    ResultSlot<T> value;
    Coro<T> get_return_object() noexcept;
    template <class U = T>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T take() {
        if (exc) std::rethrow_exception(exc);
        return std::move(value.get());
    }
};

template <>
struct CoroPromise<void> : CoroPromiseBase {
    CoroPromise(std::source_location w = std::source_location::current()) : CoroPromiseBase(w) {}
    Coro<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() {
        if (exc) std::rethrow_exception(exc);
    }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Coro {
public:
    using promise_type = detail::CoroPromise<T>;
    using value_type = T;
    using handle_type = std::coroutine_handle<promise_type>;

    Coro() noexcept = default;
    explicit Coro(handle_type h) noexcept : h_(h) {}
    Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    Coro& operator=(Coro&& o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    Coro(const Coro&) = delete;
    Coro& operator=(const Coro&) = delete;
    ~Coro() { destroy(); }

    explicit operator bool() const noexcept { return static_cast<bool>(h_); }
    bool done() const noexcept { return h_ && h_.done(); }

    struct Awaiter {
        handle_type h;
        detail::FrameLink* parent_promise = nullptr;  // a Coro or generator parent, for call graphs
        bool await_ready() const {
            if (!h) throw std::runtime_error("cannot await an empty Coro");
            if (h.promise().started) throw std::runtime_error("cannot reuse already awaited coroutine");
            return false;
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
            h.promise().continuation = parent;
            h.promise().started = true;
            // The call-graph link: one store here, one in await_resume.
            if constexpr (std::is_base_of_v<detail::FrameLink, P>) {
                parent_promise = &parent.promise();
                parent_promise->awaiting = &h.promise();
            }
            return detail::transfer_to(h);  // run the child now, without the loop
        }
        T await_resume() {
            if (parent_promise) parent_promise->awaiting = nullptr;
            return h.promise().take();
        }
    };
    Awaiter operator co_await() & noexcept { return Awaiter{h_}; }
    Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

    // Hands the frame over (to a Task). The Coro is empty afterwards.
    handle_type release() noexcept { return std::exchange(h_, {}); }

private:
    void destroy() noexcept {
        if (!h_) return;
        auto& p = h_.promise();
        if (!p.started && p.traceback) detail::report_never_awaited(p.traceback);
        h_.destroy();
        h_ = {};
    }
    handle_type h_;
};

namespace detail {
template <class T>
Coro<T> CoroPromise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<CoroPromise<T>>::from_promise(*this));
}
inline Coro<void> CoroPromise<void>::get_return_object() noexcept {
    return Coro<void>(std::coroutine_handle<CoroPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace tulip
