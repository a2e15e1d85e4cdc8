// tulip/loop/event_loop.hpp — the event loop (asyncio.AbstractEventLoop / BaseEventLoop
// with the epoll selector).
//
// One loop per thread. An iteration: take the callbacks that are ready when it
// begins, poll for I/O (without blocking if anything is ready), move due timers
// to the ready queue, then run exactly the callbacks that were ready at that
// point, FIFO. Timers with equal deadlines keep their scheduling order (asyncio's
// heap does not promise this; tulip does, see docs/asyncio.md).
//
// The loop knows callbacks, timers and file descriptors, not coroutines: the
// members that need Future or Task (create_task, create_future,
// run_until_complete, run_in_executor, set_task_factory) are declared here and
// defined in task/. The layers above reach the loop's engine (schedule, timers,
// the clock in nanoseconds) through detail::LoopAccess (loop_access.hpp), and
// keep their own per-loop state in one opaque slot (detail::LoopExtension);
// see docs/architecture.md.
//
// Thread safety: only call_soon_threadsafe may be called from another thread,
// and only while the loop object is alive; a thread that may outlive the loop
// keeps a LoopRef (threadsafe_ref()) instead. In debug mode the other methods
// check the thread while the loop runs (asyncio's _check_thread).
#pragma once

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/core/owned.hpp>
#include <tulip/loop/debug.hpp>
#include <tulip/loop/fd_owner.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/loop/loop_ref.hpp>
#include <tulip/loop/nodes.hpp>
#include <tulip/loop/timer_heap.hpp>

namespace tulip {

template <class T>
class Coro;
template <class T>
class Task;
template <class T>
class Future;
class EventLoop;
class Executor;
// Defined in task.hpp (asyncio's loop.set_task_factory argument).
class TaskFactory;

namespace detail {
class Poller;
struct LoopAccess;
struct LoopCold;

// Per-loop state of a layer above the loop (the task layer's registry of live
// tasks and async generators): the loop keeps one, owns it, and knows nothing
// of it but this. close() calls on_loop_close() after the ready queue, the
// timers and the fds were dropped and before the jobs in flight are released;
// the loop's destructor deletes it.
class LoopExtension {
public:
    LoopExtension() = default;
    LoopExtension(const LoopExtension&) = delete;
    LoopExtension& operator=(const LoopExtension&) = delete;
    virtual ~LoopExtension() = default;
    virtual void on_loop_close(EventLoop& loop) noexcept = 0;
    // close() drops the ready queue: a node that is neither a callback nor a
    // timer of the loop's own (a future's done-callback, a task step) is
    // handed here, before on_loop_close, to release what it holds.
    virtual void drop_node(ReadyNode* node) noexcept = 0;
};

// What must be shut when its loop closes: transports, servers, child
// watchers. Each one links itself into its loop's list when created and
// unlinks when it ends (O(1) both ways, nothing per I/O operation); close()
// unlinks each one still linked and calls its on_loop_close(), before the
// loop is marked closed, so it may still remove its fds and release what the
// loop's callbacks held. Afterwards the object must not touch the loop: it
// may outlive it (a user's Ref<Transport>, Server, Process).
class LoopClosable {
public:
    LoopClosable() = default;
    LoopClosable(const LoopClosable&) = delete;
    LoopClosable& operator=(const LoopClosable&) = delete;
    virtual void on_loop_close() noexcept = 0;
    // Still linked: the loop has not closed (and so is alive).
    bool loop_attached() const noexcept { return owner_ != nullptr; }

protected:
    ~LoopClosable() { unlink_from_loop(); }
    inline void link_to_loop(EventLoop& loop) noexcept;
    inline void unlink_from_loop() noexcept;

private:
    friend class tulip::EventLoop;
    EventLoop* owner_ = nullptr;
    LoopClosable* prev_ = nullptr;
    LoopClosable* next_ = nullptr;
};
}  // namespace detail

namespace detail {
// The loop running in this thread (inline: the task layer asks on every
// coroutine created).
inline thread_local EventLoop* tls_running_loop = nullptr;
inline EventLoop* running_loop() noexcept { return tls_running_loop; }

template <class A>
inline constexpr bool is_coro_v = false;
template <class T>
inline constexpr bool is_coro_v<Coro<T>> = true;
}  // namespace detail

// Seconds as asyncio counts them; any std::chrono duration converts to it.
using Seconds = std::chrono::duration<double>;

// What call_exception_handler receives (asyncio's context dict).
struct ExceptionContext {
    std::string message;
    std::exception_ptr exception;  // may be null
    std::string source;            // e.g. "Task 'Task-3'" or "callback"; may be empty
    std::string traceback;         // where the object was created (debug mode), may be empty
};

enum class LogLevel { debug, info, warning, error };
// Where the loop's log lines go (asyncio logs to the "asyncio" logger). The
// default writes to stderr. Setting a sink is not thread-safe with logging.
using LogSink = std::function<void(LogLevel, const std::string&)>;
void set_log_sink(LogSink sink);
void log(LogLevel level, const std::string& message);

// What the loop waits on for I/O. `automatic` reads TULIP_POLLER from the
// environment ("epoll", "io_uring" or "auto"; unset is auto) and otherwise
// takes io_uring where the kernel allows it (stream sockets are then read by
// the kernel as data arrives, with no recv() per read: ~1.1x the messages
// per CPU-second of epoll, bench/RESULTS.md), epoll where it does not (the
// io_uring_disabled sysctl, a seccomp filter, a kernel before 5.11), logging
// one line in debug mode (a warning when TULIP_POLLER=io_uring asked for it).
// An explicit PollerKind::io_uring that the kernel refuses throws
// std::system_error.
enum class PollerKind { automatic, epoll, io_uring };

struct EventLoopOptions {
    // Virtual time: the clock starts at 0 and, when nothing is ready and no I/O
    // or thread work is pending, jumps straight to the next timer. For tests
    // (like asyncio's TestLoop, Trio's autojump clock, tokio's start_paused).
    bool virtual_time = false;
    // Debug mode; also enabled by the environment variable TULIP_DEBUG=1.
    bool debug = false;
    PollerKind poller = PollerKind::automatic;
};

class EventLoop {
public:
    using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

