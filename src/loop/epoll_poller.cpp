#include "epoll_poller.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "../core/sys.hpp"

namespace tulip::detail {

EpollPoller::EpollPoller() : events_(256) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

EpollPoller::~EpollPoller() {
    clear();
    if (epfd_ >= 0) ::close(epfd_);
}

void EpollPoller::add_wake_fd(int fd) {
    wake_fd_ = fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl(wake fd)");
}

CallbackNode* EpollPoller::set(int fd, bool write, CallbackNode* node) {
    if (fd < 0) {
        if (node) node->decref();
        throw std::invalid_argument("invalid file descriptor " + std::to_string(fd));
    }
    if (static_cast<std::size_t>(fd) >= fds_.size()) {
        if (!node) return nullptr;
        fds_.resize(static_cast<std::size_t>(fd) + 1);
    }
    FdEntry& e = fds_[static_cast<std::size_t>(fd)];
    CallbackNode*& slot = write ? e.writer : e.reader;
    CallbackNode* old = slot;
    bool had_any = e.reader || e.writer;
    slot = node;
    std::uint32_t want = (e.reader ? std::uint32_t(EPOLLIN) : 0u) | (e.writer ? std::uint32_t(EPOLLOUT) : 0u);
    if (want != e.events) {
        epoll_event ev{};
        ev.events = want;
        ev.data.fd = fd;
        int op = e.events == 0 ? EPOLL_CTL_ADD : (want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
        if (::epoll_ctl(epfd_, op, fd, &ev) < 0) {
            int err = errno;
            slot = old;
            if (node) node->decref();
            throw std::system_error(err, std::generic_category(), "epoll_ctl on fd " + std::to_string(fd));
        }
        e.events = want;
    }
    bool has_any = e.reader || e.writer;
    if (had_any && !has_any) --user_fds_;
    if (!had_any && has_any) ++user_fds_;
    return old;
}

bool EpollPoller::poll(int timeout_ms, NodeQueue& ready) {
    int n = sys::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return false;
        throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    bool woke = false;
    for (int i = 0; i < n; ++i) {
        int fd = events_[static_cast<std::size_t>(i)].data.fd;
        std::uint32_t ev = events_[static_cast<std::size_t>(i)].events;
        if (fd == wake_fd_) {
            woke = true;
            continue;
        }
        if (static_cast<std::size_t>(fd) >= fds_.size()) continue;
        FdEntry& e = fds_[static_cast<std::size_t>(fd)];
        // Errors and hang-ups wake both sides, as the selectors module reports them.
        // A watcher is normally run (dequeued) by the iteration that polled it;
        // if it is still queued (a callback threw out of run_forever, or called
        // run_once itself, before it ran), that one run answers this report too:
        // its node must not be queued twice.
        if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && e.reader && !e.reader->cancelled && !e.reader->queued()) {
            e.reader->incref();
            ready.push(e.reader);
        }
        if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && e.writer && !e.writer->cancelled && !e.writer->queued()) {
            e.writer->incref();
            ready.push(e.writer);
        }
    }
    if (static_cast<std::size_t>(n) == events_.size() && events_.size() < 4096) events_.resize(events_.size() * 2);
    return woke;
}

void EpollPoller::clear() {
    for (std::size_t fd = 0; fd < fds_.size(); ++fd) {
        FdEntry& e = fds_[fd];
        for (CallbackNode* n : {e.reader, e.writer})
            if (n) {
                n->cancelled = true;
                n->decref();
            }
        if (e.events) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, static_cast<int>(fd), nullptr);
        e = FdEntry{};
    }
    user_fds_ = 0;
    internal_fds_ = 0;
}

}  // namespace tulip::detail
