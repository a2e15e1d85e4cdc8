// bench/http/tulip_http_server.cpp — the tulip hello-world HTTP server as a
// user writes it: GET / answers "Hello, World!" and /static/ serves the
// directory given by --root (the 64 KiB file, through sendfile). Serves
// until SIGINT (tulip::run cancels main) or SIGTERM (graceful shutdown).
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>

#include <tulip/tulip.hpp>

#include "http_common.hpp"

using namespace tulip;

namespace {

http::Application make_app(const std::string& root) {
    http::Application app;
    app.get("/", [](http::Request&) -> Coro<http::Response> { co_return http::Response::text(httpbench::kHello); });
    app.add_static("/static", root);
    return app;
}

// The idle-connection test holds 10,000+ connections; nginx's
// worker_connections is raised the same way in its generated config.
http::ServerOptions server_options() {
    http::ServerOptions options;
    options.net.backlog = httpbench::kBacklog;
    options.limits.max_connections = 100000;
    options.limits.max_requests_per_connection = 1u << 30;
    return options;
}

std::atomic<bool> g_stop{false};

// --workers N: http::run_app, one loop per thread on one SO_REUSEPORT port.
// SIGTERM sets a flag each worker looks at every 50 ms, then all shut down.
int run_workers(const httpbench::Args& a) {
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = true; };
    ::sigaction(SIGTERM, &sa, nullptr);
    http::ServerOptions options = server_options();
    options.workers = static_cast<std::size_t>(a.workers);
    http::run_app([&a] { return make_app(a.root); }, "127.0.0.1", static_cast<std::uint16_t>(a.port), options,
                  [](std::size_t worker, http::Server& server) -> Coro<void> {
                      if (worker == 0) httpbench::announce(server.addresses().at(0).port());
                      while (!g_stop) co_await sleep(0.05);
                  });
    return 0;
}

Coro<int> amain(httpbench::Args a) {
    http::Application app = make_app(a.root);
    http::ServerOptions options = server_options();
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
        if (a.workers != 1) return run_workers(a);
        return run(amain(a));
    } catch (const KeyboardInterrupt&) {
        return 0;
    }
}
