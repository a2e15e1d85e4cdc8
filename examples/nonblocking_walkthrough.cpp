// nonblocking_walkthrough.cpp — blocking, non-blocking, and awaiting a socket.
//
// The classic walk-through: a server takes 2 s to answer; what does a client
// see while it waits?
//
//   * blocking socket: `sock.recv(100)` sits there for 2 s. The thread can do
//     nothing else meanwhile — here it would be worse: the server runs in the
//     same thread, on the same loop, so a blocking recv() would never return.
//   * non-blocking socket: `sock.recv(100)` returns at once with EAGAIN
//     (Python: BlockingIOError) while there is nothing to read. The program
//     must try again later — polling — and each try that finds nothing is a
//     wasted system call.
//   * asyncio: `await loop.sock_recv(sock, 100)` tries once, and on EAGAIN asks
//     the loop to wake it when the socket is readable (epoll). The task sleeps
//     without polling, and every other task keeps running meanwhile.
//
// To keep the demo quick the server answers after 0.2 s instead of 2 s.
//
// Everything runs in one process on 127.0.0.1, with port 0 (any free port):
// the server is a task, each client is a coroutine awaited by main.
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

constexpr auto kThinkTime = 200ms;  // the walk-through's 2 s, shortened for the demo
constexpr auto kPollEvery = 10ms;   // how long the polling client pauses between tries

// Accepts `clients` connections, one after another; reads a question from
// each and answers it after kThinkTime. (It owns the listening socket.)
tulip::Coro<void> slow_server(tulip::Socket listener, int clients) {
    for (int i = 0; i < clients; ++i) {
        auto [conn, peer] = co_await tulip::sock_accept(listener);
        std::string question = co_await tulip::sock_recv(conn, 100);
        co_await tulip::sleep(kThinkTime);             // "thinking"
        std::string answer = "answer to " + question;  // GCC 12.2: no temporary inside co_await
        co_await tulip::sock_sendall(conn, answer);
    }  // conn closes at the end of each iteration
}

tulip::Coro<tulip::Socket> connect_and_ask(std::uint16_t port, std::string question) {
    tulip::Socket sock = tulip::Socket::create(AF_INET);  // tulip::Socket is always non-blocking
    co_await tulip::sock_connect(sock, tulip::SocketAddress::from_ip("127.0.0.1", port));
    co_await tulip::sock_sendall(sock, question);
    co_return sock;
}

// 1) Non-blocking recv(), polled by hand.
tulip::Coro<bool> polling_client(std::uint16_t port) {
    auto& loop = tulip::get_running_loop();
    tulip::Socket sock = co_await connect_and_ask(port, "question 1");
    double start = loop.time();
    int eagains = 0;
    std::string answer;
    for (;;) {
        char buf[100];
        ssize_t n = ::recv(sock.fileno(), buf, sizeof buf, 0);  // returns at once, always
        if (n >= 0) {
            answer.assign(buf, static_cast<std::size_t>(n));
            break;
        }
        if (errno != EAGAIN && errno != EINTR) throw std::system_error(errno, std::generic_category(), "recv");
        if (eagains++ == 0) std::printf("   recv() -> EAGAIN at once: no data yet, \"try again later\"\n");
        // Try again later. A tight loop without this pause would never let the
        // server (a task on this same loop) run, so the answer would never come.
        co_await tulip::sleep(kPollEvery);
    }
    std::printf("   got \"%s\" after %.1f s and %d EAGAINs (each one a wasted recv() call)\n", answer.c_str(),
                loop.time() - start, eagains);
    co_return answer == "answer to question 1" && eagains > 0;
}

// Counts ticks until told to stop: proof that the loop is free meanwhile.
tulip::Coro<void> ticker(int* ticks, const bool* stop) {
    while (!*stop) {
        co_await tulip::sleep(20ms);
        ++*ticks;
    }
}

// 2) Awaiting sock_recv(): no polling; the loop wakes the task when data arrives.
tulip::Coro<bool> awaiting_client(std::uint16_t port) {
    auto& loop = tulip::get_running_loop();
    int ticks = 0;
    bool stop = false;
    tulip::Task<void> ticking = tulip::create_task(ticker(&ticks, &stop));
    tulip::Socket sock = co_await connect_and_ask(port, "question 2");
    double start = loop.time();
    std::string answer = co_await tulip::sock_recv(sock, 100);  // suspends this task only
    double waited = loop.time() - start;
    stop = true;
    co_await ticking;
    std::printf("   got \"%s\" after %.1f s; no polling, and another task ticked %s meanwhile\n", answer.c_str(),
                waited, ticks > 0 ? "freely" : "NOT ONCE");
    co_return answer == "answer to question 2" && ticks > 0;
}

tulip::Coro<int> amain() {
    tulip::Socket listener = tulip::Socket::create(AF_INET);
    listener.bind(tulip::SocketAddress::from_ip("127.0.0.1", 0));
    listener.listen();
    std::uint16_t port = listener.getsockname().port();
    tulip::Task<void> server = tulip::create_task(slow_server(std::move(listener), 2));
    std::printf("server: answers each question after 0.2 s (the walk-through says 2 s; shortened for the demo)\n");

    std::printf("1) a non-blocking socket, polled every 10 ms:\n");
    bool ok1 = co_await polling_client(port);
    std::printf("2) co_await sock_recv(sock, 100):\n");
    bool ok2 = co_await awaiting_client(port);
    co_await server;
    co_return (ok1 && ok2) ? 0 : 1;
}

}  // namespace

int examples::nonblocking_walkthrough() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::nonblocking_walkthrough(); }
#endif
