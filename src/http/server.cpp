// src/http/server.cpp — http::Server and start_server (see server.hpp).
#include <tulip/http/server.hpp>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/loop_threads.hpp>
#include <tulip/task/wait_for.hpp>

#include "connection.hpp"

namespace tulip::http {

Server::Server(Ref<detail::ServerState> s, tulip::Server net) : s_(std::move(s)), net_(std::move(net)) {}
Server::Server(const Server&) = default;
Server& Server::operator=(const Server&) = default;
Server::~Server() = default;

std::vector<SocketAddress> Server::addresses() const { return net_.addresses(); }

std::size_t Server::connection_count() const noexcept { return s_ ? s_->connections.size() : 0; }

void Server::close() {
    if (!s_) return;
    s_->closed = true;
    net_.close();
    std::vector<Ref<detail::Connection>> all;
    for (auto* c : s_->connections) all.emplace_back(c);
    for (auto& c : all) c->kill();
}

Coro<void> Server::shutdown(double timeout) {
    Ref<detail::ServerState> s = s_;
    tulip::Server net = net_;
    if (!s) co_return;
    net.close();
    s->shutting_down = true;
    {
        std::vector<Ref<detail::Connection>> all;
        for (auto* c : s->connections) all.emplace_back(c);
        for (auto& c : all) c->begin_shutdown();
    }
    bool late = false;
    if (!s->connections.empty()) {
        auto idle = Future<void>::create(net.get_loop());
        s->idle_waiters.push_back(idle);
        try {
            co_await wait_for(idle, timeout);
        } catch (const TimeoutError&) {
            late = true;
        }
    }
    if (late) {
        // Requests still in flight after the deadline: cut them off, and
        // wait for their handlers to unwind (bounded: a handler that
        // swallows the cancellation is left to itself).
        std::vector<Ref<detail::Connection>> left;
        for (auto* c : s->connections) left.emplace_back(c);
        for (auto& c : left) c->kill();
        left.clear();
        if (!s->connections.empty()) {
            auto unwound = Future<void>::create(net.get_loop());
            s->idle_waiters.push_back(unwound);
            try {
                co_await wait_for(unwound, std::max(timeout, 1.0));
            } catch (const TimeoutError&) {}
        }
    }
    s->closed = true;
    co_await net.wait_closed();
}

Coro<void> Server::wait_closed() {
    tulip::Server net = net_;
    if (net) co_await net.wait_closed();
}

Coro<void> Server::serve_forever() {
    Server self = *this;
    auto forever = Future<void>::create(net_.get_loop());
    std::exception_ptr cancelled;
    try {
        co_await forever;
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    co_await self.shutdown();
    std::rethrow_exception(cancelled);
}

namespace detail {

Coro<Server> start_server_impl(Application app, std::string host, std::uint16_t port, ServerOptions options) {
    app.freeze();
    Ref<ServerState> state(new ServerState(std::move(app), std::move(options)));
    tulip::ServerOptions net_options = state->options.net;
    net_options.max_connections = state->options.limits.max_connections;
    // The factory holds the state: it lives as long as the listening side
    // or a connection does. The state does not hold the listening side, so
    // there is no cycle.
    Ref<ServerState> s = state;
    // GCC 12.2: a lambda with captures made as a temporary inside a co_await
    // expression is destroyed twice; name it first (docs/asyncio.md,
    // "Compiler notes").
    auto factory = [s]() { return std::make_unique<HttpProtocol>(Ref<Connection>(new Connection(s))); };
    tulip::Server net = co_await tulip::create_server(std::move(factory), std::move(host), port, net_options);
    co_return Server(std::move(state), std::move(net));
}

// A port for every worker when asked for port 0: bound (not listening, so it
// takes no connections) with SO_REUSEPORT until the workers listen on it.
class PortReservation {
public:
    PortReservation(const std::string& host, std::uint16_t& port) {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        addrinfo* res = nullptr;
        int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), "0", &hints, &res);
        if (rc != 0) throw std::runtime_error("run_app: cannot resolve host \"" + host + "\": " + ::gai_strerror(rc));
        fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        bool ok = fd_ >= 0 && ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0 &&
                  ::bind(fd_, res->ai_addr, res->ai_addrlen) == 0;
        int err = errno;
        ::freeaddrinfo(res);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (!ok || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
            if (ok) err = errno;
            if (fd_ >= 0) ::close(fd_);
            throw std::system_error(err, std::generic_category(), "run_app: reserving a port on " + host);
        }
        port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    PortReservation(const PortReservation&) = delete;
    PortReservation& operator=(const PortReservation&) = delete;
    ~PortReservation() { ::close(fd_); }

private:
    int fd_ = -1;
};

Coro<void> serve_worker(std::size_t worker, std::function<Application()>* make_app, std::string host,
                        std::uint16_t port, ServerOptions options, RunAppBody* body) {
    Application app = (*make_app)();
    Server server = co_await start_server(std::move(app), std::move(host), port, std::move(options));
    if (!*body) {
        co_await server.serve_forever();  // shuts down when cancelled
        co_return;
    }
    std::exception_ptr err;
    try {
        co_await (*body)(worker, server);
    } catch (...) {
        err = std::current_exception();
    }
    co_await server.shutdown();
    if (err) std::rethrow_exception(err);
}

}  // namespace detail

void run_app(std::function<Application()> make_app, std::string host, std::uint16_t port, ServerOptions options,
             RunAppBody body) {
    if (!make_app) throw std::invalid_argument("run_app() needs a function that makes the Application");
    std::optional<detail::PortReservation> reserved;
    if (options.workers != 1) {
        options.net.reuse_port = true;
        if (port == 0) reserved.emplace(host, port);
    }
    LoopThreadsOptions lt;
    lt.threads = options.workers;
    lt.pin = options.pin_workers;
    run_threads([&](std::size_t i,
                    const LoopThreads&) { return detail::serve_worker(i, &make_app, host, port, options, &body); },
                lt);
}

}  // namespace tulip::http
