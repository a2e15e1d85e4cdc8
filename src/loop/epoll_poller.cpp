#include "epoll_poller.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>
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

void EpollPoller::interest_changed(int fd, FdEntry& e) {
    std::uint32_t want = (e.reader ? std::uint32_t(EPOLLIN) : 0u) | (e.writer ? std::uint32_t(EPOLLOUT) : 0u);
    if (want == e.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    int op = e.events == 0 ? EPOLL_CTL_ADD : (want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    if (::epoll_ctl(epfd_, op, fd, &ev) < 0) {
        // An fd closed under its watcher has left the epoll set already:
        // nothing to remove (CPython's EpollSelector.unregister ignores this
        // OSError too). A removal must not throw: transports remove their
        // watchers in noexcept paths. The fd is in the set no more: a later
        // change adds it again (and fails there if it is still closed).
        bool removal = (want & ~e.events) == 0;
        if (removal && (errno == EBADF || errno == ENOENT)) {
            e.events = 0;
            return;
        }
        throw std::system_error(errno, std::generic_category(), "epoll_ctl on fd " + std::to_string(fd));
    }
    e.events = want;
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
        if (FdEntry* e = entry(fd))
            report(*e, ev & (EPOLLIN | EPOLLERR | EPOLLHUP), ev & (EPOLLOUT | EPOLLERR | EPOLLHUP), ready);
    }
    if (static_cast<std::size_t>(n) == events_.size() && events_.size() < 4096) events_.resize(events_.size() * 2);
    return woke;
}

void EpollPoller::forget_all() noexcept {
    for (std::size_t fd = 0; fd < fds_.size(); ++fd)
        if (fds_[fd].events) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, static_cast<int>(fd), nullptr);
}

}  // namespace tulip::detail
