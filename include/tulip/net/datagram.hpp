// tulip/net/datagram.hpp — create_datagram_endpoint (asyncio
// loop.create_datagram_endpoint) and its DatagramTransport.
//
// local_addr binds, remote_addr connects (then sendto() may omit the address
// and only that peer's datagrams arrive); with allow_broadcast, remote_addr is
// not connected, only the address sendto() uses when given none (asyncio).
// Datagrams are sent at once; what the kernel refuses with EAGAIN waits in a
// queue, with asyncio's flow control: pause_writing() above the high-water
// mark (64 KiB), resume_writing() at the low-water mark (16 KiB); see
// DatagramTransport in transport.hpp. Errors of a send or receive (e.g. ICMP port unreachable on a
// connected socket) go to protocol.error_received() and do not close the
// endpoint.
// Cancel safety: create_datagram_endpoint is safe: a transport made before the
// cancel is closed (as asyncio).
// Thread safety: loop thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <tulip/core/ref.hpp>
#include <tulip/net/address.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

struct DatagramOptions {
    std::optional<SocketAddress> local_addr;
    std::optional<SocketAddress> remote_addr;
    bool reuse_port = false;
    bool allow_broadcast = false;
};

namespace detail {
Coro<Ref<DatagramTransport>> datagram_endpoint_impl(std::unique_ptr<DatagramProtocol> protocol,
                                                    DatagramOptions options);
Ref<DatagramTransport> make_datagram_transport(EventLoop& loop, Socket sock, std::unique_ptr<DatagramProtocol> protocol,
                                               std::optional<SocketAddress> peer, bool peer_connected = true);
Coro<Ref<DatagramTransport>> datagram_endpoint_from_socket(std::unique_ptr<DatagramProtocol> protocol, Socket sock);
template <class F>
using datagram_protocol_t = typename std::invoke_result_t<F&>::element_type;
template <class P>
using DatagramPair = std::pair<Ref<DatagramTransport>, ProtocolRef<P, DatagramTransport>>;
// Either binds/connects a new socket (options) or wraps sock when one is given.
template <class F>
Coro<DatagramPair<datagram_protocol_t<F>>> datagram_endpoint(F factory, DatagramOptions options, Socket sock) {
    auto proto = factory();
    if (!proto) throw std::runtime_error("the protocol factory returned no protocol");
    auto* p = proto.get();
    Ref<DatagramTransport> t;
    if (sock)
        t = co_await datagram_endpoint_from_socket(std::move(proto), std::move(sock));
    else
        t = co_await datagram_endpoint_impl(std::move(proto), std::move(options));
    co_return DatagramPair<datagram_protocol_t<F>>(t, ProtocolRef<datagram_protocol_t<F>, DatagramTransport>(t, p));
}
}  // namespace detail

// factory() returns std::unique_ptr<P> for a DatagramProtocol P. Returns
// {transport, protocol}; the ProtocolRef keeps the transport, which owns the
// protocol, alive while held.
template <class F>
auto create_datagram_endpoint(F factory, DatagramOptions options) {
    if (!options.local_addr && !options.remote_addr)
        throw std::invalid_argument("create_datagram_endpoint: local_addr or remote_addr is required");
    return detail::datagram_endpoint(std::move(factory), std::move(options), Socket());
}
// On an existing SOCK_DGRAM socket, bound or connected already (asyncio:
// sock=); another type raises std::invalid_argument ("A datagram socket was
// expected"). A connected socket's peer is the endpoint's peer.
template <class F>
auto create_datagram_endpoint(F factory, Socket sock) {
    return detail::datagram_endpoint(std::move(factory), DatagramOptions{}, std::move(sock));
}

}  // namespace tulip
