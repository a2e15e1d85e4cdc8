// top_posts.cpp — aiohttp's "top posts" pattern: fetch an index of item ids
// as JSON, then the items concurrently, at most five at a time (a
// Semaphore), printing each as it arrives (as_completed).
//
// In Python (aiohttp):
//
//     async def fetch_item(session, sem, id):
//         async with sem, session.get(f'{base}/item/{id}.json') as resp:
//             return await resp.json()
//     ids = await (await session.get(f'{base}/topstories.json')).json()
//     for fut in asyncio.as_completed([fetch_item(session, sem, i) for i in ids[:20]]):
//         item = await fut
//         print(item['title'], item['score'])
//
// A local server plays the news site: /topstories.json and
// /item/{id}, each item taking its own time to answer.
#include <cstdio>
#include <string>
#include <vector>

#include <tulip/http/json.hpp>
#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace tulip;
using nlohmann::json;

constexpr int kItems = 20;
constexpr int kLimit = 5;

struct Counter {
    int now = 0;
    int most = 0;
};

Coro<json> fetch_item(http::ClientSession& session, Semaphore& sem, Counter& c, std::string url) {
    auto held = co_await sem.acquire();
    c.most = std::max(c.most, ++c.now);
    http::ClientResponse r = co_await session.get(std::move(url));
    json item = co_await http::read_json(r);
    --c.now;
    co_return item;
}

Coro<int> top_posts_main() {
    http::Application app;
    app.get("/topstories.json", [](http::Request&) -> Coro<http::Response> {
        json ids = json::array();
        for (int i = 0; i < 100; ++i) ids.push_back(1000 + i * 7);
        co_return http::json_response(ids);
    });
    app.get("/item/{id}", [](http::Request& r) -> Coro<http::Response> {
        int id = std::stoi(r.match_info("id"));
        co_await sleep(0.005 * ((id * 37) % 11));  // some items are slower than others
        co_return http::json_response(
            {{"id", id}, {"title", "story number " + std::to_string(id)}, {"score", (id * 13) % 500}});
    });
    http::ServerOptions so;
    http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(so));
    const std::string root = "http://127.0.0.1:" + std::to_string(server.addresses().at(0).port());

    http::ClientSessionOptions o;
    o.base_url = root;
    http::ClientSession session(std::move(o));
    http::ClientResponse index = co_await session.get("/topstories.json");
    json ids = co_await http::read_json(index);
    std::printf("the index lists %zu stories; fetching the first %d, %d at a time\n", ids.size(), kItems, kLimit);

    Semaphore sem(kLimit);
    Counter counter;
    std::vector<Task<json>> tasks;
    for (int i = 0; i < kItems; ++i)
        tasks.push_back(create_task(fetch_item(session, sem, counter, "/item/" + std::to_string(ids[i].get<int>()))));
    auto arrivals = as_completed(tasks);
    int n = 0;
    std::vector<int> seen;
    while (arrivals.remaining()) {
        json item = co_await arrivals.next_result();
        seen.push_back(item["id"].get<int>());
        std::printf("%2d. #%d %-18s score %3d\n", ++n, item["id"].get<int>(), item["title"].get<std::string>().c_str(),
                    item["score"].get<int>());
    }
    co_await session.close();
    co_await server.shutdown(1.0);
    const bool in_another_order = seen.front() != ids[0].get<int>() || seen.back() != ids[kItems - 1].get<int>();
    std::printf("fetched %d items, at most %d at once (the limit is %d), printed as they arrived%s\n", n, counter.most,
                kLimit, in_another_order ? ", not in index order" : "");
    std::fflush(stdout);
    co_return n == kItems&& counter.most <= kLimit ? 0 : 1;
}

}  // namespace

namespace examples {
int top_posts() { return tulip::run(top_posts_main()); }
}  // namespace examples

#ifndef TULIP_DEMO
int main() { return examples::top_posts(); }
#endif
