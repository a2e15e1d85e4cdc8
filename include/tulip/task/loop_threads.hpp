// tulip/task/loop_threads.hpp — one event loop per thread: run_threads.
//
// asyncio runs one loop per process and scales with processes; this runs n
// loops in one process, one per thread (optionally pinned to a CPU), as
// nginx's workers or a thread-per-core runtime do. Nothing is shared on the
// hot path: each worker runs its own main on its own loop, with its own
// tasks, transports and servers (a server per worker, all on one port with
// ServerOptions::reuse_port, lets the kernel spread the connections). Loops
// talk through LoopRef (call_soon_threadsafe) and run_coroutine_threadsafe.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include <tulip/loop/loop_ref.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/runner.hpp>

namespace tulip {

namespace detail {
struct LoopThreadsAccess;
}

struct LoopThreadsOptions {
    // How many loops; 0 takes std::thread::hardware_concurrency().
    std::size_t threads = 0;
    // Pins worker i to CPU (first_cpu + i) % number of CPUs.
    bool pin = false;
    std::size_t first_cpu = 0;
    // Each worker's Runner. Worker 0 runs on the calling thread, so in the
    // main thread Ctrl-C cancels it (handle_sigint), and then the others.
    RunnerOptions runner{};
};

// What every worker's main is given: the loops of all workers.
class LoopThreads {
public:
    std::size_t size() const noexcept { return loops_.size(); }
    // Worker i's loop (its door: call_soon_threadsafe, run_coroutine_threadsafe).
    const LoopRef& loop(std::size_t i) const { return loops_.at(i); }

private:
    explicit LoopThreads(std::size_t n) : loops_(n) {}
    std::vector<LoopRef> loops_;  // each filled by its worker before any main starts
    friend struct detail::LoopThreadsAccess;
};

using LoopThreadMain = std::function<Coro<void>(std::size_t index, const LoopThreads& loops)>;

// Runs main(i, loops) on each of n loops, one thread each (worker 0 on the
// calling thread), every loop with its own Runner; returns once every main
// has returned and every loop is closed. As a TaskGroup: the first main to
// fail has the other mains cancelled, and its exception is rethrown once all
// have ended (a main that ends by cancellation is not a failure unless the
// cancel came from outside, e.g. Ctrl-C: then KeyboardInterrupt is rethrown).
// All loops exist before any main starts, so loops.loop(j) is valid at once.
void run_threads(LoopThreadMain main, LoopThreadsOptions options = {});

}  // namespace tulip