    EventLoop();
    explicit EventLoop(EventLoopOptions options);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // ---- scheduling callbacks -------------------------------------------------
    template <class F>
    Handle call_soon(F&& f) {
        check_closed();
        check_thread("call_soon");
        auto* n = detail::CallbackNode::make(this, std::forward<F>(f));
        Handle h(n);  // the ready queue keeps the creation reference
        take_posted();
        ready_.push(n);
        return h;
    }
    // The only method that other threads may call (while this object lives).
    // Wakes the loop. After close(): std::runtime_error("Event loop is closed").
    template <class F>
    Handle call_soon_threadsafe(F&& f) {
        // On the loop's own thread it is call_soon (asyncio appends to the same queue).
        if (detail::running_loop() == this) return call_soon(std::forward<F>(f));
        return door_->call_soon_threadsafe(std::forward<F>(f));
    }
    // A reference other threads may keep past this loop's life: its
    // call_soon_threadsafe is refused (std::runtime_error) once the loop is
    // closed. Any thread may call this.
    LoopRef threadsafe_ref() const noexcept { return LoopRef(door_); }
    // Delays and deadlines saturate: an infinite or huge one never fires (and
    // does not hold up the loop), a negative one means now; NaN raises
    // std::invalid_argument (asyncio 3.13: ValueError).
    template <class F>
    TimerHandle call_later(Seconds delay, F&& f) {
        return call_at_ns(deadline_after(to_ns(delay, "call_later: delay")), std::forward<F>(f));
    }
    template <class F>
    TimerHandle call_later(double delay, F&& f) {
        return call_later(Seconds(delay), std::forward<F>(f));
    }
    // `when` is an absolute time on this loop's clock, in seconds (see time()).
    template <class F>
    TimerHandle call_at(double when, F&& f) {
        return call_at_ns(deadline_ns(when, "call_at: when"), std::forward<F>(f));
    }
    // Seconds on a monotonic clock (or the virtual clock), as loop.time().
    double time() const noexcept { return static_cast<double>(now_ns()) * 1e-9; }

