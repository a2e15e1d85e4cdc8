// bench/tls/server_tulip_streams.cpp — the TLS echo server as a tulip user
// writes it with streams (bench/echo/server_tulip_streams.cpp plus
// `o.server.ssl = ctx`): per connection
//     data = co_await reader.read(65536); writer.write(data); co_await writer.drain();
// --sink: read until EOF and drop it. See tls_common.hpp for the options.

#include <tulip/tls/ssl_context.hpp>
#include <tulip/tulip.hpp>

#include "tls_common.hpp"

using namespace tulip;

namespace {

Coro<void> echo(StreamReader reader, StreamWriter writer) {
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

Coro<void> sink(StreamReader reader, StreamWriter writer) {
    try {
        for (;;) {
            std::string data = co_await reader.read(echo::kReadSize);
            if (data.empty()) break;
        }
    } catch (const std::exception&) {}
    writer.close();
}

Coro<int> amain(tlsbench::Args a) {
    ssl::SSLContext ctx(ssl::PROTOCOL_TLS_SERVER);
    ctx.load_cert_chain(a.cert, a.key);
    ctx.set_minimum_version(ssl::TLSVersion::TLSv1_3);
    ctx.set_ciphersuites(tlsbench::kSuite);
    ctx.set_num_tickets(0);
    StreamOptions options;
    options.server.backlog = echo::kBacklog;
    options.server.ssl = ctx;
    ClientConnected cb = a.sink ? ClientConnected(sink) : ClientConnected(echo);
    Server server = co_await start_server(std::move(cb), "127.0.0.1", static_cast<std::uint16_t>(a.port), options);
    echo::announce(server.addresses().at(0).port());
    co_await server.serve_forever();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    tlsbench::Args a = tlsbench::parse(argc, argv);
    echo::raise_nofile();
    return run(amain(a));
}
