// graceful_shutdown.cpp — a long-running server that stops cleanly on Ctrl-C.
//
// The asyncio shape:
//
//     async def main():
//         server = await asyncio.start_server(handle, '127.0.0.1', 0)
//         try:
//             await asyncio.Future()           # serve until cancelled
//         except asyncio.CancelledError:
//             print("shutting down")
//             server.close()
//             server.close_clients()           # 3.13
//             await server.wait_closed()
//             raise                            # let asyncio.run() see it
//
//     try:
//         asyncio.run(main())
//     except KeyboardInterrupt:
//         print("bye")                         # exit status 0
//
// What happens on Ctrl-C: asyncio.run() (tulip::run, tulip::Runner) installs
// a SIGINT handler for as long as it runs. The first Ctrl-C does not kill the
// process: it cancels the main task. main sees CancelledError at its
// co_await, cleans up — closes the server and waits for its connections to
// go — and lets the cancellation through. run() then throws
// tulip::KeyboardInterrupt, which main() catches to exit normally. (A second
// Ctrl-C during the cleanup would kill the process, as usual.)
//
// A real user presses Ctrl-C in the terminal. So that this program can run as
// an automatic test, it sends itself SIGINT after 0.3 s — the same signal, by
// the same route: kill(getpid(), SIGINT).
//
// C++ note: a catch block cannot co_await, so main only records the
// cancellation in the catch, does its awaiting cleanup after it, then
// rethrows the saved exception.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

struct Report {
    bool cancelled = false;   // main saw CancelledError
    bool cleaned_up = false;  // the server closed and its connections ended
    bool client_saw_eof = false;
};

// The server side of a connection: greets, then answers lines until EOF.
tulip::Coro<void> handle_client(tulip::StreamReader reader, tulip::StreamWriter writer) {
    writer.write("welcome\n");
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;  // EOF: the client left, or the server closed this connection
        std::string reply = "you said: " + line;
        writer.write(reply);
        co_await writer.drain();
    }
    writer.close();
}

// A client that talks once, then stays connected (as real clients do) until
// the server goes away.
tulip::Coro<void> client(std::uint16_t port, Report* report) {
    auto [reader, writer] = co_await tulip::open_connection("127.0.0.1", port);
    std::string greeting = co_await reader.readline();
    std::cout << "client: got " << greeting;
    writer.write("hello\n");
    std::string reply = co_await reader.readline();
    std::cout << "client: got " << reply;
    std::string rest = co_await reader.read();  // until EOF: blocks until the server shuts down
    report->client_saw_eof = rest.empty() && reader.at_eof();
    writer.close();
    co_await writer.wait_closed();
}

tulip::Coro<void> amain(Report* report) {
    auto& loop = tulip::get_running_loop();
    tulip::Server server = co_await tulip::start_server(handle_client, "127.0.0.1", 0);
    std::cout << "server: serving; press Ctrl-C to stop\n";
    std::cout << "(nobody will: this program sends itself SIGINT in 0.3 s)\n";
    loop.call_later(300ms, [] { ::kill(::getpid(), SIGINT); });

    tulip::Task<void> visitor = tulip::create_task(client(server.addresses().at(0).port(), report));

    std::exception_ptr cancellation;
    try {
        tulip::Future<void> forever = loop.create_future<void>();  // nobody completes it
        co_await forever;                                          // serve until cancelled
    } catch (const tulip::CancelledError&) {
        cancellation = std::current_exception();  // cannot co_await in here: clean up below
    }
    report->cancelled = cancellation != nullptr;
    std::cout << "main: cancelled (that was Ctrl-C); shutting down\n";

    server.close();  // stop accepting new connections
    std::cout << "main: the server stopped listening; closing its connections\n";
    server.close_clients();         // asyncio 3.13: close every accepted connection
    co_await server.wait_closed();  // returns once every connection is gone
    co_await visitor;               // the client noticed and finished
    report->cleaned_up = true;
    std::cout << "main: server closed; the client " << (report->client_saw_eof ? "saw" : "did NOT see")
              << " the connection end; cleanup done\n";

    if (cancellation) std::rethrow_exception(cancellation);  // the Runner must see the cancellation
}

// Makes sure SIGINT reaches this program as a terminal's Ctrl-C would. A
// process started in the background by a non-interactive shell inherits
// SIGINT *ignored*; the Runner then leaves Ctrl-C alone (as asyncio.Runner
// does) and the self-sent signal would be lost. Returns the old disposition.
struct sigaction default_sigint() {
    struct sigaction dfl {
    }, old{};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGINT, &dfl, &old);
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, SIGINT);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return old;
}

}  // namespace

int examples::graceful_shutdown() {
    struct sigaction old = default_sigint();
    Report report;
    int status = 1;
    try {
        tulip::run(amain(&report));
        std::cout << "run() returned normally: the signal never arrived\n";
    } catch (const tulip::KeyboardInterrupt&) {
        std::cout << "main(): caught KeyboardInterrupt; exiting with status 0\n";
        status = (report.cancelled && report.cleaned_up && report.client_saw_eof) ? 0 : 1;
    }
    ::sigaction(SIGINT, &old, nullptr);
    return status;
}

#ifndef TULIP_DEMO
int main() { return examples::graceful_shutdown(); }
#endif