    // ---- running ---------------------------------------------------------------
    void run_forever();
    // Runs until the awaitable (Coro, Task or Future) is done; returns its
    // result or rethrows. Defined in tulip/task/task.hpp.
    template <class A>
    decltype(auto) run_until_complete(A&& awaitable);
    void stop() noexcept { stopping_ = true; }
    bool is_running() const noexcept { return running_; }
    bool is_closed() const noexcept { return closed_; }
    // Closes the loop: drops pending callbacks, shuts the default executor down
    // without waiting. Raises std::runtime_error if the loop is running.
    void close();

    // Which poller this loop waits on: "epoll" or "io_uring" (tulip's; asyncio
    // exposes its selector as loop._selector).
    std::string_view poller_name() const noexcept;

    // ---- file descriptors (the selector-level API) ------------------------------
    // The callback runs whenever fd is readable (writable), until removed.
    // A descriptor an open transport owns is refused with std::runtime_error
    // (asyncio: "File descriptor ... is used by transport ..."), by all four.
    template <class F>
    void add_reader(int fd, F&& f) {
        check_fd_free(fd, "add_reader");
        watch_reader(fd, std::forward<F>(f));
    }
    template <class F>
    void add_writer(int fd, F&& f) {
        check_fd_free(fd, "add_writer");
        watch_writer(fd, std::forward<F>(f));
    }
    bool remove_reader(int fd) {
        check_fd_free(fd, "remove_reader");
        return unwatch_reader(fd);
    }
    bool remove_writer(int fd) {
        check_fd_free(fd, "remove_writer");
        return unwatch_writer(fd);
    }

    // ---- signals (unix_events) -----------------------------------------------
    // Runs callback on the loop whenever signal `sig` arrives (a C handler
    // writes to a self-pipe the loop watches, so any thread may receive it).
    // Replaces an earlier handler for sig. Only one loop at a time may own
    // signal handlers. Throws std::invalid_argument for an invalid signal
    // number (asyncio: ValueError) and std::runtime_error for one that cannot
    // be caught (SIGKILL, SIGSTOP; asyncio: RuntimeError from sigaction).
    template <class F>
    void add_signal_handler(int sig, F&& callback) {
        check_closed();
        check_thread("add_signal_handler");
        install_signal(sig, detail::CallbackNode::make(this, std::forward<F>(callback)));
    }
    // Restores the default disposition; false if no handler was set.
    bool remove_signal_handler(int sig);

    // ---- futures and tasks (defined in task/) -----------------------------------
    template <class T = void>
    Future<T> create_future();
    template <class T>
    Task<T> create_task(Coro<T> coro);
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name);
    // Any other awaitable (q.get(), lock.acquire(), sleep(1)...), run by a
    // coroutine that awaits it: what asyncio's create_task does with those
    // calls, which are coroutines there.
    template <class A>
        requires(!detail::is_coro_v<std::remove_cvref_t<A>>)
    auto create_task(A&& awaitable);
    template <class A>
        requires(!detail::is_coro_v<std::remove_cvref_t<A>>)
    auto create_task(A&& awaitable, std::string name);
    // What create_task calls with each new task; empty (the default): the
    // task is scheduled (asyncio set_task_factory/get_task_factory; None is
    // an empty TaskFactory). TaskFactory and eager_task_factory are in
    // task.hpp; both members are defined in the task layer, which keeps the
    // factory in its registry.
    void set_task_factory(TaskFactory factory);
    const TaskFactory& get_task_factory() const noexcept;

