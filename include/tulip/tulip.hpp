// tulip/tulip.hpp — everything tulip offers, as `import asyncio` does.
//
// Organization (bottom layer first; each uses only those above it here):
//   core/   exceptions (CancelledError, TimeoutError, ExceptionGroup, ...)
//   loop/   EventLoop, Handle/TimerHandle, executors
//   task/   Future, Coro, Task, sleep, gather, wait, wait_for, timeout,
//           shield, TaskGroup, to_thread, run_coroutine_threadsafe, run/Runner
//   sync/   Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier,
//           Queue, PriorityQueue, LifoQueue
//   net/    SocketAddress, Socket, sock_* operations, getaddrinfo, Protocol and
//           Transport, create_connection, create_server/Server, UDP, Unix
//   streams/ StreamReader, StreamWriter, open_connection, start_server
//   process/ create_subprocess_exec/_shell, Process
#pragma once

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/concurrent_future.hpp>
#include <tulip/loop/executor.hpp>
#include <tulip/loop/thread_pool.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/outcome.hpp>
#include <tulip/task/runner.hpp>
#include <tulip/task/shield.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/graph.hpp>
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
#include <tulip/net/address.hpp>
#include <tulip/net/connection.hpp>
#include <tulip/net/datagram.hpp>
#include <tulip/net/dns.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/sendfile.hpp>
#include <tulip/net/server.hpp>
#include <tulip/net/sock_ops.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/net/pipe_transport.hpp>
#include <tulip/streams/open_connection.hpp>
#include <tulip/streams/pipes.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/streams/stream_writer.hpp>
#include <tulip/process/subprocess.hpp>
