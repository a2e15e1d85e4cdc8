// src/loop/uring_poller.hpp — the io_uring backend of Poller.
//
// Readiness (add_reader & co.): one-shot IORING_OP_POLL_ADD requests,
// re-armed at the start of the next poll() while a watcher remains: that
// re-check is what makes it level-triggered like epoll and the selectors
// module (a multishot poll only reports wake-ups, so an fd left readable
// would never be reported again). Arming costs no syscall of its own: new
// requests go to the kernel with the wait (one io_uring_enter per
// iteration). Disarming is submitted at once, since a pending request holds
// the file open: a transport that stops watching and closes its socket must
// really close it.
//
// Receiving (stream transports, set(..., receive=true)): a multishot recv
// into a ring of provided buffers (IORING_REGISTER_PBUF_RING) instead of a
// poll; the kernel reads as data arrives, with no recv() syscall; each chunk
// waits in the fd's queue, its reader is queued as for a poll, and takes the
// chunks with next_received, lending the buffer until release_received.
// Data is never dropped by a disarm (pause_reading): what was received stays
// queued for the next reader; only discard_received (the owner closes the
// fd) drops it.
//
// The ring is single-issuer with deferred task work (IORING_SETUP_SINGLE_ISSUER
// | DEFER_TASKRUN): completions are only made when the loop asks for them, no
// interrupt per completion, which measured ~2x cheaper than the default mode
// (bench/RESULTS.md). Such a ring belongs to one thread, but a loop may be
// built on one thread and run on another, or run by several in turn: the ring
// starts disabled (nothing reaches the kernel before the loop first runs),
// the first poll() enables it on its thread, and a poll() on another thread
// later moves everything to a new ring made there. A change made off the
// ring's thread (closing a transport after the loop's thread ended) waits in
// the submission queue for the next poll(), or for the ring's end.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <vector>

#include "poller.hpp"

namespace tulip::detail {

class UringPoller final : public Poller {
public:
    // Throws std::system_error when the kernel refuses io_uring (ENOSYS, or
    // EPERM under the io_uring_disabled sysctl or a seccomp filter).
    UringPoller();
    ~UringPoller() override;

    std::string_view name() const noexcept override { return "io_uring"; }
    void add_wake_fd(int fd) override;
    bool poll(int timeout_ms, NodeQueue& ready) override;

    bool can_receive() const noexcept override { return true; }
    bool next_received(int fd, Received& out) noexcept override;
    void release_received(const Received& r) noexcept override;
    void unreceive(int fd, std::size_t taken) noexcept override;
    void discard_received(int fd) noexcept override;

private:
    void interest_changed(int fd, FdEntry& e) override;
    void forget_all() noexcept override;

    void setup_ring();
    bool on_ring_thread() const noexcept;
    void take_ring_to_this_thread(NodeQueue& ready);
    io_uring_sqe* next_sqe();
    void arm(int fd, FdEntry& e, unsigned dir);
    void disarm(int fd, FdEntry& e, unsigned dir);
    void submit_now();
    void submit_and_get_events();
    void wait(int timeout_ms);
    bool reap(NodeQueue& ready);
    void on_received(io_uring_cqe* cqe, std::uint64_t ud, NodeQueue& ready);
    bool report_received(NodeQueue& ready);
    // Lists fd in to_report_ (noexcept: from next_received and unreceive); if
    // the list cannot grow (bad_alloc), every queue is scanned instead.
    void note_to_report(int fd) noexcept;
    void setup_buffers();
    void register_buffers();
    void recycle(std::uint32_t bid) noexcept;

    io_uring ring_{};
    bool single_issuer_ = false;
    std::uint64_t ring_thread_ = 0;  // the thread that enabled the ring (0: not yet)
    int wake_fd_ = -1;
    bool wake_armed_ = false;
    // (fd << 1 | dir) of requests that ended while their watcher stays: armed
    // again by the next poll().
    std::vector<std::uint64_t> rearm_;

    // Receiving: the provided buffers (made on first use) and what each fd
    // was given and has not taken.
    struct RecvQueue {
        std::vector<Received> items;
        std::size_t head = 0;
        bool empty() const noexcept { return head == items.size(); }
    };
    std::vector<RecvQueue> received_;  // by fd
    std::vector<int> to_report_;       // fds whose readers may have chunks to take
    bool scan_all_received_ = false;   // to_report_ could not grow: look at every queue
    io_uring_buf_ring* br_ = nullptr;
    char* bufs_ = nullptr;
    std::vector<std::uint8_t> lent_;  // by buffer id: held by a queue, not in the ring
    std::uint32_t br_entries_ = 0;
};

}  // namespace tulip::detail
