// udp_echo.cpp — a UDP echo server and client, both DatagramProtocols.
//
// The asyncio original (docs: "UDP Echo Server" / "UDP Echo Client"):
//
//     class EchoServerProtocol:
//         def connection_made(self, transport):
//             self.transport = transport
//         def datagram_received(self, data, addr):
//             print('Received %r from %s' % (data.decode(), addr))
//             self.transport.sendto(data, addr)
//
//     class EchoClientProtocol:
//         def __init__(self, message, on_con_lost): ...
//         def connection_made(self, transport):
//             transport.sendto(self.message.encode())
//         def datagram_received(self, data, addr):
//             print("Received:", data.decode())
//             self.transport.close()
//         def connection_lost(self, exc):
//             self.on_con_lost.set_result(True)
//
//     transport, protocol = await loop.create_datagram_endpoint(
//         EchoServerProtocol, local_addr=('127.0.0.1', 9999))
//     transport, protocol = await loop.create_datagram_endpoint(
//         lambda: EchoClientProtocol(message, on_con_lost), remote_addr=('127.0.0.1', 9999))
//     await on_con_lost
//
// UDP has no connection: each datagram stands alone and carries its sender's
// address. The server binds (local_addr) and answers whoever wrote; the
// client "connects" (remote_addr), so its sendto() needs no address and only
// the server's datagrams reach it. Here the client sends three messages, one
// at a time (the next when the echo of the previous came back), then closes.
// Over loopback nothing is lost; over a real network UDP may drop or reorder
// datagrams and a client would need timeouts and retries.
#include <any>
#include <cstddef>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

class EchoServerProtocol : public tulip::DatagramProtocol {
public:
    void connection_made(tulip::DatagramTransport& transport) override { transport_ = &transport; }
    void datagram_received(std::string_view data, const tulip::SocketAddress& addr) override {
        std::cout << "server: received \"" << data << "\" from " << addr.host() << ", sending it back\n";
        transport_->sendto(data, &addr);
    }

private:
    tulip::DatagramTransport* transport_ = nullptr;
};

class EchoClientProtocol : public tulip::DatagramProtocol {
public:
    EchoClientProtocol(std::vector<std::string> messages, tulip::Future<void> on_con_lost)
        : messages_(std::move(messages)), on_con_lost_(std::move(on_con_lost)) {}

    void connection_made(tulip::DatagramTransport& transport) override {
        transport_ = &transport;
        send_next();
    }
    void datagram_received(std::string_view data, const tulip::SocketAddress&) override {
        std::cout << "client: received \"" << data << "\"\n";
        if (data == messages_[next_ - 1]) ++matched_;
        if (next_ < messages_.size())
            send_next();
        else
            transport_->close();  // connection_lost follows, on the loop
    }
    void error_received(std::exception_ptr exc) override {
        std::cout << "client: error " << tulip::describe_exception(exc) << "\n";
    }
    void connection_lost(std::exception_ptr) override {
        std::cout << "client: closed\n";
        on_con_lost_.set_result();
    }
    std::size_t matched() const { return matched_; }

private:
    void send_next() {
        const std::string& m = messages_[next_++];
        std::cout << "client: send \"" << m << "\"\n";
        transport_->sendto(m);  // connected: no address needed
    }

    std::vector<std::string> messages_;
    tulip::Future<void> on_con_lost_;
    tulip::DatagramTransport* transport_ = nullptr;
    std::size_t next_ = 0;
    std::size_t matched_ = 0;
};

tulip::Coro<int> amain() {
    tulip::EventLoop& loop = tulip::get_running_loop();

    // The server: bound to 127.0.0.1, port 0 (the system picks a free one).
    tulip::DatagramOptions server_opts;
    server_opts.local_addr = tulip::SocketAddress::from_ip("127.0.0.1", 0);
    auto [server, server_protocol] =
        co_await tulip::create_datagram_endpoint([] { return std::make_unique<EchoServerProtocol>(); }, server_opts);
    (void)server_protocol;
    auto server_addr = std::any_cast<tulip::SocketAddress>(server->get_extra_info("sockname"));

    // The client: "connected" to the server's address.
    tulip::Future<void> on_con_lost = loop.create_future<void>();
    std::vector<std::string> messages{"Hello World!", "UDP keeps message boundaries", "bye"};
    tulip::DatagramOptions client_opts;
    client_opts.remote_addr = server_addr;
    auto factory = [&messages, on_con_lost] { return std::make_unique<EchoClientProtocol>(messages, on_con_lost); };
    auto [client, client_protocol] = co_await tulip::create_datagram_endpoint(factory, client_opts);

    co_await on_con_lost;                              // the client closed itself after the last echo
    std::size_t matched = client_protocol->matched();  // still alive: `client` holds the transport
    server->close();
    std::cout << matched << " of " << messages.size() << " echoes matched\n";
    co_return matched == messages.size() ? 0 : 1;
}

}  // namespace

int examples::udp_echo() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::udp_echo(); }
#endif
