// Server and the accept loop, ported from asyncio base_events.Server and
// selector_events._accept_connection.
#include <tulip/net/server.hpp>

#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_set>

#include <tulip/core/exceptions.hpp>
#include <tulip/net/connection.hpp>
#include <tulip/net/dns.hpp>
#include <tulip/net/socket_transport.hpp>
#include <tulip/task/sleep.hpp>

#include "../core/sys.hpp"

namespace tulip::detail {

namespace {
constexpr double kAcceptRetryDelay = 1.0;  // asyncio constants.ACCEPT_RETRY_DELAY
}

struct ServerCore::Clients {
    std::unordered_set<Transport*> set;
};

ServerCore::ServerCore(EventLoop& loop, std::vector<Socket> sockets, ProtocolFactory factory, int backlog)
    : loop_(&loop), sockets_(std::move(sockets)), factory_(std::move(factory)), backlog_(backlog),
      clients_(make_owned<Clients>()) {
    for (auto& sock : sockets_) {
        try {
            SocketAddress a = sock.getsockname();
            if (a.family() != AF_UNIX) continue;
            std::string p = a.path();
            struct stat st;
            if (!p.empty() && p[0] != '\0' && ::stat(p.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
                unix_files_.push_back({std::move(p), static_cast<unsigned long long>(st.st_dev),
                                       static_cast<unsigned long long>(st.st_ino)});
        } catch (const std::exception&) {
            // no name to read: nothing to clean up
        }
    }
    link_to_loop(loop);
}

ServerCore::~ServerCore() = default;

void ServerCore::on_loop_close() noexcept {
    Ref<ServerCore> keep(this);  // dropping the accept readers drops their references
    waiters_.clear();
    serving_forever_ = Future<void>();
    try {
        close();
    } catch (...) {
        // remove_reader on a loop being closed: nothing left to report to
    }
}

void ServerCore::attach(Transport* t) { clients_->set.insert(t); }

std::size_t ServerCore::connection_count() const noexcept { return clients_->set.size(); }

void ServerCore::detach(Transport* t) {
    clients_->set.erase(t);
    if (clients_->set.empty() && closed_) wakeup();
    if (accept_paused_ && clients_->set.size() < max_clients_) {
        accept_paused_ = false;
        if (serving_ && !closed_)
            for (std::size_t i = 0; i < sockets_.size(); ++i) watch_socket(i);
    }
}

void ServerCore::set_max_connections(std::size_t n) {
    max_clients_ = n;
    if (accept_paused_ && (n == 0 || clients_->set.size() < n)) {
        accept_paused_ = false;
        if (serving_ && !closed_)
            for (std::size_t i = 0; i < sockets_.size(); ++i) watch_socket(i);
    }
}

void ServerCore::watch_socket(std::size_t i) {
    Ref<ServerCore> self(this);
    loop_->add_reader(sockets_[i].fileno(), [self, i] { self->accept_ready(static_cast<int>(i)); });
}

// At the connection limit the listening sockets leave the poller: new
// connections wait in the kernel's backlog (no fd is spent on them) until a
// client goes (detach).
void ServerCore::pause_accepting() {
    accept_paused_ = true;
    for (auto& s : sockets_) loop_->remove_reader(s.fileno());
}

void ServerCore::wakeup() {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters)
        if (!w.done()) w.set_result();
}

void ServerCore::start_serving() {
    if (serving_ || closed_) return;
    serving_ = true;
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        sockets_[i].listen(backlog_);
        if (!accept_paused_) watch_socket(i);
    }
}

void ServerCore::accept_ready(int index) {
    Socket& ls = sockets_[static_cast<std::size_t>(index)];
    for (int k = 0; k < backlog_; ++k) {
        if (max_clients_ != 0 && clients_->set.size() >= max_clients_) {
            pause_accepting();
            return;
        }
        SocketAddress peer;
        unsigned len = SocketAddress::capacity();
        int fd = sys::accept4(ls.fileno(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED) return;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                // Out of resources: stop accepting for a while rather than spin
                // at 100% CPU. The retry is armed before the socket is
                // unwatched: if it cannot be (out of memory too), the socket
                // stays watched rather than never accepting again.
                try {
                    Ref<ServerCore> self(this);
                    if (retry_.size() < sockets_.size()) retry_.resize(sockets_.size());
                    retry_[static_cast<std::size_t>(index)] = (loop_->call_later(kAcceptRetryDelay, [self, index] {
                        if (self->closed_ || !self->serving_ || self->accept_paused_) return;
                        self->watch_socket(static_cast<std::size_t>(index));
                    }));
                    loop_->remove_reader(ls.fileno());
                } catch (...) {}
                try {
                    loop_->call_exception_handler(
                        {"socket.accept() out of system resource", make_os_error(err, "accept"), "server", {}});
                } catch (...) {}
                return;
            }
            loop_->call_exception_handler(
                {"Error on accepting a connection", make_os_error(err, "accept"), "server", {}});
            return;
        }
        Socket conn(fd);
        try {
            conn.set_nodelay(true);  // asyncio sets TCP_NODELAY on every TCP transport
        } catch (...) {}
        try {
            auto proto = factory_();
            if (!proto) throw std::runtime_error("the protocol factory returned no protocol");
            make_socket_transport(*loop_, std::move(conn), std::move(proto), this);
        } catch (...) {
            loop_->call_exception_handler(
                {"Error creating a transport for an accepted connection", std::current_exception(), "server", {}});
        }
        // The factory runs inline (asyncio runs it in a later task) and may
        // have closed the server: `ls` is then a destroyed socket.
        if (closed_) return;
    }
}

