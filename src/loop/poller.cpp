#include "poller.hpp"

#include <stdexcept>
#include <string>

namespace tulip::detail {

CallbackNode* Poller::set(int fd, bool write, CallbackNode* node, bool receive) {
    if (fd < 0) {
        if (node) node->decref();
        throw std::invalid_argument("invalid file descriptor " + std::to_string(fd));
    }
    if (static_cast<std::size_t>(fd) >= fds_.size()) {
        if (!node) return nullptr;
        try {
            fds_.resize(static_cast<std::size_t>(fd) + 1);
        } catch (...) {
            node->decref();  // ours however set() ends, as below
            throw;
        }
    }
    FdEntry& e = fds_[static_cast<std::size_t>(fd)];
    CallbackNode*& slot = write ? e.writer : e.reader;
    CallbackNode* old = slot;
    bool had_any = e.reader || e.writer;
    bool old_receive = e.receive;
    slot = node;
    // A reader's mode changes only when a new reader comes: the removal of a
    // receiver must still cancel a receive, not a poll.
    if (!write && node) e.receive = receive && can_receive();
    try {
        interest_changed(fd, e);
    } catch (...) {
        slot = old;
        e.receive = old_receive;
        if (node) node->decref();
        throw;
    }
    bool has_any = e.reader || e.writer;
    if (had_any && !has_any) --user_fds_;
    if (!had_any && has_any) ++user_fds_;
    return old;
}

void Poller::clear() {
    forget_all();
    for (FdEntry& e : fds_) {
        for (CallbackNode* n : {e.reader, e.writer})
            if (n) {
                n->cancelled = true;
                n->decref();
            }
        e.reader = e.writer = nullptr;
        e.events = 0;
        ++e.gen;
    }
    user_fds_ = 0;
    internal_fds_ = 0;
}

}  // namespace tulip::detail
