// http_sse.cpp — server-sent events: a handler streams events as they
// happen (a chunked response written part by part, each write waiting while
// the client is slow to read), and the client sees each one as it arrives.
//
// In Python (aiohttp):
//
//     async def ticks(request):
//         resp = web.StreamResponse(headers={'Content-Type': 'text/event-stream'})
//         await resp.prepare(request)
//         for i in range(5):
//             await resp.write(f'data: tick {i}\n\n'.encode())
//             await asyncio.sleep(0.05)
//         return resp
#include <cstdint>
#include <iostream>
#include <string>

#include <tulip/tulip.hpp>

#include "examples.hpp"
#include "http_fetch.hpp"

namespace {

using namespace tulip;

Coro<int> amain() {
    http::Application app;
    app.get("/ticks", [](http::Request& r) -> Coro<http::Response> {
        int n = std::atoi(std::string(r.query().get("n").value_or("3")).c_str());
        http::Response resp(200);
        resp.set_content_type("text/event-stream");
        resp.headers().set("Cache-Control", "no-cache");
        co_await resp.prepare(r);
        for (int i = 1; i <= n; ++i) {
            co_await resp.write("id: " + std::to_string(i) + "\ndata: tick " + std::to_string(i) + " of " +
                                std::to_string(n) + "\n\n");
            co_await sleep(0.05);
        }
        co_await resp.write("event: done\ndata: bye\n\n");
        co_return resp;
    });
    http::ServerOptions options;
    http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, options);
    std::uint16_t port = server.addresses().at(0).port();
    std::cout << "server: event stream at http://127.0.0.1:" << port << "/ticks?n=5\n";

    examples::HttpConnection c = co_await examples::HttpConnection::open(port);
    double t0 = get_running_loop().time();
    int events = 0;
    auto on_chunk = [&](const std::string& chunk) {
        ++events;
        std::string line = chunk.substr(0, chunk.find("\n\n"));
        for (auto& ch : line)
            if (ch == '\n') ch = ' ';
        std::printf("client: t=%.2f s  %s\n", get_running_loop().time() - t0, line.c_str());
    };
    examples::HttpReply r = co_await c.request("GET", "/ticks?n=5", "Accept: text/event-stream\r\n", "", on_chunk);
    co_await c.close();
    co_await server.shutdown(1.0);
    bool ok = r.status == 200 && r.header("Content-Type") == "text/event-stream" && events == 6;
    std::cout << (ok ? "6 events, each as it happened" : "UNEXPECTED EVENTS") << "\n";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::http_sse() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::http_sse(); }
#endif
