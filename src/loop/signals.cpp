// Signal handling for the loop (asyncio unix_events: add_signal_handler).
//
// A C handler, async-signal-safe, writes the signal number to a non-blocking
// pipe; the loop watches the read end and runs the Python-level handler as
// an ordinary callback. This works whichever thread the kernel picks to
// deliver the signal to (signalfd would need the signal blocked in every
// thread). One loop per process owns the pipe at a time.
#include <tulip/loop/event_loop.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "../core/sys.hpp"
#include "epoll_poller.hpp"
#include "loop_cold.hpp"

namespace tulip {

namespace {
std::atomic<int> g_signal_fd{-1};
// Set by the handler too, so a loop that never blocks (always has ready
// callbacks, so never polls) still sees signals at its next iteration.
std::atomic<bool> g_signal_pending{false};
std::atomic<const EventLoop*> g_signal_owner{nullptr};
// C handlers between loading g_signal_fd and finishing their write: the pipe
// is closed only once none is (a handler on another thread must not write
// into a closed, maybe reused, descriptor).
std::atomic<int> g_signal_writers{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

extern "C" void tulip_on_signal(int sig) {
    int saved = errno;
    g_signal_writers.fetch_add(1, std::memory_order_seq_cst);
    int fd = g_signal_fd.load(std::memory_order_seq_cst);
    if (fd >= 0) {
        unsigned char b = static_cast<unsigned char>(sig);
        [[maybe_unused]] auto r = ::write(fd, &b, 1);  // full pipe: the loop is behind anyway
        g_signal_pending.store(true, std::memory_order_release);
    }
    g_signal_writers.fetch_sub(1, std::memory_order_seq_cst);
    errno = saved;
}

// A forked child must not wake its parent's loop: its signals stop reaching
// the inherited pipe (asyncio 3.12 clears the wakeup fd in the child), and it
// may install handlers on a loop of its own.
void detach_signals_after_fork() noexcept {
    g_signal_fd.store(-1);
    g_signal_pending.store(false);
    g_signal_owner.store(nullptr);
}
[[maybe_unused]] const int g_fork_hook = ::pthread_atfork(nullptr, nullptr, &detach_signals_after_fork);

// Unpublishes the pipe's write end and waits out handlers that may still be
// writing to it (a non-blocking write: a few microseconds at most). A handler
// interrupting this very thread has finished before we resume, so this
// cannot wait for itself.
void unpublish_signal_fd() noexcept {
    g_signal_fd.store(-1, std::memory_order_seq_cst);
    while (g_signal_writers.load(std::memory_order_seq_cst) != 0) ::sched_yield();
}
}  // namespace

namespace {
// The callable of one arrival's node: runs the handler's callable unless the
// handler was removed since. Holds a reference to the handler's node.
class SignalArrival {
public:
    explicit SignalArrival(detail::CallbackNode* h) noexcept : h_(h) { h_->incref(); }
    SignalArrival(SignalArrival&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    SignalArrival& operator=(SignalArrival&&) = delete;
    ~SignalArrival() {
        if (h_) h_->decref();
    }
    void operator()() {
        if (!h_->cancelled && h_->has_callable) h_->ops->invoke(h_);
    }

private:
    detail::CallbackNode* h_;
};
}  // namespace

void EventLoop::install_signal(int sig, detail::CallbackNode* n) {
    // n is ours: released on every path that does not install it.
    struct Release {
        detail::CallbackNode* n;
        ~Release() {
            if (n) n->decref();
        }
    } owned{n};
    if (sig <= 0 || sig >= NSIG) throw std::invalid_argument("invalid signal number " + std::to_string(sig));
    if (sig == SIGKILL || sig == SIGSTOP) {
        // asyncio: sigaction's EINVAL becomes RuntimeError for these.
        throw std::runtime_error(std::string("signal ") + std::to_string(sig) + " (" + ::strsignal(sig) +
                                 ") cannot be caught");
    }
    const EventLoop* expected = nullptr;
    if (!g_signal_owner.compare_exchange_strong(expected, this) && expected != this)
        throw std::runtime_error("another event loop already handles signals in this process");
    // What allocates comes before anything is changed (a bad_alloc leaves no
    // half-installed handler, pipe or ownership behind).
    try {
        if (cold_->signal_handlers.size() <= static_cast<std::size_t>(sig))
            cold_->signal_handlers.resize(NSIG, nullptr);
        if (signal_read_fd_ < 0) {
            int p[2];
            if (detail::sys::pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                throw std::system_error(errno, std::generic_category(), "pipe2 for signals");
            try {
                watch_reader(p[0], [this] { dispatch_signals(); });
            } catch (...) {
                ::close(p[0]);
                ::close(p[1]);
                throw;
            }
            signal_read_fd_ = p[0];
            cold_->signal_write_fd = p[1];
            g_signal_fd.store(cold_->signal_write_fd);
            poller_->adjust_internal_fds(+1);  // polled only when the loop would block anyway
        }
    } catch (...) {
        if (signal_read_fd_ < 0) g_signal_owner.store(nullptr);  // we hold no signal yet
        throw;
    }
    struct sigaction sa {};
    sa.sa_handler = &tulip_on_signal;
    sa.sa_flags = SA_RESTART;
    ::sigemptyset(&sa.sa_mask);
    if (::sigaction(sig, &sa, nullptr) < 0) throw std::system_error(errno, std::generic_category(), "sigaction");
    if (auto* old = cold_->signal_handlers[static_cast<std::size_t>(sig)]) {
        old->cancelled = true;
        old->decref();
    }
    cold_->signal_handlers[static_cast<std::size_t>(sig)] = std::exchange(owned.n, nullptr);
}

bool EventLoop::remove_signal_handler(int sig) {
    check_thread("remove_signal_handler");
    if (sig <= 0 || sig >= NSIG) throw std::invalid_argument("invalid signal number " + std::to_string(sig));
    if (static_cast<std::size_t>(sig) >= cold_->signal_handlers.size() ||
        !cold_->signal_handlers[static_cast<std::size_t>(sig)])
        return false;
    auto*& slot = cold_->signal_handlers[static_cast<std::size_t>(sig)];
    slot->cancelled = true;
    slot->decref();
    slot = nullptr;
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
    bool any = false;
    for (auto* h : cold_->signal_handlers) any = any || h;
    if (!any) remove_all_signal_handlers();
    return true;
}

void EventLoop::poll_signals() {
    if (g_signal_pending.load(std::memory_order_relaxed) && g_signal_pending.exchange(false, std::memory_order_acquire))
        dispatch_signals();
}

void EventLoop::dispatch_signals() {
    unsigned char buf[64];
    for (;;) {
        long r = detail::sys::read(signal_read_fd_, buf, sizeof buf);
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; ++i) {
            std::size_t sig = buf[i];
            if (sig < cold_->signal_handlers.size() && cold_->signal_handlers[sig]) {
                // One fresh node per arrival (asyncio: a call_soon per arrival), so
                // that the same signal arriving again while its handler is still
                // queued runs it again, in order — the handler's own node must
                // never be queued twice. The arrival keeps the handler alive, so
                // a handler may remove itself; a removed or replaced handler's
                // queued arrivals do not run.
                schedule(detail::CallbackNode::make(this, SignalArrival(cold_->signal_handlers[sig])));
            }
        }
    }
}

void EventLoop::remove_all_signal_handlers() noexcept {
    for (std::size_t sig = 0; sig < cold_->signal_handlers.size(); ++sig) {
        if (auto* h = cold_->signal_handlers[sig]) {
            h->cancelled = true;
            h->decref();
            cold_->signal_handlers[sig] = nullptr;
            struct sigaction sa {};
            sa.sa_handler = SIG_DFL;
            ::sigemptyset(&sa.sa_mask);
            ::sigaction(static_cast<int>(sig), &sa, nullptr);
        }
    }
    if (signal_read_fd_ >= 0) {
        unpublish_signal_fd();
        if (!closed_) {
            unwatch_reader(signal_read_fd_);
            poller_->adjust_internal_fds(-1);
        }
        ::close(signal_read_fd_);
        ::close(cold_->signal_write_fd);
        signal_read_fd_ = cold_->signal_write_fd = -1;
    }
    const EventLoop* self = this;
    g_signal_owner.compare_exchange_strong(self, nullptr);
}

}  // namespace tulip
