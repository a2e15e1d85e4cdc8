// examples/examples.hpp — the example programs as functions, for the demo.
//
// Each examples/<name>.cpp is a complete program: its main() (compiled unless
// TULIP_DEMO is defined) just calls the function declared here. tulip_demo
// compiles the same files with TULIP_DEMO and calls them one after another,
// in one process. Each returns 0 when it showed what it set out to show.
#pragma once

namespace examples {

int hello_world();        // loop.call_soon + run_forever + stop
int factorial_tasks();    // three tasks interleaving at each co_await sleep()
int gather_sleeps();      // gather of 0.2 s and 0.3 s takes about 0.3 s
int fire_and_forget();    // a task nobody awaits still runs to completion
int run_in_executor();    // a blocking read on a worker thread; the loop keeps going
int cooperative_yield();  // a long computation that yields with sleep(0)
int how_it_works();       // a toy loop, Future and Task written from scratch

// Networking (127.0.0.1 only; server and clients are tasks in one process).
int selectors_echo();           // an echo server of add_reader callbacks on raw sockets
int nonblocking_walkthrough();  // polling a non-blocking socket vs awaiting sock_recv
int streams_echo();             // start_server + open_connection, readline/write/drain
int chat_server();              // a Protocol-based broadcast server, three clients
int udp_echo();                 // create_datagram_endpoint on both sides
int tls_echo();                 // the streams echo over TLS; a client that does not trust the server is refused
int https_request();            // an HTTP/1.1 request over a verified TLS connection with ALPN
int http_rest();                // a JSON REST service (routes, parameters, middleware) and its client
int http_static();              // add_static: sendfile, ETag and 304, ranges, no climbing out
int http_sse();                 // server-sent events: a streamed response, events seen as they happen
int download_timing();          // the same downloads one by one, on threads, and with gather: the timings
int tornado_fetch();            // Tornado's fetch with a callback, as a Future, and awaited
int top_posts();                // a JSON index, then its items 5 at a time (Semaphore), as they arrive
int crawler();                  // N workers share a Queue of URLs; join(), then cancel the workers

// Synchronisation and processes.
int log_queue();          // put_nowait from plain functions; a coroutine ships to a log server
int producer_consumer();  // a bounded Queue, task_done/join
int semaphore_pool();     // a Semaphore caps concurrency at 3
int comprehension();      // PEP 530 async comprehensions with AsyncGenerator/collect
int shell_commands();     // create_subprocess_shell + gather
int graceful_shutdown();  // Ctrl-C (self-sent SIGINT) cancels main; cleanup; KeyboardInterrupt

}  // namespace examples