    // ---- executors (executor.hpp) ---------------------------------------------
    // Runs f() on executor (nullptr: the default ThreadPoolExecutor) and returns
    // a Future for its result. Cancelling the Future does not stop f.
    // Defined in task.hpp (it returns a Future).
    template <class F>
    auto run_in_executor(Executor* executor, F&& f);
    void set_default_executor(std::shared_ptr<Executor> executor);
    // shutdown_default_executor(loop, timeout) is a coroutine of the task
    // layer (task/runner.hpp).

    // ---- errors, debug ---------------------------------------------------------
    void set_exception_handler(ExceptionHandler handler);
    const ExceptionHandler& get_exception_handler() const noexcept;
    void call_exception_handler(const ExceptionContext& context);
    void default_exception_handler(const ExceptionContext& context);
    void set_debug(bool enabled) noexcept {
        debug_ = enabled;
        if (detail::tls_running_loop == this) detail::tls_debug_state = enabled ? 1 : 0;
    }
    bool get_debug() const noexcept { return debug_; }
    // Callbacks slower than this are logged in debug mode (asyncio: 0.1 s).
    double slow_callback_duration = 0.1;

    // Every other member (schedule, timers, the clock in nanoseconds, thread
    // work in flight, the transports' fd helpers, run_once...) is for the
    // layers above, through detail::LoopAccess (loop_access.hpp).

private:
    friend struct detail::LoopAccess;

