// tulip/net/server.hpp — Server, create_server, create_unix_server
// (asyncio.Server, loop.create_server, loop.create_unix_server).
//
// A Server listens on one or more sockets and gives each accepted connection
// a fresh protocol from the factory and a transport. close() stops listening
// at once; wait_closed() returns when the server is closed AND every
// connection it accepted is gone (asyncio 3.12.1+). serve_forever() serves
// until cancelled, then closes and waits. close_clients()/abort_clients()
// close the accepted connections.
//
// Errors: binding failures throw std::system_error naming the address.
// When accept() runs out of fds (EMFILE/ENFILE/ENOBUFS/ENOMEM) the server
// stops accepting for 1 s (asyncio's ACCEPT_RETRY_DELAY) instead of spinning.
// Cancel safety: create_server/create_unix_server are safe: a server made
// before the cancel is closed (asyncio leaves it listening); wait_closed() and
// start_serving() are safe; serve_forever() is ended by a cancel, and closes
// the server and waits for it (asyncio).
// Thread safety: loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <tulip/core/owned.hpp>
#include <tulip/core/ref.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/net/address.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/secure_layer.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

using ProtocolFactory = std::function<std::unique_ptr<BaseProtocol>()>;

namespace detail {

class ServerCore final : public RefCounted, private LoopClosable {
public:
    ServerCore(EventLoop& loop, std::vector<Socket> sockets, ProtocolFactory factory, int backlog);
    ~ServerCore() override;

    void attach(Transport* t);
    void detach(Transport* t);

    void start_serving();
    void close();
    bool is_serving() const noexcept { return serving_; }
    bool is_closed() const noexcept { return closed_; }
    const std::vector<Socket>& sockets() const noexcept { return sockets_; }
    void close_clients();
    void abort_clients();
    // At most n connections at once (0: no limit); see ServerOptions.
    void set_max_connections(std::size_t n);
    std::size_t connection_count() const noexcept;
    bool is_accept_paused() const noexcept { return accept_paused_; }
    // Accept retry handles held (for tests: at most one per listening socket).
    std::size_t retry_handle_count() const noexcept {
        std::size_t n = 0;
        for (auto& h : retry_) n += static_cast<bool>(h);
        return n;
    }
    static Coro<void> wait_closed(Ref<ServerCore> self);
    static Coro<void> serve_forever(Ref<ServerCore> self);
    EventLoop& loop() const noexcept { return *loop_; }

private:
    // The loop closes first: stop listening without waking anyone (the
    // waiting tasks are torn down with the loop); close() is then a no-op and
    // wait_closed() returns at once.
    void on_loop_close() noexcept override;
    Coro<void> serve_forever_body();
    void accept_ready(int index);
    void watch_socket(std::size_t index);
    void pause_accepting();
    void wakeup();
    EventLoop* loop_;
    std::vector<Socket> sockets_;
    // The Unix socket files this server made or adopted, as (path, device,
    // inode) when it started: close() removes a file only if it is still
    // that one (asyncio 3.13 compares st_ino the same way).
    struct UnixFile {
        std::string path;
        unsigned long long dev, ino;
    };
    std::vector<UnixFile> unix_files_;
    ProtocolFactory factory_;
    int backlog_;
    // Raw: each transport holds a Ref to us and detaches in connection_lost,
    // before it can die (asyncio's _attach/_detach). A hash set defined in
    // server.cpp: keeps <unordered_set> out of this header.
    struct Clients;
    Owned<Clients> clients_;
    std::vector<Future<void>> waiters_;
    Future<void> serving_forever_;
    // One pending accept retry per listening socket (index-aligned with
    // sockets_): a new out-of-fds episode replaces the fired handle instead
    // of adding one (issue 8, finding 13).
    std::vector<Handle> retry_;
    std::size_t max_clients_ = 0;
    bool accept_paused_ = false;
    bool serving_ = false;
    bool closed_ = false;
};

}  // namespace detail

class Server {
public:
    Server() = default;
    explicit Server(Ref<detail::ServerCore> core) : core_(std::move(core)) {}

