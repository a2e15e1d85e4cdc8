// download_timing.cpp — the asyncio talks' first story: the same set of
// downloads done one after another, on a pool of threads, and with gather
// on one thread, and how long each took (the talk's 2.43 s, 1.09 s, 0.87 s).
//
// In Python (aiohttp):
//
//     async def fetch(session, url):
//         async with session.get(url) as resp:
//             return await resp.read()
//     async with aiohttp.ClientSession() as session:
//         pages = await asyncio.gather(*(fetch(session, u) for u in urls))
//
// There is no internet here: the example starts a local server whose pages
// each take 0.1 s to answer (a slow backend), then downloads 12 of them the
// three ways. The threads run the blocking style: each download is a
// function that runs its own event loop to completion (tulip::run), run on a
// pool of 4 threads (loop.run_in_executor, as asyncio's with a
// ThreadPoolExecutor(4)).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace tulip;

constexpr int kPages = 12;
constexpr double kDelay = 0.1;
constexpr std::size_t kThreads = 4;  // 12 pages: three rounds

Coro<std::string> fetch(http::ClientSession& session, std::string url) {
    http::ClientResponse r = co_await session.get(std::move(url));
    r.raise_for_status();
    co_return co_await r.read();
}

// The blocking style: one download, start to end, on the calling thread.
std::string fetch_blocking(std::string url) {
    return tulip::run([](std::string u) -> Coro<std::string> {
        http::ClientSession session;
        std::string body = co_await fetch(session, std::move(u));
        co_await session.close();
        co_return body;
    }(std::move(url)));
}

Coro<int> download_timing_main() {
    http::Application app;
    app.get("/page/{n}", [](http::Request& r) -> Coro<http::Response> {
        co_await sleep(kDelay);
        co_return http::Response::text("page " + r.match_info("n") + " " + std::string(2000, '.'));
    });
    http::ServerOptions so;
    http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(so));
    const std::string root = "http://127.0.0.1:" + std::to_string(server.addresses().at(0).port());
    std::vector<std::string> urls;
    for (int i = 0; i < kPages; ++i) urls.push_back(root + "/page/" + std::to_string(i));
    EventLoop& loop = get_running_loop();
    std::size_t bytes[3] = {0, 0, 0};
    double took[3] = {0, 0, 0};

    // 1. One after another.
    double t0 = loop.time();
    {
        http::ClientSession session;
        for (const auto& u : urls) bytes[0] += (co_await fetch(session, u)).size();
        co_await session.close();
    }
    took[0] = loop.time() - t0;

    // 2. On threads: each a blocking download with a loop of its own, on a
    // pool of kThreads (fewer threads than downloads, as in the talk; a fixed
    // number, so the story is the same on any machine).
    t0 = loop.time();
    {
        ThreadPoolExecutor pool(kThreads);
        std::vector<Future<std::string>> jobs;
        for (const auto& u : urls) jobs.push_back(loop.run_in_executor(&pool, [u] { return fetch_blocking(u); }));
        for (auto& j : jobs) bytes[1] += (co_await j).size();
        pool.shutdown();
    }
    took[1] = loop.time() - t0;

    // 3. gather on this one thread.
    t0 = loop.time();
    {
        http::ClientSession session;
        std::vector<Coro<std::string>> all;
        for (const auto& u : urls) all.push_back(fetch(session, u));
        std::vector<std::string> pages = co_await gather(std::move(all));
        for (const auto& p : pages) bytes[2] += p.size();
        co_await session.close();
    }
    took[2] = loop.time() - t0;
    co_await server.shutdown(1.0);

    const char* names[3] = {"one after another", "on 4 threads", "gather, one thread"};
    std::printf("%d pages, each answered after %.1f s:\n", kPages, kDelay);
    std::printf("  %-24s %8s %8s\n", "how", "seconds", "bytes");
    for (int i = 0; i < 3; ++i) std::printf("  %-24s %8.2f %8zu\n", names[i], took[i], bytes[i]);
    const bool same = bytes[0] == bytes[1] && bytes[1] == bytes[2];
    const bool gather_fastest = took[2] < took[1] && took[1] < took[0];
    std::printf("same bytes every way: %s; gather fastest, then threads, then one by one: %s\n", same ? "yes" : "NO",
                gather_fastest ? "yes" : "NO");
    std::fflush(stdout);
    co_return same&& gather_fastest ? 0 : 1;
}

}  // namespace

namespace examples {
int download_timing() { return tulip::run(download_timing_main()); }
}  // namespace examples

#ifndef TULIP_DEMO
int main() { return examples::download_timing(); }
#endif
