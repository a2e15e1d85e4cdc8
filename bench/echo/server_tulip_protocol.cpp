// bench/echo/server_tulip_protocol.cpp — the echo server on tulip's
// Protocol/Transport layer: data_received(data) -> transport.write(data),
// as asyncio's Protocol echo. No coroutine per connection, no copy of the
// data on our side (the transport lends it from its read buffer).
// Usage: echo_tulip_protocol [port]; prints "PORT <n>" (see echo_common.hpp).
#include <tulip/tulip.hpp>

#include <memory>
#include <string_view>

#include "echo_common.hpp"

using namespace tulip;

namespace {

class Echo final : public Protocol {
public:
    void connection_made(Transport& t) override { transport_ = &t; }
    void data_received(std::string_view data) override { transport_->write(data); }

private:
    Transport* transport_ = nullptr;
};

Coro<int> amain(int port) {
    ServerOptions options;
    options.backlog = echo::kBacklog;
    Server server = co_await create_server([] { return std::make_unique<Echo>(); }, "127.0.0.1",
                                           static_cast<std::uint16_t>(port), options);
    echo::announce(server.addresses().at(0).port());
    co_await server.serve_forever();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int port = echo::port_arg(argc, argv);
    echo::raise_nofile();
    return run(amain(port));
}
