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

#include <execinfo.h>
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

#include "epoll_poller.hpp"

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

void CallbackNode::run_node(ReadyNode* r) {
    auto* n = static_cast<CallbackNode*>(r);
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
}  // namespace detail

EventLoop& get_running_loop() {
    if (!tls_running_loop) throw std::runtime_error("no running event loop");
    return *tls_running_loop;
}

std::unique_ptr<EventLoop> new_event_loop(EventLoopOptions options) {
    return std::make_unique<EventLoop>(options);
}

void Handle::cancel() noexcept {
    if (!n_ || n_->cancelled) return;
    n_->cancelled = true;
    if (n_->heap_index != detail::TimerNode::kNotInHeap) {
        n_->loop->remove_timer(n_);
        n_->decref();  // the heap's reference
    }
    if (!n_->running) n_->drop_callable();  // release captures now, as asyncio does
}

EventLoop::EventLoop() : EventLoop(EventLoopOptions{}) {}

EventLoop::EventLoop(EventLoopOptions options)
    : poller_(std::make_unique<detail::EpollPoller>()),
      virtual_(options.virtual_time),
      debug_(options.debug || detail::debug_from_env()) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    poller_->add_wake_fd(wake_fd_);
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
    poller_.reset();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::int64_t EventLoop::now_ns() const noexcept { return virtual_ ? virtual_now_ : monotonic_ns(); }

