// src/loop/poller.hpp — what the loop waits on for I/O (asyncio's selector).
// Internal: the loop owns one, chosen at construction (EventLoopOptions::poller,
// TULIP_POLLER): epoll (EpollPoller) or io_uring (UringPoller). Both report
// readiness level-triggered, as selectors do: a reader whose fd is still
// readable after its callback ran is reported again the next iteration.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <tulip/loop/nodes.hpp>

namespace tulip::detail {

class Poller {
public:
    virtual ~Poller() = default;
    Poller() = default;
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    virtual std::string_view name() const noexcept = 0;
    // Installs (or replaces, or with nullptr clears) the reader/writer of fd.
    // Returns the node it replaced (the caller owns its reference). On error
    // the new node's reference is dropped and the table is left as it was.
    // receive (a reader on a stream socket, pollers that can_receive()): the
    // poller reads for it, and the reader takes the data with next_received.
    CallbackNode* set(int fd, bool write, CallbackNode* node, bool receive = false);

    // ---- completion-based reading (io_uring); the defaults: not supported ----
    virtual bool can_receive() const noexcept { return false; }
    // The next chunk received on fd, if any; a data chunk's buffer is lent
    // until release_received.
    virtual bool next_received(int fd, Received& out) noexcept {
        (void)fd;
        (void)out;
        return false;
    }
    virtual void release_received(const Received& r) noexcept { (void)r; }
    // Puts back the chunk next_received just gave, less its first `taken`
    // bytes (its buffer stays lent); its reader is asked again next iteration.
    virtual void unreceive(int fd, std::size_t taken) noexcept {
        (void)fd;
        (void)taken;
    }
    // Drops what was received on fd and not taken (its owner closes it).
    virtual void discard_received(int fd) noexcept { (void)fd; }
    // Adds the special wake-up fd (eventfd); its events are reported by poll()'s result.
    virtual void add_wake_fd(int fd) = 0;
    // Waits up to timeout_ms (-1 forever, 0 poll) and pushes the callbacks of
    // ready fds onto `ready` (each push takes a reference). Returns whether the
    // wake fd fired.
    virtual bool poll(int timeout_ms, NodeQueue& ready) = 0;
    // Watched fds whose readiness matters between iterations (not the loop's own).
    std::size_t user_fd_count() const noexcept { return user_fds_ - internal_fds_; }
    void adjust_internal_fds(int delta) noexcept { internal_fds_ += static_cast<std::size_t>(delta); }
    // Drops every reader and writer (loop close).
    void clear();

protected:
    struct FdEntry {
        CallbackNode* reader = nullptr;
        CallbackNode* writer = nullptr;
        std::uint32_t events = 0;  // epoll: the registered mask; io_uring: the armed directions (1 read, 2 write)
        std::uint32_t gen = 0;     // io_uring: bumped on every disarm, so a late completion is known stale
        std::uint16_t epoch = 0;   // io_uring: bumped when received data is discarded (the fd's owner closes it)
        bool receive = false;      // the reader is a receiver (see set)
    };
    // The backend's part of set(): the watchers of fd changed (`e` already
    // holds the new ones). Throws to refuse (set() then restores the old node).
    virtual void interest_changed(int fd, FdEntry& e) = 0;
    // The backend's part of clear(), before the table is emptied.
    virtual void forget_all() noexcept = 0;
    // Queues the watchers an event on fd wakes. Errors and hang-ups wake both
    // sides, as the selectors module reports them.
    void report(FdEntry& e, bool readable, bool writable, NodeQueue& ready) noexcept {
        // A watcher is normally run (dequeued) by the iteration that polled it;
        // if it is still queued (a callback threw out of run_forever, or called
        // run_once itself, before it ran), that one run answers this report too:
        // its node must not be queued twice.
        if (readable && e.reader && !e.reader->cancelled && !e.reader->queued()) {
            e.reader->incref();
            ready.push(e.reader);
        }
        if (writable && e.writer && !e.writer->cancelled && !e.writer->queued()) {
            e.writer->incref();
            ready.push(e.writer);
        }
    }
    FdEntry* entry(int fd) noexcept {
        return static_cast<std::size_t>(fd) < fds_.size() ? &fds_[static_cast<std::size_t>(fd)] : nullptr;
    }

    std::vector<FdEntry> fds_;

private:
    std::size_t user_fds_ = 0;
    std::size_t internal_fds_ = 0;  // e.g. the signal pipe: see EventLoop::poll_signals
};

}  // namespace tulip::detail
