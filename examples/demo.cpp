// demo.cpp — tulip_demo: a short guided tour of the examples, in one process.
//
// Each section runs one program from examples/ (the same code as its own
// executable: see examples.hpp) and says what to look for in its output.
// Exit status 0 when every section showed what it set out to show.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "examples.hpp"

namespace {

struct Section {
    const char* name;
    const char* shows;
    int (*run)();
};

constexpr Section kSections[] = {
    {"hello_world", "the loop at its simplest: call_soon() a callback that prints and calls stop()",
     &examples::hello_world},
    {"factorial_tasks", "three tasks started by gather(), taking turns at every co_await sleep()",
     &examples::factorial_tasks},
    {"gather_sleeps", "gather() of a 0.2 s and a 0.3 s sleep takes about 0.3 s: they run at the same time",
     &examples::gather_sleeps},
    {"fire_and_forget", "create_task() without keeping the handle: the loop owns the task and runs it to the end",
     &examples::fire_and_forget},
    {"run_in_executor", "a blocking read() on a worker thread while a coroutine keeps ticking on the loop",
     &examples::run_in_executor},
    {"cooperative_yield", "a long computation that pauses with sleep(0) lets another task take turns",
     &examples::cooperative_yield},
    {"how_it_works", "the same machinery in miniature: a toy loop, Future and Task in ~200 lines",
     &examples::how_it_works},
    {"selectors_echo", "the level below coroutines: an echo server made only of add_reader/add_writer callbacks",
     &examples::selectors_echo},
    {"nonblocking_walkthrough",
     "recv() on a non-blocking socket says EAGAIN; co_await sock_recv() waits without polling",
     &examples::nonblocking_walkthrough},
    {"streams_echo", "start_server() and open_connection(): readline, write, drain, close", &examples::streams_echo},
    {"chat_server", "a Protocol-based chat room: each line goes to every other client (three in one process)",
     &examples::chat_server},
    {"udp_echo", "UDP with create_datagram_endpoint(): a DatagramProtocol on each side", &examples::udp_echo},
    {"tls_echo", "the same echo over TLS: ssl= on start_server() and open_connection(); certificates are checked",
     &examples::tls_echo},
    {"https_request", "what an HTTPS client does: SNI, certificate check, ALPN http/1.1, then one request",
     &examples::https_request},
    {"http_rest", "an HTTP server of coroutines: a JSON to-do API with route parameters and a timing middleware",
     &examples::http_rest},
    {"http_static", "static files: sendfile, Content-Type, ETag and 304, a byte range, and a path that may not climb",
     &examples::http_static},
    {"http_sse", "server-sent events: a streamed response the client reads event by event", &examples::http_sse},
    {"download_timing", "the talks' first story: 12 slow downloads one by one, on threads, and with gather",
     &examples::download_timing},
    {"tornado_fetch", "Tornado's AsyncHTTPClient.fetch with a callback, as a Future, and with co_await",
     &examples::tornado_fetch},
    {"top_posts", "aiohttp's top posts: a JSON index, then its items five at a time, printed as they arrive",
     &examples::top_posts},
    {"crawler", "a crawler: four workers share a Queue of URLs; join() ends the crawl", &examples::crawler},
    {"log_queue", "plain functions log with put_nowait(); one coroutine ships the queue to a log server",
     &examples::log_queue},
    {"producer_consumer", "a bounded Queue: the producer waits when it is full; task_done() and join()",
     &examples::producer_consumer},
    {"semaphore_pool", "eight jobs, a Semaphore(3): never more than three at once", &examples::semaphore_pool},
    {"comprehension", "PEP 530's async comprehensions, as loops over AsyncGenerator::next() and asyncgen::collect()",
     &examples::comprehension},
    {"shell_commands", "four shell commands at once with create_subprocess_shell() and gather()",
     &examples::shell_commands},
    {"graceful_shutdown",
     "Ctrl-C (here self-sent) cancels main; it closes its server, then run() raises KeyboardInterrupt",
     &examples::graceful_shutdown},
};

}  // namespace

int main() {
    std::cout << "tulip demo: asyncio's classic examples, in C++20\n";
    auto t0 = std::chrono::steady_clock::now();
    int n = 0, failed = 0;
    for (const Section& s : kSections) {
        std::cout << "\n== " << ++n << ". " << s.name << " ==\n"
                  << "-- " << s.shows << "\n"
                  << std::flush;
        int rc = s.run();
        std::cout << std::flush;
        if (rc != 0) {
            ++failed;
            std::cout << "!! " << s.name << " did not show what it should (status " << rc << ")\n";
        }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "\n";
    std::printf("%d of %d examples showed what they should, in %.1f s.\n", n - failed, n, secs);
    std::printf("Each is also its own program: examples/<name>.cpp, built next to tulip_demo.\n");
    return failed == 0 ? 0 : 1;
}
