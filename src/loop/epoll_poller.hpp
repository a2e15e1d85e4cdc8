// src/loop/epoll_poller.hpp — the epoll backend of Poller (asyncio's
// selectors.EpollSelector): level-triggered, one epoll_ctl per change of
// interest.
#pragma once

#include <sys/epoll.h>

#include <vector>

#include "poller.hpp"

namespace tulip::detail {

class EpollPoller final : public Poller {
public:
    EpollPoller();
    ~EpollPoller() override;

    std::string_view name() const noexcept override { return "epoll"; }
    void add_wake_fd(int fd) override;
    bool poll(int timeout_ms, NodeQueue& ready) override;

private:
    void interest_changed(int fd, FdEntry& e) override;
    void forget_all() noexcept override;

    int epfd_ = -1;
    int wake_fd_ = -1;
    std::vector<epoll_event> events_;
};

}  // namespace tulip::detail
