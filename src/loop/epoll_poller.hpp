// src/loop/epoll_poller.hpp — the readiness poller behind EventLoop (asyncio's
// selectors.EpollSelector). Internal: the loop owns one; io_uring would sit
// behind the same small interface.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <vector>

#include <tulip/loop/nodes.hpp>

namespace tulip::detail {

class EpollPoller {
public:
    EpollPoller();
    ~EpollPoller();
    EpollPoller(const EpollPoller&) = delete;
    EpollPoller& operator=(const EpollPoller&) = delete;

    struct FdEntry {
        CallbackNode* reader = nullptr;
        CallbackNode* writer = nullptr;
        std::uint32_t events = 0;  // what epoll has registered for this fd
    };

    // Installs (or replaces, or with nullptr clears) the reader/writer of fd.
    // Returns the node it replaced (the caller owns its reference).
    CallbackNode* set(int fd, bool write, CallbackNode* node);
    // Adds the special wake-up fd (eventfd); its events are reported via woke().
    void add_wake_fd(int fd);
    // Waits up to timeout_ms (-1 forever, 0 poll) and pushes the callbacks of
    // ready fds onto `ready` (each push takes a reference). Returns whether the
    // wake fd fired.
    bool poll(int timeout_ms, NodeQueue& ready);
    // Watched fds whose readiness matters between iterations (not the loop's own).
    std::size_t user_fd_count() const noexcept { return user_fds_ - internal_fds_; }
    void adjust_internal_fds(int delta) noexcept { internal_fds_ += static_cast<std::size_t>(delta); }
    // Drops every reader and writer (loop close).
    void clear();

private:
    int epfd_ = -1;
    int wake_fd_ = -1;
    std::size_t user_fds_ = 0;
    std::size_t internal_fds_ = 0;  // e.g. the signal pipe: see EventLoop::poll_signals
    std::vector<FdEntry> fds_;
    std::vector<epoll_event> events_;
};

}  // namespace tulip::detail
