#include "uring_poller.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace tulip::detail {

namespace {
// user_data: bit 63 marks the loop's own requests; otherwise fd in bits 0-31,
// the direction (0 read, 1 write) in bit 32, the direction's generation in
// bits 33-48. A completion whose generation is not the entry's current one
// belongs to a request disarmed since (or to an fd closed and reused).
constexpr std::uint64_t kOwn = std::uint64_t{1} << 63;
constexpr std::uint64_t kWakeTag = kOwn | 1;
constexpr std::uint64_t kIgnoreTag = kOwn | 2;

constexpr unsigned kBit[2] = {1u, 2u};  // FdEntry::events: which directions have a request in the kernel

inline std::uint32_t gen_of(std::uint32_t gens, unsigned dir) noexcept { return (gens >> (16 * dir)) & 0xffffu; }
inline void bump_gen(std::uint32_t& gens, unsigned dir) noexcept {
    std::uint32_t g = (gen_of(gens, dir) + 1) & 0xffffu;
    gens = (gens & ~(0xffffu << (16 * dir))) | (g << (16 * dir));
}
inline std::uint64_t tag(int fd, unsigned dir, std::uint32_t gens) noexcept {
    return static_cast<std::uint32_t>(fd) | (std::uint64_t{dir} << 32) | (std::uint64_t{gen_of(gens, dir)} << 33);
}
}  // namespace

namespace {
// A number per thread, never reused (a thread id or a TLS address can be).
std::atomic<std::uint64_t> g_next_thread{1};
thread_local const std::uint64_t t_thread = g_next_thread.fetch_add(1, std::memory_order_relaxed);
}  // namespace

UringPoller::UringPoller() {
    setup_ring();
    rearm_.reserve(64);
}

void UringPoller::setup_ring() {
    io_uring_params p{};
    // A CQ ring well above the SQ ring: a busy iteration completes more than
    // it submits (the kernel keeps what overflows anyway: IORING_FEAT_NODROP).
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
    p.cq_entries = 4096;
    int r = ::io_uring_queue_init_params(256, &ring_, &p);
    single_issuer_ = r == 0;
    if (r == -EINVAL) {
        // Before Linux 6.1: no DEFER_TASKRUN. Cooperative task work, which at
        // least spares the interrupt per completion.
        p = io_uring_params{};
        p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
        p.cq_entries = 4096;
        r = ::io_uring_queue_init_params(256, &ring_, &p);
    }
    if (r < 0) throw std::system_error(-r, std::generic_category(), "io_uring_setup");
    if (!(p.features & IORING_FEAT_EXT_ARG) || !(p.features & IORING_FEAT_NODROP)) {
        ::io_uring_queue_exit(&ring_);
        throw std::system_error(ENOSYS, std::generic_category(), "io_uring: kernel lacks EXT_ARG/NODROP (5.11+)");
    }
    ring_thread_ = 0;
}

bool UringPoller::on_ring_thread() const noexcept { return !single_issuer_ || ring_thread_ == t_thread; }

void UringPoller::take_ring_to_this_thread() {
    if (ring_thread_ != 0) {
        // Run before on another thread: a new ring here. What the kernel held
        // (polls, the wake-up) goes with the old one; the table says what to
        // arm again.
        ::io_uring_queue_exit(&ring_);
        setup_ring();
        for (std::size_t fd = 0; fd < fds_.size(); ++fd) {
            FdEntry& e = fds_[fd];
            for (unsigned dir = 0; dir < 2; ++dir)
                if (e.events & kBit[dir]) {
                    e.events &= ~kBit[dir];
                    bump_gen(e.gen, dir);
                    arm(static_cast<int>(fd), e, dir);
                }
        }
        wake_armed_ = false;
    }
    // liburing 2.3 declares io_uring_enable_rings but its library does not
    // export it (Debian 12's 2.3-3): the register call itself.
    if (::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0)
        throw std::system_error(errno, std::generic_category(), "io_uring_register(ENABLE_RINGS)");
    ring_thread_ = t_thread;
}

UringPoller::~UringPoller() {
    clear();
    ::io_uring_queue_exit(&ring_);
}

io_uring_sqe* UringPoller::next_sqe() {
    io_uring_sqe* s = ::io_uring_get_sqe(&ring_);
    if (!s) {
        submit_now();  // the SQ ring is full: hand the kernel what it holds
        s = ::io_uring_get_sqe(&ring_);
        if (!s) throw std::system_error(EBUSY, std::generic_category(), "io_uring: no submission entry");
    }
    return s;
}

void UringPoller::submit_now() {
    if (!on_ring_thread()) return;  // waits for the ring's thread (see the header)
    for (;;) {
        int r = ::io_uring_submit(&ring_);
        if (r >= 0 || r == -EBUSY) return;  // EBUSY: completions overflowed; the next wait reaps them
        if (r != -EINTR && r != -EAGAIN) throw std::system_error(-r, std::generic_category(), "io_uring_enter");
    }
}

void UringPoller::submit_and_get_events() {
    if (!on_ring_thread()) return;
    for (;;) {
        int r = ::io_uring_submit_and_get_events(&ring_);
        if (r >= 0 || r == -EBUSY) return;
        if (r != -EINTR && r != -EAGAIN) throw std::system_error(-r, std::generic_category(), "io_uring_enter");
    }
}

