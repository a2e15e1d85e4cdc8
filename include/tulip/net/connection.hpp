// tulip/net/connection.hpp — create_connection, create_unix_connection
// (asyncio loop.create_connection / loop.create_unix_connection).
//
// Resolves host, then tries every address in turn — or, with
// happy_eyeballs_delay set, races them RFC 8305 style: the next attempt
// starts when the previous fails or after the delay, the first to connect
// wins and the others are cancelled. Addresses are interleaved by family
// (`interleave`, 1 by default when racing). Returns the transport and the
// protocol the factory made (owned by the transport; the ProtocolRef keeps it
// alive).
//
// Errors: when every attempt fails, the error of the single address, or a
// std::system_error "Multiple exceptions: ..." listing them (as asyncio).
// Cancel safety: safe; pending attempts are cancelled and their sockets
// closed, and a transport made before the cancel is closed (as asyncio).
// Thread safety: loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tulip/core/ref.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/net/address.hpp>
#include <tulip/net/dns.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/secure_layer.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/net/socket_transport.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

struct ConnectOptions {
    int family = AF_UNSPEC;
    std::optional<SocketAddress> local_addr;     // bind before connecting
    std::optional<double> happy_eyeballs_delay;  // seconds; asyncio recommends 0.25
    int interleave = 0;                          // 0: 1 when racing, else none
    // When every address fails: false raises the one error, or an OSError-like
    // std::system_error naming them all; true raises an ExceptionGroup of
    // every attempt's error (asyncio 3.12 all_errors=True).
    bool all_errors = false;
    // TLS (asyncio's ssl=, server_hostname=, ssl_handshake_timeout=,
    // ssl_shutdown_timeout=): with ssl set (an ssl::SSLContext) the
    // connection completes only after the handshake, and the transport
    // returned is the secure one. server_hostname defaults to the host
    // connected to (SNI and the name the certificate is checked against);
    // "" sends no SNI and checks no name. Timeouts in seconds (60 and 30 by
    // default); either of them without ssl raises std::invalid_argument.
    SecureContext ssl;
    std::optional<std::string> server_hostname;
    std::optional<double> ssl_handshake_timeout;
    std::optional<double> ssl_shutdown_timeout;
};

// Connects a TCP socket to host:port (every address tried, see above).
Coro<Socket> open_tcp_socket(std::string host, std::uint16_t port, ConnectOptions options = {});
// The same, to addresses resolved already (by a Resolver): tried in order,
// or raced with options.happy_eyeballs_delay.
Coro<Socket> open_tcp_socket(std::vector<AddrInfo> infos, ConnectOptions options);
// Connects a Unix stream socket to path.
Coro<Socket> open_unix_socket(std::string path);

namespace detail {
// A client connection's TLS settings, checked (asyncio's ValueErrors:
// server_hostname or a timeout without ssl; ssl without a host or
// server_hostname). host: the default server_hostname.
struct ClientTls {
    SecureContext ssl;
    SecureLayerParams params;
};
ClientTls client_tls(const ConnectOptions& options, const std::string& host);
// Wraps a connected socket and waits until connection_made has run (asyncio's
// waiter); with TLS, until the handshake is done, and returns the secure transport.
Coro<Ref<Transport>> connect_transport(Socket sock, std::unique_ptr<BaseProtocol> protocol, ClientTls tls);
// GCC 12.2 bug: a coroutine parameter filled from a default argument `= {}`
// of a class with a std::string member is destroyed twice (free(): invalid
// pointer). Plain text goes through this overload, which passes a named object.
inline Coro<Ref<Transport>> connect_transport(Socket sock, std::unique_ptr<BaseProtocol> protocol) {
    ClientTls plain;
    return connect_transport(std::move(sock), std::move(protocol), std::move(plain));
}
// asyncio's check on a caller's socket: std::invalid_argument unless it is a
// SOCK_STREAM socket ("A Stream Socket was expected").
void require_stream_socket(const Socket& sock, const char* what);
}  // namespace detail

// {transport, protocol}: the protocol handle keeps the transport (its owner)
// alive, so it stays valid as long as it is held, whatever happens to the
// connection or to `first` (see ProtocolRef).
template <class P>
using ConnectionPair = std::pair<Ref<Transport>, ProtocolRef<P, Transport>>;

namespace detail {
template <class F>
using factory_protocol_t = typename std::invoke_result_t<F&>::element_type;

// With TLS the protocol is owned by the TLS layer, which the secure
// transport keeps alive: the ProtocolRef stays valid the same way.
template <class F>
Coro<ConnectionPair<factory_protocol_t<F>>> wrap_connected(F factory, Socket sock, ClientTls tls) {
    auto proto = factory();
    if (!proto) throw std::runtime_error("the protocol factory returned no protocol");
    auto* p = proto.get();
    Ref<Transport> t = co_await connect_transport(std::move(sock), std::move(proto), std::move(tls));
    co_return ConnectionPair<factory_protocol_t<F>>(t, ProtocolRef<factory_protocol_t<F>, Transport>(t, p));
}
template <class F>
Coro<ConnectionPair<factory_protocol_t<F>>> connect_tcp(F factory, std::string host, std::uint16_t port,
                                                        ConnectOptions options) {
    ClientTls tls = client_tls(options, host);
    Socket s = co_await open_tcp_socket(std::move(host), port, std::move(options));
    co_return co_await wrap_connected(std::move(factory), std::move(s), std::move(tls));
}
template <class F>
Coro<ConnectionPair<factory_protocol_t<F>>> connect_unix(F factory, std::string path, ConnectOptions options) {
    ClientTls tls = client_tls(options, std::string());
    Socket s = co_await open_unix_socket(std::move(path));
    co_return co_await wrap_connected(std::move(factory), std::move(s), std::move(tls));
}
}  // namespace detail

// factory() returns std::unique_ptr<P>; the result is {transport, protocol}.
template <class F>
auto create_connection(F factory, std::string host, std::uint16_t port, ConnectOptions options = {}) {
    return detail::connect_tcp(std::move(factory), std::move(host), port, std::move(options));
}
// With an already connected socket (asyncio: sock=). A socket that is not
// SOCK_STREAM is refused here (std::invalid_argument), before any await.
// options: only the TLS fields apply (ssl needs server_hostname here).
template <class F>
auto create_connection(F factory, Socket sock, ConnectOptions options = {}) {
    detail::require_stream_socket(sock, "create_connection");
    return detail::wrap_connected(std::move(factory), std::move(sock), detail::client_tls(options, std::string()));
}
// options: only the TLS fields apply (ssl needs server_hostname here).
template <class F>
auto create_unix_connection(F factory, std::string path, ConnectOptions options = {}) {
    return detail::connect_unix(std::move(factory), std::move(path), std::move(options));
}

}  // namespace tulip
