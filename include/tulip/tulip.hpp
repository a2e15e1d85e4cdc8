// tulip/tulip.hpp — everything tulip offers, as `import asyncio` does.
//
// Organization (bottom layer first; each uses only those above it here):
//   core/   exceptions (CancelledError, TimeoutError, ExceptionGroup, ...)
//   loop/   EventLoop, Handle/TimerHandle, LoopRef, executors, ConcurrentFuture
//   task/   Future, Coro, Task, sleep, gather, wait, wait_for, timeout,
//           shield, TaskGroup, to_thread, run_coroutine_threadsafe, run/Runner
//   sync/   Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier,
//           Queue, PriorityQueue, LifoQueue
//   net/    SocketAddress, Socket, sock_* operations, getaddrinfo, Protocol and
//           Transport, create_connection, create_server/Server, UDP, Unix
//   streams/ StreamReader, StreamWriter, open_connection, start_server
//   process/ create_subprocess_exec/_shell, Process
//   http/   Application, Request, Response, http::start_server; ClientSession,
//           ClientResponse (HTTP/1.1 on llhttp)
#pragma once

// One umbrella per layer; each includes the layers below it.
#include <tulip/core.hpp>
#include <tulip/http.hpp>
#include <tulip/loop.hpp>
#include <tulip/net.hpp>
#include <tulip/process.hpp>
#include <tulip/streams.hpp>
#include <tulip/sync.hpp>
#include <tulip/task.hpp>
#include <tulip/tls.hpp>
