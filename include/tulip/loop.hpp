// tulip/loop.hpp — the event loop layer (asyncio's events.py, base_events.py,
// concurrent.futures for the executors). Knows callbacks, timers and file
// descriptors, not coroutines.
//
//   loop/event_loop.hpp        EventLoop, get_running_loop, new_event_loop
//   loop/handle.hpp            Handle, TimerHandle
//   loop/loop_ref.hpp          LoopRef, a loop reference other threads may keep
//   loop/executor.hpp          Job, Executor (what run_in_executor needs)
//   loop/thread_pool.hpp       ThreadPoolExecutor
//   loop/concurrent_future.hpp ConcurrentFuture (concurrent.futures.Future)
// (loop/nodes.hpp, loop/debug.hpp and loop/fd_owner.hpp are internal.)
#pragma once

#include <tulip/core.hpp>
#include <tulip/loop/concurrent_future.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/executor.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/loop/loop_ref.hpp>
#include <tulip/loop/thread_pool.hpp>
