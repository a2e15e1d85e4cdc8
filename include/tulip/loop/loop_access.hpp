// tulip/loop/loop_access.hpp — the one door from the layers above into the
// loop's engine (no asyncio counterpart: asyncio's futures and tasks call the
// loop's private methods, _call_soon, _timer_handle_cancelled, time()).
//
// Not user API. The task, sync, net, streams and process layers schedule task
// steps and awaiter nodes, arm timers, read the clock in nanoseconds, count
// thread work in flight, watch the transports' fds and keep their per-loop
// state (LoopExtension) through
// these static forwarders; EventLoop keeps all of it private and names this
// type its friend, so its public face stays asyncio's. Each forwarder is
// inline: going through here costs nothing over a member call.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include <tulip/loop/event_loop.hpp>

namespace tulip::detail {

struct LoopAccess {
    // ---- the ready queue and the timer heap ----------------------------------
    static void schedule(EventLoop& l, ReadyNode* n) noexcept { l.schedule(n); }
    static void schedule_all(EventLoop& l, NodeQueue& q) noexcept { l.schedule_all(q); }
    // Takes a scheduled node back out of the ready queue (O(queue length):
    // for rare paths, such as a transport closed by the loop's close while its
    // own connection_lost is queued).
    static bool unschedule(EventLoop& l, ReadyNode* n) noexcept { return l.ready_.remove(n); }
    static void add_timer(EventLoop& l, TimerNode* t, ReadyNode* node, std::int64_t when_ns) {
        l.add_timer(t, node, when_ns);
    }
    static void remove_timer(EventLoop& l, TimerNode* t) noexcept { l.remove_timer(t); }

    // ---- the clock, in nanoseconds -------------------------------------------
    static constexpr std::int64_t kNeverNs = EventLoop::kNeverNs;
    static std::int64_t now_ns(const EventLoop& l) noexcept { return l.now_ns(); }
    static std::int64_t to_ns(Seconds s, const char* what = "delay") { return EventLoop::to_ns(s, what); }
    static std::int64_t deadline_ns(double when_seconds, const char* what = "when") {
        return EventLoop::deadline_ns(when_seconds, what);
    }
    static std::int64_t deadline_after(const EventLoop& l, std::int64_t delay_ns) noexcept {
        return l.deadline_after(delay_ns);
    }

    // ---- checks ----------------------------------------------------------------
    static void check_closed(const EventLoop& l) { l.check_closed(); }
    static void check_thread(const EventLoop& l, const char* what) { l.check_thread(what); }
    static bool virtual_time(const EventLoop& l) noexcept { return l.virtual_; }

    // ---- work on other threads -------------------------------------------------
    // Counted while it runs: a virtual-time loop waits for it for real.
    static std::atomic<int>& external_pending(EventLoop& l) noexcept { return l.external_pending_; }
    static void track_in_flight(EventLoop& l, void* obj, void (*release)(void*) noexcept) {
        l.track_in_flight(obj, release);
    }
    static bool untrack_in_flight(EventLoop& l, void* obj) noexcept { return l.untrack_in_flight(obj); }
    static std::shared_ptr<Executor> default_executor_if_any(const EventLoop& l) noexcept {
        return l.default_executor_if_any();
    }
    // Made on first use; tests and jobs that post back by hand reach it here.
    static Executor& default_executor(EventLoop& l) { return l.default_executor(); }

    // ---- file descriptors, for the transports ---------------------------------
    // add_reader & co. minus the checks that refuse a transport's own fd.
    template <class F>
    static void watch_reader(EventLoop& l, int fd, F&& f) {
        l.watch_reader(fd, std::forward<F>(f));
    }
    template <class F>
    static void watch_writer(EventLoop& l, int fd, F&& f) {
        l.watch_writer(fd, std::forward<F>(f));
    }
    static bool unwatch_reader(EventLoop& l, int fd) { return l.unwatch_reader(fd); }
    // Completion-based reading (io_uring): the poller reads for the transport.
    static bool can_receive(const EventLoop& l) noexcept { return l.can_receive(); }
    template <class F>
    static void watch_receiver(EventLoop& l, int fd, F&& f) {
        l.watch_receiver(fd, std::forward<F>(f));
    }
    static bool next_received(EventLoop& l, int fd, Received& out) noexcept { return l.next_received(fd, out); }
    static void release_received(EventLoop& l, const Received& r) noexcept { l.release_received(r); }
    static void unreceive(EventLoop& l, int fd, std::size_t taken) noexcept { l.unreceive(fd, taken); }
    static bool unwatch_writer(EventLoop& l, int fd) { return l.unwatch_writer(fd); }
    // A transport claims its fd for its life (nullptr releases it): add_reader(fd) refuses it.
    static void set_fd_owner(EventLoop& l, int fd, FdOwner* owner) { l.set_fd_owner(fd, owner); }

    // ---- the upper layers' slot (see LoopExtension) ----------------------------
    static LoopExtension* extension(const EventLoop& l) noexcept { return l.extension_; }
    // Installs ext (owned by the loop from here on); the slot must be empty.
    static void set_extension(EventLoop& l, LoopExtension* ext) noexcept { l.extension_ = ext; }

    // ---- stepping (tests count iterations, as CPython's test_utils.run_once) --
    static void run_once(EventLoop& l) { l.run_once(); }
};

}  // namespace tulip::detail