    // ---- the engine, for the layers above (through LoopAccess) ---------------
    void schedule(detail::ReadyNode* n) noexcept {
        take_posted();
        ready_.push(n);
    }
    void schedule_all(detail::NodeQueue& q) noexcept {
        take_posted();
        ready_.splice(q);
    }
    // Arms t: `node` is queued when `when_ns` is due (t and node: one object).
    // remove_timer takes it out early. call_at's nodes go in by add_timer_lazy
    // and are cancelled lazily (see heap_).
    void add_timer(detail::TimerNode* t, detail::ReadyNode* node, std::int64_t when_ns);
    void add_timer_lazy(detail::TimedCallbackNode* t, std::int64_t when_ns);
    void remove_timer(detail::TimerNode* t) noexcept;
    std::int64_t now_ns() const noexcept;
    // The deadline that never comes: infinite and huge delays (it never fires,
    // the loop does not wake for it, and virtual time does not jump to it).
    static constexpr std::int64_t kNeverNs = INT64_MAX;
    // A delay in nanoseconds, saturated to [-kNeverNs, kNeverNs]: huge or +inf
    // is kNeverNs; a negative one stays negative, so that negative delays run
    // in deadline order (asyncio: -2 before -1). NaN throws
    // std::invalid_argument("<what> must not be NaN").
    static std::int64_t to_ns(Seconds s, const char* what = "delay") {
        double ns = s.count() * 1e9;
        if (ns >= 0x1p63) return kNeverNs;  // 2^63: the first double past INT64_MAX
        if (ns > -0x1p63) return static_cast<std::int64_t>(ns);
        if (ns != ns) throw_nan(what);
        return -kNeverNs;
    }
    // An absolute time in loop.time() seconds as a deadline, saturated both ways.
    static std::int64_t deadline_ns(double when_seconds, const char* what = "when") {
        double ns = when_seconds * 1e9;
        if (ns >= 0x1p63) return kNeverNs;
        if (ns >= -0x1p63) return static_cast<std::int64_t>(ns);
        if (ns != ns) throw_nan(what);
        return INT64_MIN;
    }
    // now + delay_ns (a to_ns() value), saturated at kNeverNs. (The clock is
    // never negative, so a negative delay cannot overflow.)
    std::int64_t deadline_after(std::int64_t delay_ns) const noexcept {
        std::int64_t now = now_ns();
        return delay_ns >= kNeverNs - now ? kNeverNs : now + delay_ns;
    }
    [[noreturn]] static void throw_nan(const char* what);
    // References held for work in flight on other threads (run_in_executor's
    // Future state): released on this thread, by the post-back that finds
    // its entry (untrack returns true once) or by close() for jobs that can
    // no longer post back. The worker itself never touches the object.
    void track_in_flight(void* obj, void (*release)(void*) noexcept);
    bool untrack_in_flight(void* obj) noexcept;
    // The default executor if one was made or set (shutdown_default_executor).
    std::shared_ptr<Executor> default_executor_if_any() const noexcept;
    // The default executor, made on first use (run_in_executor(nullptr, f);
    // asyncio keeps it in the private _default_executor).
    Executor& default_executor();
    // add_reader & co. without the transport and thread checks, for the
    // transports themselves (asyncio's _add_reader, _remove_reader...).
    template <class F>
    void watch_reader(int fd, F&& f) {
        check_closed();
        set_fd_callback(fd, /*write=*/false, detail::CallbackNode::make(this, std::forward<F>(f)));
    }
    template <class F>
    void watch_writer(int fd, F&& f) {
        check_closed();
        set_fd_callback(fd, /*write=*/true, detail::CallbackNode::make(this, std::forward<F>(f)));
    }
    bool unwatch_reader(int fd) { return unwatch(fd, false); }
    bool unwatch_writer(int fd) { return unwatch(fd, true); }
    bool unwatch(int fd, bool write);
    // Completion-based reading (the io_uring poller): the loop reads a stream
    // socket for its transport, which takes the chunks when f runs.
    bool can_receive() const noexcept;
    template <class F>
    void watch_receiver(int fd, F&& f) {
        check_closed();
        set_fd_callback(fd, /*write=*/false, detail::CallbackNode::make(this, std::forward<F>(f)), /*receive=*/true);
    }
    bool next_received(int fd, detail::Received& out) noexcept;
    void release_received(const detail::Received& r) noexcept;
    void unreceive(int fd, std::size_t taken) noexcept;
    // A transport claims its fd for its life (nullptr releases it); see FdOwner.
    void set_fd_owner(int fd, detail::FdOwner* owner);
    void check_closed() const {
        if (closed_) throw std::runtime_error("Event loop is closed");
    }
    // Debug mode: a method that is not thread-safe, called from a thread other
    // than the one running this loop, raises std::runtime_error (asyncio's
    // _check_thread). Off debug mode it costs one test of a bool.
    void check_thread(const char* what) const {
        if (debug_) [[unlikely]]
            check_thread_slow(what);
    }
    // Runs one iteration (tests use this to count steps, as CPython's run_once).
    void run_once();

    template <class F>
    TimerHandle call_at_ns(std::int64_t when, F&& f) {
        check_closed();
        check_thread("call_at");
        auto* n = detail::CallbackNode::make<detail::TimedCallbackNode>(this, std::forward<F>(f));
        TimerHandle h(n);
        add_timer_lazy(n, when);  // the heap keeps the creation reference
        return h;
    }
    void install_signal(int sig, detail::CallbackNode* n);
    void check_thread_slow(const char* what) const;
    void check_fd_free(int fd, const char* what) const {
        check_thread(what);
        if (static_cast<std::size_t>(fd) < fd_owners_.size() && fd_owners_[static_cast<std::size_t>(fd)]) [[unlikely]]
            check_fd_owner(fd);
    }
    void check_fd_owner(int fd) const;
    // Callbacks posted from other threads join the ready queue before anything
    // this thread queues after them (asyncio appends both to one queue, in
    // arrival order): whoever queues first takes what was posted. One load
    // when nothing was.
    void take_posted() noexcept {
        if (door_->pending()) [[unlikely]]
            drain_threadsafe();
    }
    void dispatch_signals();
    void poll_signals();
    void remove_all_signal_handlers() noexcept;
    int signal_read_fd_ = -1;  // the self-pipe, when signal handlers are set (run_once polls it)
    void drain_threadsafe() noexcept;
    void set_fd_callback(int fd, bool write, detail::CallbackNode* n, bool receive = false);
    // Handle::cancel of a call_later node still in the heap: the node stays,
    // counted, until it reaches the front or the next sweep (see heap_).
    void note_timer_cancelled() noexcept { ++cancelled_timers_; }
    void purge_cancelled_timers() noexcept;
    void drop_cancelled_front() noexcept;
    void run_ready(std::size_t n);