void UringPoller::add_wake_fd(int fd) {
    wake_fd_ = fd;
    io_uring_sqe* s = next_sqe();
    ::io_uring_prep_poll_add(s, fd, POLLIN);
    ::io_uring_sqe_set_data64(s, kWakeTag);
    wake_armed_ = true;
}

void UringPoller::arm(int fd, FdEntry& e, unsigned dir) {
    io_uring_sqe* s = next_sqe();
    ::io_uring_prep_poll_add(s, fd, dir ? POLLOUT : POLLIN);
    ::io_uring_sqe_set_data64(s, tag(fd, dir, e.gen));
    e.events |= kBit[dir];
}

void UringPoller::disarm(int fd, FdEntry& e, unsigned dir) {
    io_uring_sqe* s = next_sqe();
    ::io_uring_prep_poll_remove(s, tag(fd, dir, e.gen));
    ::io_uring_sqe_set_data64(s, kIgnoreTag);
    e.events &= ~kBit[dir];
    bump_gen(e.gen, dir);
}

void UringPoller::interest_changed(int fd, FdEntry& e) {
    if (e.events == 0 && (e.reader || e.writer)) {
        // A new fd: refuse what epoll refuses, as epoll_ctl(ADD) would, and at
        // the same cost (one syscall). A poll request would take a closed fd
        // (failing later) or a regular file (always ready) without a word.
        struct stat st;
        if (::fstat(fd, &st) < 0)
            throw std::system_error(errno, std::generic_category(), "io_uring poll on fd " + std::to_string(fd));
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
            throw std::system_error(EPERM, std::generic_category(), "io_uring poll on fd " + std::to_string(fd));
    }
    bool removed = false;
    for (unsigned dir = 0; dir < 2; ++dir) {
        bool want = dir ? e.writer != nullptr : e.reader != nullptr;
        bool armed = e.events & kBit[dir];
        if (want && !armed) {
            arm(fd, e, dir);
        } else if (!want && armed) {
            disarm(fd, e, dir);
            removed = true;
        }
    }
    // The poll request holds the file: a close() that follows must find it
    // released. (With deferred task work the cancelled request lets go of it
    // only when completions are run: hence get_events.)
    if (removed) submit_and_get_events();
}

bool UringPoller::poll(int timeout_ms, NodeQueue& ready) {
    if (!on_ring_thread()) take_ring_to_this_thread();
    if (!wake_armed_ && wake_fd_ >= 0) add_wake_fd(wake_fd_);
    for (std::uint64_t k : rearm_) {
        int fd = static_cast<int>(k >> 1);
        unsigned dir = static_cast<unsigned>(k & 1);
        FdEntry* e = entry(fd);
        if (e && !(e->events & kBit[dir]) && (dir ? e->writer : e->reader)) arm(fd, *e, dir);
    }
    rearm_.clear();

    if (timeout_ms == 0 || ::io_uring_cq_ready(&ring_) != 0) {
        // Nothing to wait for: submit what is new and run the deferred
        // completions, then read the completion ring. (Without deferred task
        // work, only when the kernel says it has something: no syscall otherwise.)
        if (single_issuer_ || ::io_uring_sq_ready(&ring_) != 0 ||
            (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)))
            submit_and_get_events();
    } else {
        io_uring_cqe* cqe = nullptr;
        __kernel_timespec ts{};
        int r;
        if (timeout_ms < 0) {
            r = ::io_uring_submit_and_wait(&ring_, 1);
        } else {
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
            r = ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        }
        if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
            throw std::system_error(-r, std::generic_category(), "io_uring_enter");
    }
    return reap(ready);
}

bool UringPoller::reap(NodeQueue& ready) {
    bool woke = false;
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        std::uint64_t ud = ::io_uring_cqe_get_data64(cqe);
        if (ud & kOwn) {
            if (ud == kWakeTag) {
                woke = true;
                wake_armed_ = false;
            }
            continue;
        }
        int fd = static_cast<int>(ud & 0xffffffffu);
        unsigned dir = static_cast<unsigned>((ud >> 32) & 1);
        FdEntry* e = entry(fd);
        if (!e || !(e->events & kBit[dir]) || ((ud >> 33) & 0xffffu) != gen_of(e->gen, dir)) continue;  // stale
        e->events &= ~kBit[dir];
        // res is the poll mask, or an error (e.g. EBADF for an fd closed under
        // its watcher): either way the watcher runs and its own syscall tells.
        report(*e, dir == 0, dir == 1, ready);
        if (dir ? e->writer : e->reader) rearm_.push_back(static_cast<std::uint64_t>(fd) << 1 | dir);
    }
    ::io_uring_cq_advance(&ring_, seen);
    return woke;
}

void UringPoller::forget_all() noexcept {
    try {
        for (std::size_t fd = 0; fd < fds_.size(); ++fd)
            for (unsigned dir = 0; dir < 2; ++dir)
                if (fds_[fd].events & kBit[dir]) disarm(static_cast<int>(fd), fds_[fd], dir);
        rearm_.clear();
        submit_and_get_events();
    } catch (...) {
        // Only io_uring_enter itself can fail here; the requests left go with the ring.
    }
}

}  // namespace tulip::detail