void EventLoop::post_threadsafe(detail::CallbackNode* n) {
    {
        std::lock_guard g(ts_mu_);
        if (closed_) {
            n->cancelled = true;
            n->decref();
            throw std::runtime_error("Event loop is closed");
        }
        ts_queue_.push_back(n);
    }
    if (!ts_pending_.exchange(true, std::memory_order_acq_rel)) {
        std::uint64_t one = 1;
        // EAGAIN means the counter is saturated: the loop will wake anyway.
        [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
    }
}

void EventLoop::drain_threadsafe() {
    // A plain load first: the locked exchange costs ~20 cycles per iteration.
    if (!ts_pending_.load(std::memory_order_acquire) || !ts_pending_.exchange(false, std::memory_order_acq_rel))
        return;
    std::vector<detail::CallbackNode*> batch;
    {
        std::lock_guard g(ts_mu_);
        batch.swap(ts_queue_);
    }
    for (auto* n : batch) ready_.push(n);
}

void EventLoop::set_fd_callback(int fd, bool write, detail::CallbackNode* n) {
    if (auto* old = poller_->set(fd, write, n)) {
        old->cancelled = true;
        old->decref();
    }
}

bool EventLoop::remove_reader(int fd) {
    if (closed_ || fd < 0) return false;
    auto* old = poller_->set(fd, false, nullptr);
    if (!old) return false;
    old->cancelled = true;
    old->decref();
    return true;
}

bool EventLoop::remove_writer(int fd) {
    if (closed_ || fd < 0) return false;
    auto* old = poller_->set(fd, true, nullptr);
    if (!old) return false;
    old->cancelled = true;
    old->decref();
    return true;
}

// ---- timer heap: a 4-ary min-heap ordered by (when, seq); nodes know their
// index so a cancelled timer leaves at once. Four children per node halve the
// depth of a binary heap and keep siblings in one cache line or two.

void EventLoop::heap_set(std::size_t i, detail::TimerNode* t) noexcept {
    heap_[i] = HeapEntry{t->when, t->seq, t};
    t->heap_index = i;
}

static inline bool earlier(std::int64_t w1, std::uint64_t s1, std::int64_t w2, std::uint64_t s2) noexcept {
    return w1 < w2 || (w1 == w2 && s1 < s2);
}

void EventLoop::heap_up(std::size_t i) noexcept {
    HeapEntry e = heap_[i];
    while (i > 0) {
        std::size_t p = (i - 1) / 4;
        if (!earlier(e.when, e.seq, heap_[p].when, heap_[p].seq)) break;
        heap_[i] = heap_[p];
        heap_[i].node->heap_index = i;
        i = p;
    }
    heap_[i] = e;
    e.node->heap_index = i;
}

void EventLoop::heap_down(std::size_t i) noexcept {
    HeapEntry e = heap_[i];
    const std::size_t n = heap_.size();
    HeapEntry* h = heap_.data();
    for (;;) {
        std::size_t c = 4 * i + 1;
        if (c >= n) break;
        std::size_t best = c;
        std::size_t last = c + 4 < n ? c + 4 : n;
        for (std::size_t k = c + 1; k < last; ++k)
            if (earlier(h[k].when, h[k].seq, h[best].when, h[best].seq)) best = k;
        if (!earlier(h[best].when, h[best].seq, e.when, e.seq)) break;
        h[i] = h[best];
        h[i].node->heap_index = i;
        i = best;
    }
    h[i] = e;
    e.node->heap_index = i;
}

void EventLoop::add_timer(detail::TimerNode* t, std::int64_t when_ns) {
    t->when = when_ns;
    t->seq = timer_seq_++;
    heap_.push_back(HeapEntry{});
    heap_set(heap_.size() - 1, t);
    heap_up(heap_.size() - 1);
}

void EventLoop::remove_timer(detail::TimerNode* t) noexcept {
    std::size_t i = t->heap_index;
    if (i == detail::TimerNode::kNotInHeap) return;
    t->heap_index = detail::TimerNode::kNotInHeap;
    std::size_t last = heap_.size() - 1;
    if (i != last) {
        heap_[i] = heap_[last];
        heap_[i].node->heap_index = i;
        heap_.pop_back();
        if (i > 0 && earlier(heap_[i].when, heap_[i].seq, heap_[(i - 1) / 4].when, heap_[(i - 1) / 4].seq))
            heap_up(i);
        else
            heap_down(i);
    } else {
        heap_.pop_back();
    }
}

// ---- running ----------------------------------------------------------------

void EventLoop::run_once() {
    if (ts_pending_.load(std::memory_order_relaxed)) drain_threadsafe();
    if (signal_read_fd_ >= 0) poll_signals();

    int timeout_ms;
    if (!ready_.empty() || stopping_) {
        timeout_ms = 0;
    } else if (!heap_.empty()) {
        std::int64_t d = heap_.front().when - now_ns();
        // Round up: waking early would spin; a timer is never run before its time.
        timeout_ms = d <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>((d + 999999) / 1000000, 24 * 3600 * 1000));
    } else {
        timeout_ms = -1;
    }

    if (virtual_) {
        bool woke = poller_->poll(0, ready_);
        if (!woke && ready_.empty() && !stopping_ && timeout_ms != 0) {
            if (external_pending.load(std::memory_order_acquire) > 0 || heap_.empty()) {
                // Work on other threads will post back: wait for it for real.
                woke = poller_->poll(-1, ready_);
            } else {
                virtual_now_ = std::max(virtual_now_, heap_.front().when);
            }
        }
        if (woke) {
            std::uint64_t v;
            [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        }
    } else if (timeout_ms != 0 || poller_->user_fd_count() != 0) {
        if (poller_->poll(timeout_ms, ready_)) {
            std::uint64_t v;
            [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        }
    }
    if (ts_pending_.load(std::memory_order_relaxed)) drain_threadsafe();

    if (!heap_.empty()) {
        std::int64_t now = now_ns();
        while (!heap_.empty() && heap_.front().when <= now) {
            detail::TimerNode* t = heap_.front().node;
            remove_timer(t);
            ready_.push(t);  // the heap's reference moves to the ready queue
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
    detail::tls_debug_state = debug_ ? 1 : 0;
    struct Reset {
        EventLoop* l;
        ~Reset() {
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
    for (auto& hook : on_close_hooks) hook();
    on_close_hooks.clear();
    remove_all_signal_handlers();
    {
        std::lock_guard g(ts_mu_);
        closed_ = true;
    }
    if (debug_) log(LogLevel::debug, "Close event loop");
    // Drop what is scheduled. Non-callback nodes (task steps, awaiters) belong
    // to objects that are torn down below or by their owners.
    ts_pending_.store(true);
    drain_threadsafe();
    while (!ready_.empty()) {
        auto* n = ready_.pop();
        if (n->run == &detail::CallbackNode::run_node)
            static_cast<detail::CallbackNode*>(n)->decref();
        else if (n->run == &detail::run_done_callback)
            detail::discard_done_callback(n);  // and the reference to its future
    }
    while (!heap_.empty()) {
        auto* t = heap_.back().node;
        remove_timer(t);
        if (t->run == &detail::CallbackNode::run_node) {
            auto* c = static_cast<detail::CallbackNode*>(t);
            c->cancelled = true;
            c->decref();
        }
    }
    poller_->clear();
    if (destroy_pending_tasks) destroy_pending_tasks(*this);
    // Jobs still running elsewhere cannot post back any more: drop what they held.
    auto in_flight = std::move(in_flight_);
    in_flight_.clear();
    for (auto& [obj, release] : in_flight) release(obj);
    if (default_executor_) {
        default_executor_->shutdown(/*wait=*/false);
        default_executor_.reset();
    }
}

void EventLoop::track_in_flight(void* obj, void (*release)(void*) noexcept) { in_flight_.emplace(obj, release); }

bool EventLoop::untrack_in_flight(void* obj) noexcept {
    auto it = in_flight_.find(obj);
    if (it == in_flight_.end()) return false;
    in_flight_.erase(it);
    return true;
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) { default_executor_ = std::move(executor); }

Executor& EventLoop::default_executor() {
    check_closed();
    if (!default_executor_) default_executor_ = std::make_shared<ThreadPoolExecutor>(0, "tulip-default");
    return *default_executor_;
}

void EventLoop::call_exception_handler(const ExceptionContext& context) {
    if (!handler_) {
        default_exception_handler(context);
        return;
    }
    try {
        handler_(*this, context);
    } catch (...) {
        // A failing handler must not take the loop down (asyncio logs it too).
        log(LogLevel::error, "Unhandled error in exception handler: " +
                                 describe_exception(std::current_exception()) +
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
