// tulip/tulip.hpp — everything tulip offers, as `import asyncio` does.
//
// Organization (bottom layer first; each uses only those above it here):
//   core/   exceptions (CancelledError, TimeoutError, ExceptionGroup, ...)
//   loop/   EventLoop, Handle/TimerHandle, executors
//   task/   Future, Coro, Task, sleep, gather, wait, wait_for, timeout,
//           shield, TaskGroup, to_thread, run_coroutine_threadsafe, run/Runner
//   sync/   Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier,
//           Queue, PriorityQueue, LifoQueue
#pragma once

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/executor.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/gather.hpp>
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
#include <tulip/sync/barrier.hpp>
#include <tulip/sync/condition.hpp>
#include <tulip/sync/event.hpp>
#include <tulip/sync/lock.hpp>
#include <tulip/sync/queue.hpp>
#include <tulip/sync/semaphore.hpp>