    void close() { core_->close(); }
    // The returned coroutines hold the server's core: they stay valid after
    // this handle is gone (CP.53: nothing is borrowed from `this`).
    Coro<void> wait_closed() { return detail::ServerCore::wait_closed(core_); }
    Coro<void> serve_forever() { return detail::ServerCore::serve_forever(core_); }
    // Starts accepting (when created with start_serving = false).
    Coro<void> start_serving() { return start_serving(core_); }
    bool is_serving() const noexcept { return core_->is_serving(); }
    // The listening sockets; empty once closed.
    const std::vector<Socket>& sockets() const noexcept { return core_->sockets(); }
    // Addresses the server listens on (handy with port 0).
    std::vector<SocketAddress> addresses() const;
    void close_clients() { core_->close_clients(); }
    void abort_clients() { core_->abort_clients(); }
    // The accepted connections still open (tulip's own).
    std::size_t connection_count() const noexcept { return core_->connection_count(); }
    EventLoop& get_loop() const noexcept { return core_->loop(); }
    explicit operator bool() const noexcept { return static_cast<bool>(core_); }
    const Ref<detail::ServerCore>& core() const noexcept { return core_; }

private:
    static Coro<void> start_serving(Ref<detail::ServerCore> core);
    Ref<detail::ServerCore> core_;
};

struct ServerOptions {
    int family = AF_UNSPEC;
    int backlog = 100;
    bool reuse_address = true;  // asyncio's default on POSIX
    bool reuse_port = false;
    bool start_serving = true;
    // TLS (asyncio's ssl=, ssl_handshake_timeout=, ssl_shutdown_timeout=): a
    // server ssl::SSLContext. Each connection's protocol sees
    // connection_made only after its handshake; a failed or stalled
    // handshake closes that connection alone (reported in debug mode only,
    // as asyncio).
    SecureContext ssl;
    std::optional<double> ssl_handshake_timeout;
    std::optional<double> ssl_shutdown_timeout;
    // tulip's own (asyncio has none): at most this many accepted connections
    // at once, 0 for no limit. At the limit the server stops accepting and
    // new connections wait in the listen backlog until one closes, so a
    // flood costs no file descriptors.
    std::size_t max_connections = 0;
};

namespace detail {
Coro<Server> create_server_impl(ProtocolFactory factory, std::vector<std::string> hosts, std::uint16_t port,
                                ServerOptions options);
Coro<Server> create_unix_server_impl(ProtocolFactory factory, std::string path, ServerOptions options);
Server server_from_socket(ProtocolFactory factory, Socket sock, ServerOptions options);

template <class F>
ProtocolFactory to_protocol_factory(F&& f) {
    return [fn = std::forward<F>(f)]() -> std::unique_ptr<BaseProtocol> { return fn(); };
}
}  // namespace detail

// factory() returns std::unique_ptr<P> for a Protocol/BufferedProtocol P.
// host "" listens on every interface (IPv4 and IPv6); port 0 picks a free port.
template <class F>
Coro<Server> create_server(F factory, std::string host, std::uint16_t port, ServerOptions options = {}) {
    return detail::create_server_impl(detail::to_protocol_factory(std::move(factory)),
                                      std::vector<std::string>{std::move(host)}, port, options);
}
// Several hosts at once (asyncio: host as a sequence).
template <class F>
Coro<Server> create_server(F factory, std::vector<std::string> hosts, std::uint16_t port, ServerOptions options = {}) {
    return detail::create_server_impl(detail::to_protocol_factory(std::move(factory)), std::move(hosts), port, options);
}
// An already bound (listening or not) socket (asyncio: sock=).
template <class F>
Server create_server(F factory, Socket sock, ServerOptions options = {}) {
    return detail::server_from_socket(detail::to_protocol_factory(std::move(factory)), std::move(sock), options);
}
// A Unix socket at path (a leading '\0': abstract namespace). A stale socket
// file at path is removed first, as asyncio does.
template <class F>
Coro<Server> create_unix_server(F factory, std::string path, ServerOptions options = {}) {
    return detail::create_unix_server_impl(detail::to_protocol_factory(std::move(factory)), std::move(path), options);
}

}  // namespace tulip
