#include "uring_poller.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

// ThreadSanitizer runs a program's signal handlers late: when the thread
// next enters a libc call it intercepts (epoll_wait is one). io_uring_enter,
// made by liburing with syscall(), is not: a signal that arrives while the
// loop waits in it would have its handler (which writes the loop's signal
// pipe) wait for the next libc call, which the waiting loop never makes.
// Under TSan a wait is cut into slices of kTsanSliceMs with an intercepted
// call (pthread_sigmask) between them, where TSan runs what it deferred.
#if defined(__SANITIZE_THREAD__)
#define TULIP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TULIP_TSAN 1
#endif
#endif

namespace tulip::detail {

namespace {
#ifdef TULIP_TSAN
constexpr int kTsanSliceMs = 20;
#endif

// user_data: bit 63 marks the loop's own requests; otherwise fd in bits 0-31,
// the direction (0 read, 1 write) in bit 32, the direction's generation in
// bits 33-48, a receive's epoch in bits 49-60, bit 61 for a receive. A
// completion whose generation is not the entry's current one belongs to a
// request disarmed since; a receive's data is kept unless its epoch is stale
// (the fd was closed, and may be reused).
constexpr std::uint64_t kOwn = std::uint64_t{1} << 63;
constexpr std::uint64_t kRecv = std::uint64_t{1} << 61;
constexpr std::uint64_t kWakeTag = kOwn | 1;
constexpr std::uint64_t kIgnoreTag = kOwn | 2;

constexpr unsigned kBit[2] = {1u, 2u};  // FdEntry::events: which directions have a request in the kernel
constexpr unsigned kRecvArmed = 4u;     // FdEntry::events: the read request is a receive

// The provided buffers: 256 x 8 KiB per loop (2 MiB, touched as used).
constexpr std::uint32_t kBufCount = 256;
constexpr std::size_t kBufSize = 8192;
constexpr int kBufGroup = 0;

inline std::uint32_t epoch_bits(std::uint16_t epoch) noexcept { return epoch & 0xfffu; }

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

void UringPoller::take_ring_to_this_thread(NodeQueue& ready) {
    if (ring_thread_ != 0) {
        // Run before on another thread: a new ring here. What the old one
        // completed is taken first (reading the completion ring is no
        // syscall); what it has not (polls, receives whose data is still in
        // the socket, the wake-up) goes with it; the table says what to arm
        // again.
        reap(ready);
        ::io_uring_queue_exit(&ring_);
        setup_ring();
        if (br_) register_buffers();
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
    if (br_) ::munmap(br_, br_entries_ * sizeof(io_uring_buf));
    if (bufs_) ::munmap(bufs_, kBufCount * kBufSize);
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
    if (dir == 0 && e.receive) {
        if (!br_) setup_buffers();
        io_uring_sqe* s = next_sqe();
        ::io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
        s->flags |= IOSQE_BUFFER_SELECT;
        s->buf_group = kBufGroup;
        ::io_uring_sqe_set_data64(s, tag(fd, 0, e.gen) | kRecv | (std::uint64_t{epoch_bits(e.epoch)} << 49));
        e.events |= kBit[0] | kRecvArmed;
        return;
    }
    io_uring_sqe* s = next_sqe();
    ::io_uring_prep_poll_add(s, fd, dir ? POLLOUT : POLLIN);
    ::io_uring_sqe_set_data64(s, tag(fd, dir, e.gen));
    e.events |= kBit[dir];
}

void UringPoller::disarm(int fd, FdEntry& e, unsigned dir) {
    io_uring_sqe* s = next_sqe();
    if (dir == 0 && (e.events & kRecvArmed))
        ::io_uring_prep_cancel64(s, tag(fd, 0, e.gen) | kRecv | (std::uint64_t{epoch_bits(e.epoch)} << 49), 0);
    else
        ::io_uring_prep_poll_remove(s, tag(fd, dir, e.gen));
    ::io_uring_sqe_set_data64(s, kIgnoreTag);
    e.events &= ~kBit[dir];
    if (dir == 0) e.events &= ~kRecvArmed;
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
    // A reader that changed kind (poll <-> receive) needs the other request.
    if (e.reader && (e.events & kBit[0]) && e.receive != bool(e.events & kRecvArmed)) {
        disarm(fd, e, 0);
        removed = true;
    }
    // A new receiver may have chunks waiting (a reader paused, then resumed).
    if (e.reader && e.receive && static_cast<std::size_t>(fd) < received_.size() &&
        !received_[static_cast<std::size_t>(fd)].empty())
        to_report_.push_back(fd);
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
    if (!on_ring_thread()) take_ring_to_this_thread(ready);
    if (!wake_armed_ && wake_fd_ >= 0) add_wake_fd(wake_fd_);
    for (std::uint64_t k : rearm_) {
        int fd = static_cast<int>(k >> 1);
        unsigned dir = static_cast<unsigned>(k & 1);
        FdEntry* e = entry(fd);
        if (e && !(e->events & kBit[dir]) && (dir ? e->writer : e->reader)) arm(fd, *e, dir);
    }
    rearm_.clear();
    // Readers with chunks still to take run this iteration: no waiting then.
    if ((!to_report_.empty() || scan_all_received_) && report_received(ready)) timeout_ms = 0;

    if (timeout_ms == 0 || ::io_uring_cq_ready(&ring_) != 0) {
        // Nothing to wait for: submit what is new and run the deferred
        // completions, then read the completion ring. (Without deferred task
        // work, only when the kernel says it has something: no syscall otherwise.)
        if (single_issuer_ || ::io_uring_sq_ready(&ring_) != 0 ||
            (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)))
            submit_and_get_events();
    } else {
        wait(timeout_ms);
    }
    return reap(ready);
}

// Submits and waits up to timeout_ms (-1: no limit) for one completion.
void UringPoller::wait(int timeout_ms) {
    auto wait_once = [this](int ms) {
        io_uring_cqe* cqe = nullptr;
        __kernel_timespec ts{};
        int r;
        if (ms < 0) {
            r = ::io_uring_submit_and_wait(&ring_, 1);
        } else {
            ts.tv_sec = ms / 1000;
            ts.tv_nsec = static_cast<long long>(ms % 1000) * 1000000;
            r = ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        }
        if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
            throw std::system_error(-r, std::generic_category(), "io_uring_enter");
        return r;
    };
#ifdef TULIP_TSAN
    for (int left = timeout_ms;;) {
        int slice = left < 0 || left > kTsanSliceMs ? kTsanSliceMs : left;
        int r = wait_once(slice);
        if (r != -ETIME || ::io_uring_cq_ready(&ring_) != 0) return;
        if (left >= 0 && (left -= slice) <= 0) return;
        sigset_t cur;
        ::pthread_sigmask(SIG_BLOCK, nullptr, &cur);  // TSan runs the handlers it deferred
    }
#else
    wait_once(timeout_ms);
#endif
}

bool UringPoller::reap(NodeQueue& ready) {
    bool woke = false;
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    // Room for every re-arm this reap may ask for, before any completion is
    // taken: a push_back below then cannot throw (bad_alloc) half-way.
    rearm_.reserve(rearm_.size() + ::io_uring_cq_ready(&ring_));
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
        if (ud & kRecv) {
            try {
                on_received(cqe, ud, ready);
            } catch (...) {
                // It could not be queued (bad_alloc; on_received changed
                // nothing): it stays in the ring for the next reap, and the
                // completions before it are consumed, so none is seen twice.
                ::io_uring_cq_advance(&ring_, seen - 1);
                throw;
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

void UringPoller::on_received(io_uring_cqe* cqe, std::uint64_t ud, NodeQueue& ready) {
    int fd = static_cast<int>(ud & 0xffffffffu);
    int res = cqe->res;
    bool has_buf = cqe->flags & IORING_CQE_F_BUFFER;
    std::uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    FdEntry* e = entry(fd);
    if (!e || ((ud >> 49) & 0xfffu) != epoch_bits(e->epoch)) {
        if (has_buf) recycle(bid);  // for a closed fd: nobody will take it
        return;
    }
    if (res != -ECANCELED && res != -ENOBUFS) {
        // What may throw (bad_alloc) first, before anything changes: the
        // completion is then taken again by the next reap.
        if (static_cast<std::size_t>(fd) >= received_.size()) received_.resize(static_cast<std::size_t>(fd) + 1);
        std::vector<Received>& items = received_[static_cast<std::size_t>(fd)].items;
        if (items.size() == items.capacity()) items.reserve(std::max<std::size_t>(8, 2 * items.capacity()));
    }
    bool current = (e->events & kRecvArmed) && ((ud >> 33) & 0xffffu) == gen_of(e->gen, 0);
    bool ended = !(cqe->flags & IORING_CQE_F_MORE);
    if (current && ended) e->events &= ~(kBit[0] | kRecvArmed);
    if (res == -ECANCELED) return;  // a disarm (pause_reading): what came before it is queued
    if (res == -ENOBUFS) {
        // Every buffer is lent out: armed again next iteration, once readers
        // have given some back (the data waits in the socket meanwhile).
        if (current && ended && e->reader) rearm_.push_back(static_cast<std::uint64_t>(fd) << 1);
        return;
    }
    RecvQueue& q = received_[static_cast<std::size_t>(fd)];  // made above
    if (q.empty()) {
        q.items.clear();  // (keeps the capacity reserved above)
        q.head = 0;
    }
    Received r;
    r.res = res;
    if (res > 0 && has_buf) {
        r.data = bufs_ + static_cast<std::size_t>(bid) * kBufSize;
        r.size = static_cast<std::size_t>(res);
        r.bid = bid;
        lent_[bid] = 1;
    } else if (has_buf) {
        recycle(bid);
    }
    q.items.push_back(r);
    report(*e, true, false, ready);
    // Data and a multishot that stopped anyway (the kernel may end one at any
    // time): go on receiving. EOF and errors end the stream.
    if (current && ended && res > 0 && e->reader) rearm_.push_back(static_cast<std::uint64_t>(fd) << 1);
}

bool UringPoller::report_received(NodeQueue& ready) {
    bool any = false;
    if (scan_all_received_) {
        // Kept until no queue holds chunks any more.
        scan_all_received_ = false;
        for (std::size_t fd = 0; fd < received_.size(); ++fd) {
            FdEntry* e = entry(static_cast<int>(fd));
            if (!e || !e->reader || !e->receive || received_[fd].empty()) continue;
            report(*e, true, false, ready);
            any = scan_all_received_ = true;
        }
    }
    std::size_t keep = 0;
    for (int fd : to_report_) {
        FdEntry* e = entry(fd);
        if (!e || !e->reader || !e->receive || static_cast<std::size_t>(fd) >= received_.size() ||
            received_[static_cast<std::size_t>(fd)].empty())
            continue;
        report(*e, true, false, ready);
        any = true;
        to_report_[keep++] = fd;  // until its reader has taken everything
    }
    to_report_.resize(keep);
    // An fd may be listed more than once (a reader that keeps leaving chunks
    // is listed again each time): keep the list from growing.
    if (to_report_.size() > 64) {
        std::sort(to_report_.begin(), to_report_.end());
        to_report_.erase(std::unique(to_report_.begin(), to_report_.end()), to_report_.end());
    }
    return any;
}

bool UringPoller::next_received(int fd, Received& out) noexcept {
    if (static_cast<std::size_t>(fd) >= received_.size()) return false;
    RecvQueue& q = received_[static_cast<std::size_t>(fd)];
    if (q.empty()) return false;
    out = q.items[q.head++];
    // A reader that stops before the end (pause_reading, an injected EAGAIN)
    // is asked again next iteration, as a level-triggered poll would.
    if (!q.empty()) note_to_report(fd);
    return true;
}

void UringPoller::note_to_report(int fd) noexcept {
    if (!to_report_.empty() && to_report_.back() == fd) return;
    try {
        to_report_.push_back(fd);
    } catch (...) {
        scan_all_received_ = true;  // bad_alloc: no terminate, and no reader forgotten
    }
}

void UringPoller::unreceive(int fd, std::size_t taken) noexcept {
    RecvQueue& q = received_[static_cast<std::size_t>(fd)];
    Received& r = q.items[--q.head];
    r.data += taken;
    r.size -= taken;
    note_to_report(fd);
}

void UringPoller::release_received(const Received& r) noexcept {
    if (r.data) recycle(r.bid);
}

void UringPoller::discard_received(int fd) noexcept {
    FdEntry* e = entry(fd);
    if (!e) return;
    ++e->epoch;  // completions still on their way for this fd are stale now
    if (static_cast<std::size_t>(fd) >= received_.size()) return;
    RecvQueue& q = received_[static_cast<std::size_t>(fd)];
    for (std::size_t i = q.head; i < q.items.size(); ++i) release_received(q.items[i]);
    q.items.clear();
    q.items.shrink_to_fit();
    q.head = 0;
}

void UringPoller::setup_buffers() {
    // br_ is set only once everything is in place: a failure here (bad_alloc,
    // mmap, the registration) leaves no half-made ring that the next arm()
    // would take as ready.
    std::vector<std::uint8_t> lent(kBufCount, 0);
    // The ring of buffer descriptors must be page-aligned: mmap.
    br_entries_ = kBufCount;
    void* ring =
        ::mmap(nullptr, br_entries_ * sizeof(io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ring == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap (io_uring buffer ring)");
    void* bufs = ::mmap(nullptr, kBufCount * kBufSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bufs == MAP_FAILED) {
        int err = errno;
        ::munmap(ring, br_entries_ * sizeof(io_uring_buf));
        throw std::system_error(err, std::generic_category(), "mmap (io_uring buffers)");
    }
    br_ = static_cast<io_uring_buf_ring*>(ring);
    bufs_ = static_cast<char*>(bufs);
    lent_ = std::move(lent);
    try {
        register_buffers();
    } catch (...) {
        ::munmap(br_, br_entries_ * sizeof(io_uring_buf));
        ::munmap(bufs_, kBufCount * kBufSize);
        br_ = nullptr;
        bufs_ = nullptr;
        throw;
    }
}

void UringPoller::register_buffers() {
    ::io_uring_buf_ring_init(br_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
    reg.ring_entries = br_entries_;
    reg.bgid = kBufGroup;
    int r = ::io_uring_register_buf_ring(&ring_, &reg, 0);
    if (r < 0) throw std::system_error(-r, std::generic_category(), "io_uring_register_buf_ring");
    int added = 0;
    for (std::uint32_t bid = 0; bid < kBufCount; ++bid)
        if (!lent_[bid])
            ::io_uring_buf_ring_add(br_, bufs_ + static_cast<std::size_t>(bid) * kBufSize, kBufSize,
                                    static_cast<unsigned short>(bid), ::io_uring_buf_ring_mask(br_entries_), added++);
    ::io_uring_buf_ring_advance(br_, added);
}

void UringPoller::recycle(std::uint32_t bid) noexcept {
    lent_[bid] = 0;
    ::io_uring_buf_ring_add(br_, bufs_ + static_cast<std::size_t>(bid) * kBufSize, kBufSize,
                            static_cast<unsigned short>(bid), ::io_uring_buf_ring_mask(br_entries_), 0);
    ::io_uring_buf_ring_advance(br_, 1);
}

void UringPoller::forget_all() noexcept {
    for (std::size_t fd = 0; fd < received_.size(); ++fd) discard_received(static_cast<int>(fd));
    to_report_.clear();
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
