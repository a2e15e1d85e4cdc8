// tornado_fetch.cpp — Tornado's AsyncHTTPClient.fetch three ways, as the
// asyncio talks show them: with a callback, as a Future, and awaited.
//
// In Python (Tornado):
//
//     client = AsyncHTTPClient()
//     client.fetch(url, callback=on_response)       # Tornado <= 5
//     future = client.fetch(url)                     # a Future
//     future.add_done_callback(on_done)
//     response = await client.fetch(url)             # a coroutine
//
// A local server answers three pages; each style fetches one.
#include <cstdio>
#include <exception>
#include <string>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace tulip;

Coro<int> tornado_fetch_main() {
    http::Application app;
    app.get("/{name}", [](http::Request& r) -> Coro<http::Response> {
        co_await sleep(0.02);
        co_return http::Response::text("the " + r.match_info("name") + " page");
    });
    http::ServerOptions so;
    http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(so));
    const std::string root = "http://127.0.0.1:" + std::to_string(server.addresses().at(0).port());
    http::AsyncHTTPClient client;
    int ok = 0;

    // 1. A callback, called on the loop when the response is in.
    bool called = false;
    client.fetch(root + "/callback", [&](http::FetchResponse r, std::exception_ptr e) {
        called = true;
        if (e) return;
        std::printf("callback: %d %s\n", r.code, r.body.c_str());
        ok += r.body == "the callback page";
    });

    // 2. A Future (a Task): a done callback, then its result.
    Task<http::FetchResponse> future = client.fetch(root + "/future");
    future.add_done_callback([](Task<http::FetchResponse>& f) {
        std::printf("future: done, %s\n", f.exception() ? "failed" : "with a response");
    });

    // 3. co_await.
    http::FetchResponse r = co_await client.fetch(root + "/coroutine");
    std::printf("co_await: %d %s in %.3f s\n", r.code, r.body.c_str(), r.request_time);
    ok += r.body == "the coroutine page";

    http::FetchResponse fr = co_await future;
    std::printf("future result: %s\n", fr.body.c_str());
    ok += fr.body == "the future page";
    while (!called) co_await sleep(0.001);

    // A status outside 2xx raises, as Tornado's HTTPClientError.
    try {
        (void)co_await client.fetch(root + "/missing/page");
    } catch (const http::ClientResponseError& e) {
        std::printf("a 404 raises: %s\n", e.what());
        ++ok;
    }
    co_await client.close();
    co_await server.shutdown(1.0);
    std::printf("%d of 4 as expected\n", ok);
    std::fflush(stdout);
    co_return ok == 4 ? 0 : 1;
}

}  // namespace

namespace examples {
int tornado_fetch() { return tulip::run(tornado_fetch_main()); }
}  // namespace examples

#ifndef TULIP_DEMO
int main() { return examples::tornado_fetch(); }
#endif
