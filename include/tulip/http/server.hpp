// tulip/http/server.hpp — serving an Application over HTTP/1.1 (aiohttp's
// AppRunner + TCPSite, web.run_app).
//
// Keep-alive, pipelined requests answered in order, Expect: 100-continue
// (the 100 goes out when the handler first reads the body), HEAD, HTTP/1.0
// clients, Connection: close. TLS with ServerOptions::net.ssl (ALPN
// "http/1.1" is the context's to offer).
//
// Every limit and timeout is a setting, with nginx's defaults: a request
// over a limit is answered with its status (414, 431, 413) and the
// connection closed; a malformed or ambiguous request (request smuggling
// defences, RFC 9112) with 400 and closed, before any handler runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tulip/core/ref.hpp>
#include <tulip/http/application.hpp>
#include <tulip/net/address.hpp>
#include <tulip/net/server.hpp>
#include <tulip/task/coro.hpp>

namespace tulip::http {

struct ServerLimits {
    std::size_t max_request_line = 8 * 1024;   // request-target bytes: 414
    std::size_t max_header_bytes = 16 * 1024;  // all header lines: 431
    std::size_t max_headers = 100;             // header lines: 431
    std::uint64_t max_body = 1024 * 1024;      // request body: 413
    std::size_t max_requests_per_connection = 1000;
    std::size_t max_connections = 1024;  // accepting pauses at the limit
};

// Seconds; 0 for none.
struct ServerTimeouts {
    double header = 60;      // from a request's first byte to the end of its headers (408)
    double body_idle = 60;   // the handler waits for body bytes that do not come (408)
    double send_idle = 60;   // the client does not read the response (the connection is aborted)
    double keep_alive = 75;  // an idle connection between requests (closed)
};

struct ServerOptions {
    ServerLimits limits;
    ServerTimeouts timeouts;
    // The Server header; empty for none.
    std::string server_name = "tulip";
    // Listening and TLS (ssl, backlog, reuse_port, ...). max_connections is
    // taken from limits.
    tulip::ServerOptions net;
    // run_app only: how many loops serve (one thread each, nginx's
    // worker_processes; 0: one per CPU), and whether each is pinned to a CPU.
    std::size_t workers = 1;
    bool pin_workers = false;
};

namespace detail {
class ServerState;
}

class Server {
public:
    Server() = default;
    Server(Ref<detail::ServerState> s, tulip::Server net);
    Server(const Server&);
    Server& operator=(const Server&);
    ~Server();

    std::vector<SocketAddress> addresses() const;
    // The connections being served: open ones, and those whose client left
    // while their handler still runs (shutdown waits for those too).
    std::size_t connection_count() const noexcept;
    // Graceful shutdown: stops accepting, closes idle connections, lets
    // requests in flight finish (their responses say Connection: close)
    // for up to `timeout` seconds, then aborts what is left and cancels its
    // handlers, and returns once they have unwound (waiting at most
    // max(timeout, 1 s) more for a handler that ignores the cancellation).
    Coro<void> shutdown(double timeout = 10.0);
    // Stops accepting and aborts every connection at once.
    void close();
    Coro<void> wait_closed();
    // Serves until cancelled, then shuts down (as asyncio's serve_forever).
    // Cancel safety: serve_forever() is ended by a cancel (it then shuts
    // down). shutdown() cancelled has already stopped accepting and asked the
    // connections to finish; the cutting-off at the deadline does not happen:
    // call close() to abort what is left. wait_closed() is safe.
    Coro<void> serve_forever();
    explicit operator bool() const noexcept { return static_cast<bool>(s_); }

private:
    Ref<detail::ServerState> s_;
    tulip::Server net_;  // the listening side
};

namespace detail {
Coro<Server> start_server_impl(Application app, std::string host, std::uint16_t port, ServerOptions options);
}

// Serves app on host:port (port 0 picks a free one; see Server::addresses).
inline Coro<Server> start_server(Application app, std::string host, std::uint16_t port, ServerOptions options) {
    return detail::start_server_impl(std::move(app), std::move(host), port, std::move(options));
}
inline Coro<Server> start_server(Application app, std::string host, std::uint16_t port) {
    ServerOptions options;
    return detail::start_server_impl(std::move(app), std::move(host), port, std::move(options));
}

// Serves until Ctrl-C, then shuts down gracefully (aiohttp's web.run_app;
// blocks the calling thread). With options.workers != 1, run_threads: one
// loop per worker thread, each serving an Application that make_app builds on
// that thread (handlers and their state are never shared between loops), all
// listening on one port with SO_REUSEPORT so that the kernel spreads the
// connections, as nginx's workers. Port 0 picks one free port for all.
// `body`, when given, runs on each worker instead of serving forever (the
// server is shut down when it returns): for tests, and for programs that end
// serving on their own terms.
using RunAppBody = std::function<Coro<void>(std::size_t worker, Server& server)>;
void run_app(std::function<Application()> make_app, std::string host, std::uint16_t port, ServerOptions options = {},
             RunAppBody body = {});

}  // namespace tulip::http
