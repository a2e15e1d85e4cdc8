// bench/http/tulip_http_server.cpp — the tulip hello-world HTTP server as a
// user writes it: GET / answers "Hello, World!" and /static/ serves the
// directory given by --root (the 64 KiB file, through sendfile). Serves
// until SIGINT (tulip::run cancels main) or SIGTERM (graceful shutdown).
#include <signal.h>

#include <cstdint>
#include <exception>

#include <tulip/tulip.hpp>

#include "http_common.hpp"

using namespace tulip;

namespace {

Coro<int> amain(httpbench::Args a) {
    http::Application app;
    app.get("/", [](http::Request&) -> Coro<http::Response> { co_return http::Response::text(httpbench::kHello); });
    app.add_static("/static", a.root);
    http::ServerOptions options;
    options.net.backlog = httpbench::kBacklog;
    // The idle-connection test holds 10,000+ connections; nginx's
    // worker_connections is raised the same way in its generated config.
    options.limits.max_connections = 100000;
    options.limits.max_requests_per_connection = 1u << 30;
    http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", static_cast<std::uint16_t>(a.port),
                                                      std::move(options));
    Future<void> stop = create_future<void>();
    get_running_loop().add_signal_handler(SIGTERM, [stop]() {
        if (!stop.done()) stop.set_result();
    });
    httpbench::announce(server.addresses().at(0).port());
    co_await stop;
    co_await server.shutdown(1.0);
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // What a server does (nginx does it too): a client that goes away is an
    // EPIPE, not a signal; tulip's sendfile then skips blocking SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    httpbench::Args a = httpbench::parse(argc, argv);
    httpbench::raise_nofile();
    try {
        return run(amain(a));
    } catch (const KeyboardInterrupt&) {
        return 0;
    }
}
