// The loop's cold state: what the hot path (call_soon, schedule, run_once's
// callbacks) never touches, kept behind one pointer so that event_loop.hpp
// needs neither <unordered_map> nor the executor's definition, and so that
// the hot members share fewer cache lines.
#pragma once

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/executor.hpp>

namespace tulip::detail {

struct LoopCold {
    EventLoop::ExceptionHandler handler;
    std::shared_ptr<Executor> default_executor;
    // Jobs in flight on other threads and how to release what each holds
    // (EventLoop::track_in_flight).
    std::unordered_map<void*, void (*)(void*) noexcept> in_flight;
    // Signal handlers, indexed by signal number, and the self-pipe's write end
    // (the read end is EventLoop::signal_read_fd_, polled by run_once).
    std::vector<CallbackNode*> signal_handlers;
    int signal_write_fd = -1;
    // The kernel thread id in run_forever (0: not running), for check_thread.
    std::atomic<int> owner_tid{0};
};

}  // namespace tulip::detail
