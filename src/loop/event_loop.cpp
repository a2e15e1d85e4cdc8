// The event loop's engine: ready queue, timer heap, poller, thread-safe door.
//
// One iteration (run_once), in order:
//   1. take callbacks posted from other threads (call_soon_threadsafe);
//   2. compute the poll timeout: 0 if anything is ready or the loop is
//      stopping, else until the earliest timer, else forever;
//   3. poll (skipped when the timeout is 0 and no fd is watched: nothing
//      could be reported) and queue the callbacks of ready fds;
//   4. move due timers to the ready queue, in (deadline, sequence) order;
//   5. run exactly the callbacks that are ready now; what they schedule waits
//      for the next iteration (asyncio's "ntodo" rule).
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/thread_pool.hpp>

#include <execinfo.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>

#include <tulip/loop/executor.hpp>

#include "../core/sys.hpp"
#include "epoll_poller.hpp"
#include "loop_cold.hpp"
#include "uring_poller.hpp"

namespace tulip {

using detail::tls_running_loop;

namespace {
std::mutex& registry_mu() {
    static std::mutex m;
    return m;
}
std::set<const EventLoop*>& registry() {
    static std::set<const EventLoop*> s;
    return s;
}

LogSink& log_sink() {
    static LogSink sink;
    return sink;
}

// A child forked while a loop runs does not run that loop (asyncio 3.12 resets
// the running loop after fork): the forking thread's slot, the only thread the
// child has, is cleared there, so the child may run a loop of its own.
void forget_running_loop_after_fork() noexcept {
    tls_running_loop = nullptr;
    detail::tls_debug_state = -1;
}
[[maybe_unused]] const int g_fork_hook = ::pthread_atfork(nullptr, nullptr, &forget_running_loop_after_fork);

std::int64_t monotonic_ns() noexcept {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
}  // namespace

void set_log_sink(LogSink sink) { log_sink() = std::move(sink); }

void log(LogLevel level, const std::string& message) {
    if (auto& s = log_sink()) {
        s(level, message);
        return;
    }
    static const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
    std::fprintf(stderr, "tulip %s: %s\n", names[static_cast<int>(level)], message.c_str());
}

namespace detail {
// The poller a new loop gets. An explicit EventLoopOptions::poller is obeyed
// or throws; otherwise TULIP_POLLER, then io_uring where the kernel allows it
// (it is the faster one: bench/RESULTS.md), epoll where it does not, with one
// line logged (a warning when TULIP_POLLER asked for io_uring, debug mode's
// debug line otherwise).
static Poller* make_poller(PollerKind kind, bool debug) {
    if (kind == PollerKind::epoll) return new EpollPoller();
    if (kind == PollerKind::io_uring) return new UringPoller();
    const char* v = std::getenv("TULIP_POLLER");
    bool asked = v && std::strcmp(v, "io_uring") == 0;
    if (v && std::strcmp(v, "epoll") == 0) return new EpollPoller();
    if (v && *v && !asked && std::strcmp(v, "auto") != 0)
        throw std::invalid_argument(std::string("TULIP_POLLER must be epoll, io_uring or auto, not \"") + v + "\"");
    // Asked once per process: a refusal does not change, and a failed
    // io_uring_setup costs.
    static std::atomic<int> uring_ok{-1};
    if (uring_ok.load(std::memory_order_relaxed) != 0) {
        try {
            auto* p = new UringPoller();
            uring_ok.store(1, std::memory_order_relaxed);
            return p;
        } catch (const std::system_error& e) {
            if (uring_ok.exchange(0) != 0 && (asked || debug))
                log(asked ? LogLevel::warning : LogLevel::debug,
                    std::string("io_uring unavailable (") + e.what() + "), using epoll");
        }
    }
    return new EpollPoller();
}

bool debug_from_env() noexcept {
    const char* v = std::getenv("TULIP_DEBUG");
    return v && *v && std::strcmp(v, "0") != 0;
}

bool loop_alive(const EventLoop* loop) noexcept {
    std::lock_guard g(registry_mu());
    return registry().count(loop) != 0;
}

std::string capture_traceback(int skip) {
    void* frames[24];
    int n = ::backtrace(frames, 24);
    char** syms = ::backtrace_symbols(frames, n);
    std::string out;
    for (int i = skip; i < n; ++i) {
        out += "  ";
        out += syms ? syms[i] : "?";
        out += '\n';
    }
    std::free(syms);
    return out;
}

// A node posted from another thread: its Handle may be cancelled from any
// thread, concurrently with this. Whoever first sets `running` (the loop, to
// run it, or cancel(), to drop it) owns the callable; the other leaves it alone.
static void run_threadsafe_node(CallbackNode* n) {
    if (!std::atomic_ref<bool>(n->running).exchange(true, std::memory_order_acq_rel)) {
        try {
            n->ops->invoke(n);
        } catch (...) {
            ExceptionContext ctx{"Exception in callback", std::current_exception(), "callback", {}};
            n->loop->call_exception_handler(ctx);
        }
        // Its Handle may be dropped last on the posting thread: release the
        // captures here, on the loop thread, where they were used.
        n->drop_callable();
    }
    n->decref();  // the reference the ready queue held
}

void node_queued_twice(const ReadyNode* n) noexcept {
    std::fprintf(stderr,
                 "tulip: internal error: a loop node (%p) was scheduled while it is already in a queue; "
                 "each node may be in one queue once (the queue would be relinked and lose callbacks)\n",
                 static_cast<const void*>(n));
    std::abort();
}

void CallbackNode::run_node(ReadyNode* r) {
    auto* n = static_cast<CallbackNode*>(r);
    if (n->threadsafe) return run_threadsafe_node(n);
    if (!n->cancelled && n->has_callable) {
        n->running = true;
        try {
            n->ops->invoke(n);
        } catch (...) {
            n->running = false;
            ExceptionContext ctx{"Exception in callback", std::current_exception(), "callback", {}};
            n->loop->call_exception_handler(ctx);
        }
        n->running = false;
    }
    n->decref();  // the reference the ready queue held
}

// ---- the door other threads come in by -------------------------------------

struct LoopDoor::Mutex {
    std::mutex m;
};

LoopDoor::LoopDoor(EventLoop* loop) : loop_(loop), mu_(make_owned<Mutex>()) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

LoopDoor::~LoopDoor() {
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void LoopDoor::post(CallbackNode* n) {
    std::unique_lock g(mu_->m);
    if (closed_.load(std::memory_order_relaxed)) {
        g.unlock();
        n->decref();  // never seen by the loop: the captures go on this thread
        throw std::runtime_error("Event loop is closed");
    }
    queue_.push(n);
    // The first post of a batch wakes the loop. Done under the lock, so that
    // once shut() has taken it no thread writes to the eventfd any more, and a
    // poster never touches the door after unlocking: a loop destroyed right
    // after its callback ran (e.g. a posted stop()) cannot close the fd under
    // a late write.
    if (!pending_.load(std::memory_order_relaxed)) {
        pending_.store(true, std::memory_order_release);
        std::uint64_t one = 1;
        // EAGAIN means the counter is saturated: the loop will wake anyway.
        [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
    }
}

void LoopDoor::drain(NodeQueue& ready) noexcept {
    std::lock_guard g(mu_->m);
    pending_.store(false, std::memory_order_relaxed);
    ready.splice(queue_);
}

void LoopDoor::shut(NodeQueue& rest) noexcept {
    std::lock_guard g(mu_->m);
    closed_.store(true, std::memory_order_release);
    pending_.store(false, std::memory_order_relaxed);
    rest.splice(queue_);
    // Posters write to the eventfd only under mu_ and only while the door is
    // open, so it can go now: a LoopRef kept after the loop holds no fd.
    // (Closing it also takes it out of the loop's epoll set.)
    ::close(wake_fd_);
    wake_fd_ = -1;
}
}  // namespace detail

EventLoop& get_running_loop() {
    if (!tls_running_loop) throw std::runtime_error("no running event loop");
    return *tls_running_loop;
}

std::unique_ptr<EventLoop> new_event_loop(EventLoopOptions options) { return std::make_unique<EventLoop>(options); }

void Handle::cancel() noexcept {
    if (!n_) return;
    if (n_->threadsafe) {
        // Posted from another thread, cancelled from any thread: marked
        // cancelled in any case (as asyncio, even after it ran), and the
        // callable claimed (see run_threadsafe_node). Too late if the loop has
        // started it, as in asyncio. Won: the captures go now, on this thread,
        // as asyncio drops the callback in cancel(); the loop never touched
        // them (they were built on the posting thread).
        std::atomic_ref<bool>(n_->cancelled).store(true, std::memory_order_relaxed);
        if (!std::atomic_ref<bool>(n_->running).exchange(true, std::memory_order_acq_rel)) n_->drop_callable();
        return;
    }
    if (n_->cancelled) return;
    n_->cancelled = true;
    if (n_->ops->timed) {
        auto* t = static_cast<detail::TimedCallbackNode*>(n_);
        if (t->heap_index != detail::TimerNode::kNotInHeap) n_->loop->note_timer_cancelled();
    }
    if (!n_->running) n_->drop_callable();  // release captures now, as asyncio does
}

EventLoop::EventLoop() : EventLoop(EventLoopOptions{}) {}

EventLoop::EventLoop(EventLoopOptions options)
    : poller_(detail::make_poller(options.poller, options.debug || detail::debug_from_env())),
      virtual_(options.virtual_time), debug_(options.debug || detail::debug_from_env()),
      cold_(detail::make_owned<detail::LoopCold>()) {
    door_ = new detail::LoopDoor(this);
    poller_->add_wake_fd(door_->wake_fd());
    std::lock_guard g(registry_mu());
    registry().insert(this);
}

EventLoop::~EventLoop() {
    if (running_) {
        log(LogLevel::error, "EventLoop destroyed while running");
        std::abort();
    }
    close();
    {
        std::lock_guard g(registry_mu());
        registry().erase(this);
    }
    delete std::exchange(extension_, nullptr);
    poller_.reset();
    door_->decref();  // threads holding a LoopRef keep the (shut) door, and its fd
}

std::string_view EventLoop::poller_name() const noexcept { return poller_->name(); }

void EventLoop::throw_nan(const char* what) { throw std::invalid_argument(std::string(what) + " must not be NaN"); }

std::int64_t EventLoop::now_ns() const noexcept { return virtual_ ? virtual_now_ : monotonic_ns(); }

void EventLoop::drain_threadsafe() noexcept {
    // A plain load first: taking the lock costs ~20 cycles per iteration.
    if (door_->pending()) door_->drain(ready_);
}

bool EventLoop::can_receive() const noexcept { return poller_->can_receive(); }
bool EventLoop::next_received(int fd, detail::Received& out) noexcept { return poller_->next_received(fd, out); }
void EventLoop::release_received(const detail::Received& r) noexcept { poller_->release_received(r); }
void EventLoop::unreceive(int fd, std::size_t taken) noexcept { poller_->unreceive(fd, taken); }

void EventLoop::set_fd_callback(int fd, bool write, detail::CallbackNode* n, bool receive) {
    if (auto* old = poller_->set(fd, write, n, receive)) {
        old->cancelled = true;
        old->decref();
    }
}

void EventLoop::check_thread_slow(const char* what) const {
    int tid = cold_->owner_tid.load(std::memory_order_relaxed);
    if (tid != 0 && tid != ::gettid())
        throw std::runtime_error(std::string(what) +
                                 "() called from a thread other than the event loop's (debug mode checks this; "
                                 "only call_soon_threadsafe may be called from other threads)");
}

void EventLoop::set_fd_owner(int fd, detail::FdOwner* owner) {
    if (fd < 0) return;
    if (!owner) poller_->discard_received(fd);  // its transport is closing it
    auto i = static_cast<std::size_t>(fd);
    if (i >= fd_owners_.size()) {
        if (!owner) return;
        fd_owners_.resize(i + 1, nullptr);
    }
    fd_owners_[i] = owner;
}

void EventLoop::check_fd_owner(int fd) const {
    detail::FdOwner* t = fd_owners_[static_cast<std::size_t>(fd)];
    if (!t->fd_owner_closing())
        throw std::runtime_error("File descriptor " + std::to_string(fd) + " is used by transport " +
                                 t->fd_owner_name());
}

bool EventLoop::unwatch(int fd, bool write) {
    if (closed_ || fd < 0) return false;
    auto* old = poller_->set(fd, write, nullptr);
    if (!old) return false;
    old->cancelled = true;
    old->decref();
    return true;
}

// ---- timers: a sleep's timer is indexed in the heap and leaves it at once;
// a call_later node is cancelled lazily (see heap_ in the header).

namespace {
// heap_index of a call_later node while it is in the heap (its position is not tracked).
constexpr std::size_t kLazyInHeap = detail::TimerNode::kNotInHeap - 1;
// asyncio's rule for sweeping cancelled timers out of the heap (base_events.py:
// _MIN_SCHEDULED_TIMER_HANDLES, _MIN_CANCELLED_TIMER_HANDLES_FRACTION).
constexpr std::size_t kMinTimersToSweep = 100;
}  // namespace

void EventLoop::add_timer(detail::TimerNode* t, detail::ReadyNode* node, std::int64_t when_ns) {
    // A timer node is in the heap or in a queue, once: every caller arms a
    // node that is idle (a sleep's own timer when it is awaited, which
    // happens once).
    if (t->heap_index != detail::TimerNode::kNotInHeap || node->queued()) [[unlikely]]
        throw std::logic_error("tulip: a timer node was armed while it is already scheduled");
    t->node = node;
    t->when = when_ns;
    t->seq = timer_seq_++;
    heap_.push(t, /*indexed=*/true);
}

void EventLoop::add_timer_lazy(detail::TimedCallbackNode* n, std::int64_t when_ns) {
    detail::TimerNode* t = n;
    t->node = static_cast<detail::CallbackNode*>(n);
    t->when = when_ns;
    t->seq = timer_seq_++;
    heap_.push(t, /*indexed=*/false);
    t->heap_index = kLazyInHeap;  // in the heap, position not tracked
}

void EventLoop::remove_timer(detail::TimerNode* t) noexcept {
    std::size_t i = t->heap_index;
    if (i == detail::TimerNode::kNotInHeap) return;
    t->heap_index = detail::TimerNode::kNotInHeap;
    heap_.remove(i);
}

static detail::CallbackNode* lazy_callback(detail::TimerNode* t) noexcept {
    return static_cast<detail::CallbackNode*>(t->node);
}

void EventLoop::drop_cancelled_front() noexcept {
    while (!heap_.empty() && !heap_.front().indexed()) {
        detail::TimerNode* t = heap_.front().node();
        detail::CallbackNode* cb = lazy_callback(t);
        if (!cb->cancelled) break;
        heap_.pop_front();
        t->heap_index = detail::TimerNode::kNotInHeap;
        if (cancelled_timers_) --cancelled_timers_;
        cb->decref();  // the heap's reference
    }
}

void EventLoop::purge_cancelled_timers() noexcept {
    heap_.retain([](const detail::TimerHeap::Entry& e) noexcept {
        detail::TimerNode* t = e.node();
        if (e.indexed() || !lazy_callback(t)->cancelled) return true;
        t->heap_index = detail::TimerNode::kNotInHeap;
        lazy_callback(t)->decref();  // the heap's reference
        return false;
    });
    cancelled_timers_ = 0;
}

// ---- running ----------------------------------------------------------------

void EventLoop::run_once() {
    drain_threadsafe();
    if (signal_read_fd_ >= 0) poll_signals();
    if (cancelled_timers_) [[unlikely]] {
        // As asyncio: sweep when the cancelled are over half of a big heap,
        // else drop those at the front (they must not set the wait below).
        if (heap_.size() > kMinTimersToSweep && cancelled_timers_ * 2 > heap_.size())
            purge_cancelled_timers();
        else
            drop_cancelled_front();
    }

    int timeout_ms;
    if (!ready_.empty() || stopping_) {
        timeout_ms = 0;
    } else if (!heap_.empty() && heap_.front().when != kNeverNs) {
        std::int64_t when = heap_.front().when;
        std::int64_t now = now_ns();
        // Round up: waking early would spin; a timer is never run before its time.
        // (Compared before subtracting: deadlines span the whole int64 range.)
        constexpr std::int64_t kDayNs = std::int64_t{24} * 3600 * 1000000000;
        std::int64_t d = when <= now ? 0 : std::min(when - now, kDayNs);
        timeout_ms = static_cast<int>((d + 999999) / 1000000);
    } else {
        // Nothing due ever (no timer, or only timers that never fire): wait for I/O.
        timeout_ms = -1;
    }

    if (virtual_) {
        bool woke = poller_->poll(0, ready_);
        if (!woke && ready_.empty() && !stopping_ && timeout_ms != 0) {
            if (external_pending_.load(std::memory_order_acquire) > 0 || timeout_ms < 0) {
                // Work on other threads will post back: wait for it for real,
                // but not past the next timer (time passes for real meanwhile;
                // a timeout on thread work must still fire). A timer that
                // never fires counts as none (timeout_ms < 0): the clock must
                // not jump to the end of time (later timers would then be due
                // at once).
                woke = poller_->poll(timeout_ms, ready_);
                if (!woke && ready_.empty() && timeout_ms >= 0)
                    virtual_now_ = std::max(virtual_now_, heap_.front().when);
            } else {
                virtual_now_ = std::max(virtual_now_, heap_.front().when);
            }
        }
        if (woke) {
            std::uint64_t v;
            [[maybe_unused]] auto r = detail::sys::read(door_->wake_fd(), &v, sizeof v);
        }
    } else if (timeout_ms != 0 || poller_->user_fd_count() != 0) {
        if (poller_->poll(timeout_ms, ready_)) {
            std::uint64_t v;
            [[maybe_unused]] auto r = detail::sys::read(door_->wake_fd(), &v, sizeof v);
        }
    }
    drain_threadsafe();

    if (!heap_.empty()) {
        std::int64_t now = now_ns();
        while (!heap_.empty() && heap_.front().when <= now) {
            detail::TimerHeap::Entry e = heap_.front();
            detail::TimerNode* t = e.node();
            heap_.pop_front();
            t->heap_index = detail::TimerNode::kNotInHeap;
            if (!e.indexed() && lazy_callback(t)->cancelled) {
                if (cancelled_timers_) --cancelled_timers_;
                lazy_callback(t)->decref();  // the heap's reference
                continue;
            }
            ready_.push(t->node);  // the heap's reference moves to the ready queue
        }
    }

    run_ready(ready_.size);
}

void EventLoop::run_ready(std::size_t n) {
    if (!debug_) {
        while (n--) {
            detail::ReadyNode* node = ready_.pop();
            node->run(node);
        }
        return;
    }
    while (n--) {
        detail::ReadyNode* node = ready_.pop();
        std::int64_t t0 = monotonic_ns();
        node->run(node);
        double dt = static_cast<double>(monotonic_ns() - t0) * 1e-9;
        if (dt >= slow_callback_duration) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.3f", dt);
            log(LogLevel::warning, std::string("Executing callback took ") + buf + " seconds");
        }
    }
}

void EventLoop::run_forever() {
    check_closed();
    if (running_) throw std::runtime_error("This event loop is already running");
    if (tls_running_loop) throw std::runtime_error("Cannot run the event loop while another loop is running");
    running_ = true;
    tls_running_loop = this;
    cold_->owner_tid.store(::gettid(), std::memory_order_relaxed);
    detail::tls_debug_state = debug_ ? 1 : 0;
    struct Reset {
        EventLoop* l;
        ~Reset() {
            l->cold_->owner_tid.store(0, std::memory_order_relaxed);
            l->stopping_ = false;
            l->running_ = false;
            tls_running_loop = nullptr;
            detail::tls_debug_state = -1;
        }
    } reset{this};
    for (;;) {
        run_once();
        if (stopping_) break;
    }
}

void EventLoop::close() {
    if (running_) throw std::runtime_error("Cannot close a running event loop");
    if (closed_) return;
    // Shut what still uses the loop (open transports, servers, child
    // watchers) while it can still remove their fds. Each is unlinked before
    // its hook runs, so one that releases others (which unlink themselves)
    // or opens new ones keeps the walk valid.
    while (closables_) {
        detail::LoopClosable* c = closables_;
        c->unlink_from_loop();
        c->on_loop_close();
    }
    remove_all_signal_handlers();
    fd_owners_.clear();  // every transport was force-closed above
    closed_ = true;
    // From here other threads are refused; what they posted before is dropped
    // below, with the rest of the ready queue.
    door_->shut(ready_);
    if (debug_) log(LogLevel::debug, "Close event loop");
    // Drop what is scheduled. Non-callback nodes (task steps, awaiters) belong
    // to objects that are torn down below or by their owners.
    // A callback that will never run is cancelled and its captures released
    // now, even if a user still holds its Handle (a callback holding its own
    // handle would otherwise be a cycle that outlives the loop). A posted
    // (threadsafe) one is released here unless a cancel from another thread
    // claimed it first.
    auto drop = [](detail::CallbackNode* c) noexcept {
        if (!c->threadsafe) {
            c->cancelled = true;
            c->drop_callable();
        } else if (!std::atomic_ref<bool>(c->running).exchange(true, std::memory_order_acq_rel)) {
            std::atomic_ref<bool>(c->cancelled).store(true, std::memory_order_relaxed);
            c->drop_callable();
        }
        c->decref();
    };
    while (!ready_.empty()) {
        auto* n = ready_.pop();
        if (n->run == &detail::CallbackNode::run_node)
            drop(static_cast<detail::CallbackNode*>(n));
        else if (extension_)
            extension_->drop_node(n);  // a future's done-callback, a task step
    }
    // Sleeps' timers just leave (their awaiters are torn down with their tasks).
    // The heap is emptied before any callback is dropped: a capture's
    // destructor may tear down a sleeping frame, whose timer then leaves.
    std::vector<detail::CallbackNode*> timed;
    for (std::size_t i = 0; i < heap_.size(); ++i) {
        const detail::TimerHeap::Entry& e = heap_[i];
        e.node()->heap_index = detail::TimerNode::kNotInHeap;
        if (!e.indexed()) timed.push_back(lazy_callback(e.node()));
    }
    heap_.clear();
    cancelled_timers_ = 0;
    for (auto* c : timed) drop(c);
    poller_->clear();
    // The task layer destroys the tasks still pending and detaches its async
    // generators (see LoopExtension).
    if (extension_) extension_->on_loop_close(*this);
    // Jobs still running elsewhere cannot post back any more: drop what they held.
    auto in_flight = std::move(cold_->in_flight);
    cold_->in_flight.clear();
    for (auto& [obj, release] : in_flight) release(obj);
    if (cold_->default_executor) {
        cold_->default_executor->shutdown(/*wait=*/false);
        cold_->default_executor.reset();
    }
}

void EventLoop::track_in_flight(void* obj, void (*release)(void*) noexcept) { cold_->in_flight.emplace(obj, release); }

bool EventLoop::untrack_in_flight(void* obj) noexcept {
    auto it = cold_->in_flight.find(obj);
    if (it == cold_->in_flight.end()) return false;
    cold_->in_flight.erase(it);
    return true;
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
    cold_->default_executor = std::move(executor);
}

Executor& EventLoop::default_executor() {
    check_closed();
    if (!cold_->default_executor) cold_->default_executor = std::make_shared<ThreadPoolExecutor>(0, "tulip-default");
    return *cold_->default_executor;
}

std::shared_ptr<Executor> EventLoop::default_executor_if_any() const noexcept { return cold_->default_executor; }

void EventLoop::set_exception_handler(ExceptionHandler handler) { cold_->handler = std::move(handler); }

const EventLoop::ExceptionHandler& EventLoop::get_exception_handler() const noexcept { return cold_->handler; }

void EventLoop::call_exception_handler(const ExceptionContext& context) {
    const ExceptionHandler& handler = cold_->handler;
    if (!handler) {
        default_exception_handler(context);
        return;
    }
    try {
        handler(*this, context);
    } catch (...) {
        // A failing handler must not take the loop down (asyncio logs it too).
        log(LogLevel::error, "Unhandled error in exception handler: " + describe_exception(std::current_exception()) +
                                 "; context: " + context.message);
    }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) {
    std::string msg = context.message.empty() ? "Unhandled exception in event loop" : context.message;
    if (!context.source.empty()) msg += "\n  source: " + context.source;
    if (context.exception) msg += "\n  exception: " + describe_exception(context.exception);
    if (!context.traceback.empty()) msg += "\n  created at:\n" + context.traceback;
    log(LogLevel::error, msg);
}

}  // namespace tulip
