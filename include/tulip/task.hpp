// tulip/task.hpp — the task layer (asyncio's futures.py, tasks.py,
// taskgroups.py, timeouts.py, runners.py).
//
//   task/coro.hpp             Coro<T>, what a coroutine function returns
//   task/future.hpp           Future<T>
//   task/task.hpp             Task<T>, create_task, ensure_future, current_task, all_tasks
//   task/runner.hpp           run, Runner
//   task/loop_threads.hpp     run_threads (one loop per thread)
//   task/sleep.hpp            sleep
//   task/gather.hpp           gather   task/outcome.hpp  Outcome<T> (return_exceptions)
//   task/wait.hpp             wait, as_completed
//   task/wait_for.hpp         wait_for
//   task/timeout.hpp          timeout, timeout_at, Timeout
//   task/shield.hpp           shield
//   task/task_group.hpp       task_group, TaskGroup
//   task/to_thread.hpp        to_thread
//   task/threadsafe.hpp       run_coroutine_threadsafe
//   task/async_generator.hpp  AsyncGenerator (async def ... yield)
//   task/graph.hpp            capture_call_graph, print_call_graph
#pragma once

#include <tulip/loop.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/graph.hpp>
#include <tulip/task/loop_threads.hpp>
#include <tulip/task/outcome.hpp>
#include <tulip/task/runner.hpp>
#include <tulip/task/shield.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/task_group.hpp>
#include <tulip/task/threadsafe.hpp>
#include <tulip/task/timeout.hpp>
#include <tulip/task/to_thread.hpp>
#include <tulip/task/wait.hpp>
#include <tulip/task/wait_for.hpp>