void ServerCore::close() {
    if (closed_) return;
    closed_ = true;
    for (auto& h : retry_) h.cancel();
    retry_.clear();
    if (!loop_->is_closed())
        for (auto& s : sockets_) loop_->remove_reader(s.fileno());
    // Our Unix socket files are ours to remove (asyncio does it on close
    // too), unless something else has replaced them since.
    for (auto& f : unix_files_) {
        struct stat st;
        if (::stat(f.path.c_str(), &st) == 0 && static_cast<unsigned long long>(st.st_dev) == f.dev &&
            static_cast<unsigned long long>(st.st_ino) == f.ino)
            ::unlink(f.path.c_str());
    }
    unix_files_.clear();
    sockets_.clear();
    serving_ = false;
    if (serving_forever_ && !serving_forever_.done()) serving_forever_.cancel();
    serving_forever_ = Future<void>();
    if (clients_->set.empty()) wakeup();
}

void ServerCore::close_clients() {
    std::vector<Transport*> copy(clients_->set.begin(), clients_->set.end());
    for (auto* t : copy) t->close();
}

void ServerCore::abort_clients() {
    std::vector<Transport*> copy(clients_->set.begin(), clients_->set.end());
    for (auto* t : copy) t->abort();
}

Coro<void> ServerCore::wait_closed(Ref<ServerCore> self) {
    if (self->closed_ && self->clients_->set.empty()) co_return;
    auto w = Future<void>::create(*self->loop_);
    self->waiters_.push_back(w);
    co_await w;
}

Coro<void> ServerCore::serve_forever(Ref<ServerCore> self) {
    if (self->serving_forever_) throw std::runtime_error("the server is already being awaited on serve_forever()");
    if (self->closed_) throw std::runtime_error("the server is closed");
    co_await self->serve_forever_body();
}