    // Two kinds of timers are in the heap. A call_later node (refcounted; the
    // heap holds a reference) is cancelled lazily, as asyncio does: marked,
    // left in place, dropped when it reaches the front or when the cancelled
    // are over half the heap; moving its entry writes nothing to the node (at
    // 1M timers those random writes were a large part of the heap's cost).
    // Any other timer (a sleep's, in its awaiter) is removed at once: its
    // entry is indexed (see TimerHeap).
    detail::NodeQueue ready_;
    detail::TimerHeap heap_;
    std::uint64_t timer_seq_ = 0;
    std::size_t cancelled_timers_ = 0;  // cancelled call_later nodes still in heap_
    detail::Owned<detail::Poller> poller_;
    // The entry for other threads (owns the wake eventfd); this loop holds one
    // reference, close() shuts it.
    detail::LoopDoor* door_ = nullptr;

    std::int64_t virtual_now_ = 0;
    bool virtual_ = false;
    bool debug_ = false;
    // Open transports by fd (add_reader & co. refuse their fds).
    std::vector<detail::FdOwner*> fd_owners_;
    bool stopping_ = false;
    bool running_ = false;
    bool closed_ = false;
    // Work on other threads that will come back via call_soon_threadsafe; while
    // it is non-zero a virtual-time loop waits for real instead of jumping.
    std::atomic<int> external_pending_{0};
    // Transports, servers and child watchers still open (see LoopClosable).
    detail::LoopClosable* closables_ = nullptr;
    // The task layer's registry (see LoopExtension); owned.
    detail::LoopExtension* extension_ = nullptr;
    // What the hot path never touches (handlers, executor, signal table, jobs
    // in flight, the owner thread): src/loop/loop_cold.hpp.
    detail::Owned<detail::LoopCold> cold_;
    friend class Handle;
    friend struct detail::CallbackNode;
    friend class detail::LoopClosable;
};

inline void detail::LoopClosable::link_to_loop(EventLoop& loop) noexcept {
    if (owner_) return;
    owner_ = &loop;
    prev_ = nullptr;
    next_ = loop.closables_;
    if (next_) next_->prev_ = this;
    loop.closables_ = this;
}

inline void detail::LoopClosable::unlink_from_loop() noexcept {
    if (!owner_) return;
    if (prev_)
        prev_->next_ = next_;
    else
        owner_->closables_ = next_;
    if (next_) next_->prev_ = prev_;
    owner_ = nullptr;
    prev_ = next_ = nullptr;
}

template <class F>
Handle LoopRef::call_soon_threadsafe(F&& f) const {
    if (!d_) throw std::runtime_error("LoopRef is empty");
    // On the loop's own thread, while it runs: call_soon, as EventLoop's.
    if (detail::running_loop() == d_->loop()) return d_->loop()->call_soon(std::forward<F>(f));
    return d_->call_soon_threadsafe(std::forward<F>(f));
}

// The loop running in this thread; throws std::runtime_error("no running event loop").
EventLoop& get_running_loop();
std::unique_ptr<EventLoop> new_event_loop(EventLoopOptions options = {});

namespace detail {
bool debug_from_env() noexcept;
// True if `loop` is alive (registered loops); used where a late object might
// outlive its loop (a future destroyed after its loop).
bool loop_alive(const EventLoop* loop) noexcept;
}  // namespace detail

}  // namespace tulip
