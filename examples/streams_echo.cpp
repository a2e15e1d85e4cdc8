// streams_echo.cpp — a TCP echo server and client, with streams.
//
// The asyncio original (docs: "TCP echo server/client using streams"):
//
//     async def handle_echo(reader, writer):
//         data = await reader.read(100)
//         addr = writer.get_extra_info('peername')
//         print(f"Received {data.decode()!r} from {addr!r}")
//         writer.write(data)
//         await writer.drain()
//         writer.close()
//         await writer.wait_closed()
//
//     async def tcp_echo_client(message):
//         reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//         writer.write(message.encode())
//         await writer.drain()
//         data = await reader.read(100)
//         print(f'Received: {data.decode()!r}')
//         writer.close()
//         await writer.wait_closed()
//
//     server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888)
//
// Streams are the high-level API: start_server() runs handle_echo as a new
// task for every connection, with a StreamReader and a StreamWriter;
// open_connection() gives the client the same pair. Here the server echoes
// line by line (readline) until the client closes, and both sides run in
// one process, on 127.0.0.1 with a port the system picks (port 0).
//
// write() never blocks: it queues the bytes. `co_await drain()` is the flow
// control — it waits while too much is queued (a slow peer) and returns at
// once otherwise. Call it after writing.
#include <any>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

// Strips the line ending, for printing.
std::string_view chomp(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    return line;
}

// The server side of one connection (a task of its own, started by start_server).
tulip::Coro<void> handle_echo(tulip::StreamReader reader, tulip::StreamWriter writer) {
    // get_extra_info() returns a std::any, as asyncio's returns "any object".
    auto peer = std::any_cast<tulip::SocketAddress>(writer.get_extra_info("peername"));
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;  // "": the client closed its end (EOF)
        std::cout << "server: received \"" << chomp(line) << "\" from " << peer.host() << ", sending it back\n";
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

tulip::Coro<bool> tcp_echo_client(std::uint16_t port) {
    auto [reader, writer] = co_await tulip::open_connection("127.0.0.1", port);
    static constexpr std::string_view kMessages[] = {"Hello World!", "streams are the high-level API"};
    bool all_match = true;
    for (std::string_view message : kMessages) {
        std::cout << "client: send \"" << message << "\"\n";
        std::string line(message);
        line += '\n';
        writer.write(line);
        co_await writer.drain();
        std::string echo = co_await reader.readline();
        std::cout << "client: received \"" << chomp(echo) << "\"\n";
        all_match = all_match && echo == line;
    }
    std::cout << "client: close the connection\n";
    writer.close();
    co_await writer.wait_closed();
    co_return all_match;
}

tulip::Coro<int> amain() {
    tulip::Server server = co_await tulip::start_server(handle_echo, "127.0.0.1", 0);
    std::uint16_t port = server.addresses().at(0).port();  // the port the system picked
    std::cout << "serving on 127.0.0.1 (port 0 asked the system for a free one)\n";

    bool ok = co_await tcp_echo_client(port);

    // Stop listening, then wait until every connection is gone (the handler
    // closes its side once it reads EOF).
    server.close();
    co_await server.wait_closed();
    std::cout << "server closed; every echo " << (ok ? "matched" : "DID NOT match") << "\n";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::streams_echo() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::streams_echo(); }
#endif