Coro<void> ServerCore::serve_forever_body() {
    start_serving();
    serving_forever_ = Future<void>::create(*loop_);
    Future<void> f = serving_forever_;
    std::exception_ptr cancelled;
    try {
        co_await f;
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    serving_forever_ = Future<void>();
    if (cancelled) {
        close();
        co_await wait_closed(Ref<ServerCore>(this));
        std::rethrow_exception(cancelled);  // the original, with its message (as asyncio)
    }
}

namespace {

Socket listening_socket(const SocketAddress& addr, int family, bool reuse_address, bool reuse_port, bool v6only) {
    Socket s = Socket::create(family, SOCK_STREAM);
    if (reuse_address) s.set_reuse_address(true);
    if (reuse_port) s.set_reuse_port(true);
    if (family == AF_INET6 && v6only) s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    try {
        s.bind(addr);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "error while attempting to bind on address " + addr.to_string());
    }
    return s;
}

// With ServerOptions::ssl, each accepted connection's protocol sits on the
// TLS layer (asyncio's _accept_connection2 with sslcontext). The timeouts
// are checked here, before anything listens.
ProtocolFactory secure_factory(ProtocolFactory factory, const ServerOptions& o, EventLoop& loop) {
    const double* hs = o.ssl_handshake_timeout ? &*o.ssl_handshake_timeout : nullptr;
    const double* sd = o.ssl_shutdown_timeout ? &*o.ssl_shutdown_timeout : nullptr;
    check_ssl_timeouts(static_cast<bool>(o.ssl), hs, sd);
    if (!o.ssl) return factory;
    SecureLayerParams params;
    params.server_side = true;
    if (hs) params.handshake_timeout = *hs;
    if (sd) params.shutdown_timeout = *sd;
    return [factory = std::move(factory), ssl = o.ssl, params, lp = &loop]() -> std::unique_ptr<BaseProtocol> {
        return ssl.layer()->wrap(*lp, factory(), params, {});
    };
}

// Starts serving when asked. Cancelled in start_serving's one-iteration
// yield, the server nobody got is closed, not left listening for the loop's
// life (asyncio leaves it).
Coro<Server> started(Server server, bool start_serving) {
    if (start_serving) {
        try {
            co_await server.start_serving();
        } catch (...) {
            server.close();
            throw;
        }
    }
    co_return server;
}

}  // namespace

Coro<Server> create_server_impl(ProtocolFactory factory, std::vector<std::string> hosts, std::uint16_t port,
                                ServerOptions options) {
    EventLoop& loop = get_running_loop();
    factory = secure_factory(std::move(factory), options, loop);
    if (hosts.empty()) hosts.emplace_back();
    std::vector<Socket> socks;
    std::vector<SocketAddress> seen;
    for (auto& host : hosts) {
        AddrInfoOptions o;
        o.family = options.family;
        o.type = SOCK_STREAM;
        o.flags = AI_PASSIVE;
        auto infos = co_await getaddrinfo(host, port, o);
        for (auto& ai : infos) {
            bool dup = false;
            for (auto& s : seen) dup = dup || s == ai.address;
            if (dup) continue;
            seen.push_back(ai.address);
            socks.push_back(listening_socket(ai.address, ai.family, options.reuse_address, options.reuse_port,
                                             /*v6only=*/true));
        }
    }
    if (socks.empty()) throw std::runtime_error("create_server: no address to listen on");
    Server server(Ref<ServerCore>(new ServerCore(loop, std::move(socks), std::move(factory), options.backlog)));
    server.core()->set_max_connections(options.max_connections);
    co_return co_await started(std::move(server), options.start_serving);
}

Coro<Server> create_unix_server_impl(ProtocolFactory factory, std::string path, ServerOptions options) {
    EventLoop& loop = get_running_loop();
    factory = secure_factory(std::move(factory), options, loop);
    SocketAddress addr = SocketAddress::from_unix(path);
    remove_stale_unix_socket(path);
    Socket s = Socket::create(AF_UNIX, SOCK_STREAM);
    try {
        s.bind(addr);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "error while attempting to bind on address " + addr.to_string());
    }
    std::vector<Socket> socks;
    socks.push_back(std::move(s));
    Server server(Ref<ServerCore>(new ServerCore(loop, std::move(socks), std::move(factory), options.backlog)));
    server.core()->set_max_connections(options.max_connections);
    co_return co_await started(std::move(server), options.start_serving);
}

Server server_from_socket(ProtocolFactory factory, Socket sock, ServerOptions options) {
    EventLoop& loop = get_running_loop();
    require_stream_socket(sock, "create_server");
    factory = secure_factory(std::move(factory), options, loop);
    std::vector<Socket> socks;
    socks.push_back(std::move(sock));
    Ref<ServerCore> core(new ServerCore(loop, std::move(socks), std::move(factory), options.backlog));
    core->set_max_connections(options.max_connections);
    if (options.start_serving) core->start_serving();
    return Server(core);
}

}  // namespace tulip::detail

namespace tulip {

Coro<void> Server::start_serving(Ref<detail::ServerCore> core) {
    core->start_serving();
    co_await sleep(0);  // one iteration so the readers are in place (asyncio does the same)
}

std::vector<SocketAddress> Server::addresses() const {
    std::vector<SocketAddress> out;
    for (auto& s : core_->sockets()) out.push_back(s.getsockname());
    return out;
}

}  // namespace tulip
