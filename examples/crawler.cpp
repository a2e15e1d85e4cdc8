// crawler.cpp — a web crawler of N workers sharing a Queue, the pattern of
// asyncio's queue documentation: each worker takes a URL, fetches it, puts
// the links it has not seen yet back on the queue and calls task_done();
// main waits for queue.join() and then cancels the workers.
//
// In Python (aiohttp):
//
//     async def worker(session, queue, seen):
//         while True:
//             url = await queue.get()
//             async with session.get(url) as resp:
//                 for link in links(await resp.text()):
//                     if link not in seen:
//                         seen.add(link); queue.put_nowait(link)
//             queue.task_done()
//
// A local server plays a small site: 60 pages, each linking to a few
// others (and back), some slower than the rest.
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace tulip;

constexpr int kPages = 60;
constexpr int kWorkers = 4;

std::vector<std::string> links(const std::string& html) {
    std::vector<std::string> out;
    for (std::size_t at = html.find("href=\""); at != std::string::npos; at = html.find("href=\"", at)) {
        at += 6;
        std::size_t end = html.find('"', at);
        if (end == std::string::npos) break;
        out.push_back(html.substr(at, end - at));
    }
    return out;
}

struct Crawl {
    Queue<std::string> queue;
    std::set<std::string> seen;
    int fetched = 0;
    int failed = 0;
};

Coro<void> worker(int id, http::ClientSession& session, Crawl& c) {
    for (;;) {
        std::string path = co_await c.queue.get();
        try {
            http::ClientResponse r = co_await session.get(path);
            std::string html = co_await r.text();
            ++c.fetched;
            for (auto& link : links(html)) {
                if (c.seen.insert(link).second) c.queue.put_nowait(link);
            }
        } catch (const http::ClientError& e) {
            ++c.failed;
            std::printf("worker %d: %s failed: %s\n", id, path.c_str(), e.what());
        }
        // A progress line: redrawn on a terminal, every 20 pages otherwise.
        if (::isatty(STDOUT_FILENO)) {
            std::printf("\rcrawled %2d pages, %2zu queued, %2zu known", c.fetched, c.queue.qsize(), c.seen.size());
            std::fflush(stdout);
        } else if (c.fetched % 20 == 0) {
            std::printf("crawled %2d pages, %2zu queued, %2zu known\n", c.fetched, c.queue.qsize(), c.seen.size());
        }
        c.queue.task_done();
    }
}

Coro<int> crawler_main() {
    http::Application app;
    app.get("/page/{n}", [](http::Request& r) -> Coro<http::Response> {
        int n = std::stoi(r.match_info("n"));
        co_await sleep(0.002 * (n % 5));
        std::string html = "<html><body><h1>page " + std::to_string(n) + "</h1>";
        for (int to : {2 * n + 1, 2 * n + 2, n / 2, (n * 7) % kPages})
            if (to < kPages) html += "<a href=\"/page/" + std::to_string(to) + "\">" + std::to_string(to) + "</a> ";
        html += "</body></html>";
        co_return http::Response::html(std::move(html));
    });
    http::ServerOptions so;
    http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(so));
    http::ClientSessionOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(server.addresses().at(0).port());
    o.limit = kWorkers;
    http::ClientSession session(std::move(o));

    Crawl c;
    c.seen.insert("/page/0");
    c.queue.put_nowait("/page/0");
    std::vector<Task<void>> workers;
    for (int i = 0; i < kWorkers; ++i) workers.push_back(create_task(worker(i, session, c)));
    co_await c.queue.join();
    if (::isatty(STDOUT_FILENO)) std::printf("\n");
    for (auto& w : workers) w.cancel();
    for (auto& w : workers) {
        try {
            co_await w;
        } catch (const CancelledError&) {}
    }
    const std::size_t connections = session.connections_made();
    co_await session.close();
    co_await server.shutdown(1.0);
    std::printf("crawled %d pages with %d workers over %zu connections; %d failed; every page once: %s\n", c.fetched,
                kWorkers, connections, c.failed, c.fetched == kPages && c.seen.size() == kPages ? "yes" : "NO");
    std::fflush(stdout);
    co_return c.fetched == kPages&& c.failed == 0 ? 0 : 1;
}

}  // namespace

namespace examples {
int crawler() { return tulip::run(crawler_main()); }
}  // namespace examples

#ifndef TULIP_DEMO
int main() { return examples::crawler(); }
#endif
