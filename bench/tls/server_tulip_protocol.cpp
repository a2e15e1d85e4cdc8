// bench/tls/server_tulip_protocol.cpp — the TLS echo server on tulip's
// Protocol/Transport layer (bench/echo/server_tulip_protocol.cpp plus
// ServerOptions::ssl): data_received(data) -> transport.write(data).
// --sink: data_received drops the data. See tls_common.hpp for the options.

#include <tulip/tls/ssl_context.hpp>
#include <tulip/tulip.hpp>

#include <memory>
#include <string_view>

#include "tls_common.hpp"

using namespace tulip;

namespace {

class Echo final : public Protocol {
public:
    void connection_made(Transport& t) override { transport_ = &t; }
    void data_received(std::string_view data) override { transport_->write(data); }

private:
    Transport* transport_ = nullptr;
};

class Sink final : public Protocol {
public:
    void data_received(std::string_view) override {}
};

Coro<int> amain(tlsbench::Args a) {
    ssl::SSLContext ctx(ssl::PROTOCOL_TLS_SERVER);
    ctx.load_cert_chain(a.cert, a.key);
    ctx.set_minimum_version(ssl::TLSVersion::TLSv1_3);
    ctx.set_ciphersuites(tlsbench::kSuite);
    ctx.set_num_tickets(0);
    ServerOptions options;
    options.backlog = echo::kBacklog;
    options.ssl = ctx;
    ProtocolFactory factory;
    if (a.sink)
        factory = [] { return std::make_unique<Sink>(); };
    else
        factory = [] { return std::make_unique<Echo>(); };
    Server server =
        co_await create_server(std::move(factory), "127.0.0.1", static_cast<std::uint16_t>(a.port), options);
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
