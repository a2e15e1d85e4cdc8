// bench/echo/server_tulip_streams.cpp — the echo server as a tulip user
// writes it with streams: start_server, then per connection
//     data = co_await reader.read(65536); writer.write(data); co_await writer.drain();
// (asyncio's streams echo, line for line). With --exact S the handler reads
// messages of a known size with readexactly(S) instead.
// Usage: echo_tulip_streams [--exact S] [port]; prints "PORT <n>" (see echo_common.hpp).
#include <tulip/tulip.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "echo_common.hpp"

using namespace tulip;

namespace {

std::size_t g_exact = 0;  // 0: read(); else readexactly(g_exact)

Coro<void> echo_read(StreamReader reader, StreamWriter writer) {
    try {
        for (;;) {
            std::string data = co_await reader.read(echo::kReadSize);
            if (data.empty()) break;
            writer.write(data);
            co_await writer.drain();
        }
    } catch (const std::exception&) {
        // the peer reset the connection: nothing to report
    }
    writer.close();
}

Coro<void> echo_exact(StreamReader reader, StreamWriter writer) {
    try {
        for (;;) {
            std::string data = co_await reader.readexactly(g_exact);
            writer.write(data);
            co_await writer.drain();
        }
    } catch (const std::exception&) {
        // IncompleteReadError at EOF, or a reset
    }
    writer.close();
}

Coro<int> amain(int port) {
    StreamOptions options;
    options.server.backlog = echo::kBacklog;
    ClientConnected cb = g_exact ? ClientConnected(echo_exact) : ClientConnected(echo_read);
    Server server = co_await start_server(std::move(cb), "127.0.0.1", static_cast<std::uint16_t>(port), options);
    echo::announce(server.addresses().at(0).port());
    co_await server.serve_forever();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::strcmp(argv[1], "--exact") == 0) {
        g_exact = static_cast<std::size_t>(std::atol(argv[2]));
        argv[2] = argv[0];
        argc -= 2;
        argv += 2;
    }
    int port = echo::port_arg(argc, argv);
    echo::raise_nofile();
    return run(amain(port));
}
