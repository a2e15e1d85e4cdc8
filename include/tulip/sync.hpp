// tulip/sync.hpp — synchronisation primitives and queues (asyncio's locks.py,
// queues.py). Single loop, not thread-safe, as in asyncio.
//
//   sync/lock.hpp       Lock          sync/event.hpp      Event
//   sync/condition.hpp  Condition     sync/semaphore.hpp  Semaphore, BoundedSemaphore
//   sync/barrier.hpp    Barrier       sync/queue.hpp      Queue, PriorityQueue, LifoQueue
// (sync/waiters.hpp is internal.)
#pragma once

#include <tulip/sync/barrier.hpp>
#include <tulip/sync/condition.hpp>
#include <tulip/sync/event.hpp>
#include <tulip/sync/lock.hpp>
#include <tulip/sync/queue.hpp>
#include <tulip/sync/semaphore.hpp>
#include <tulip/task.hpp>
