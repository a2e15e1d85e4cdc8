// http_rest.cpp — a small REST service with JSON in and out: a to-do list
// under /todos, with a middleware that times each request.
//
// In Python (aiohttp):
//
//     routes = web.RouteTableDef()
//     @routes.post('/todos')
//     async def add(request):
//         data = await request.json()
//         ...
//         return web.json_response(todo, status=201)
//     app = web.Application(middlewares=[timing])
//     app.add_routes(routes)
//
// The example starts the server on a free port, then a client (HTTP/1.1
// spoken by hand on one kept-alive connection: examples/http_fetch.hpp)
// adds, lists, fetches, deletes, and sends a bad request.
#include <cstdint>
#include <iostream>
#include <map>
#include <string>

#include <tulip/http/json.hpp>
#include <tulip/tulip.hpp>

#include "examples.hpp"
#include "http_fetch.hpp"

namespace {

using nlohmann::json;
using namespace tulip;

struct Todos {
    std::map<int, json> items;
    int next_id = 1;
};

http::Application make_app(Todos& db) {
    http::Application app;
    app.middleware([](http::Request& r, const http::Handler& next) -> Coro<http::Response> {
        double t0 = get_running_loop().time();
        http::Response resp = co_await next(r);
        resp.headers().set("X-Elapsed-Us", std::to_string(static_cast<long>((get_running_loop().time() - t0) * 1e6)));
        co_return resp;
    });
    app.get("/todos", [&db](http::Request&) -> Coro<http::Response> {
        json list = json::array();
        for (auto& [id, t] : db.items) list.push_back(t);
        co_return http::json_response(list);
    });
    app.post("/todos", [&db](http::Request& r) -> Coro<http::Response> {
        json in = co_await http::read_json(r);
        if (!in.is_object() || !in.contains("title") || !in["title"].is_string())
            throw http::HTTPException(422, "a todo needs a string \"title\"\n");
        int id = db.next_id++;
        json todo = {{"id", id}, {"title", in["title"]}, {"done", in.value("done", false)}};
        db.items[id] = todo;
        co_return http::json_response(todo, 201);
    });
    app.get("/todos/{id}", [&db](http::Request& r) -> Coro<http::Response> {
        auto it = db.items.find(std::atoi(r.match_info("id").c_str()));
        if (it == db.items.end()) throw http::HTTPException(404, "no such todo\n");
        co_return http::json_response(it->second);
    });
    app.delete_("/todos/{id}", [&db](http::Request& r) -> Coro<http::Response> {
        if (db.items.erase(std::atoi(r.match_info("id").c_str())) == 0) throw http::HTTPException(404);
        co_return http::Response(204);
    });
    return app;
}

Coro<int> amain() {
    Todos db;
    http::ServerOptions options;
    http::Server server = co_await http::start_server(make_app(db), "127.0.0.1", 0, options);
    std::uint16_t port = server.addresses().at(0).port();
    std::cout << "server: serving the to-do API on 127.0.0.1:" << port << "\n";

    examples::HttpConnection c = co_await examples::HttpConnection::open(port);
    const std::string json_type = "Content-Type: application/json\r\n";
    examples::HttpReply a = co_await c.request("POST", "/todos", json_type, R"({"title": "water the tulips"})", {});
    std::cout << "POST /todos -> " << a.status << " " << a.body << "\n";
    examples::HttpReply b = co_await c.request("POST", "/todos", json_type, R"({"title": "repot", "done": true})", {});
    std::cout << "POST /todos -> " << b.status << " " << b.body << "\n";
    examples::HttpReply list = co_await c.get("/todos", "");
    std::cout << "GET /todos -> " << list.status << " " << list.body << " (took " << list.header("X-Elapsed-Us")
              << " us)\n";
    examples::HttpReply one = co_await c.get("/todos/2", "");
    std::cout << "GET /todos/2 -> " << one.status << " " << one.body << "\n";
    examples::HttpReply del = co_await c.request("DELETE", "/todos/1", "", "", {});
    std::cout << "DELETE /todos/1 -> " << del.status << "\n";
    examples::HttpReply gone = co_await c.get("/todos/1", "");
    std::cout << "GET /todos/1 -> " << gone.status << " " << gone.body;
    examples::HttpReply bad = co_await c.request("POST", "/todos", json_type, "{not json", {});
    std::cout << "POST bad JSON -> " << bad.status << "\n";
    examples::HttpReply wrong = co_await c.request("POST", "/todos", json_type, R"({"name": 1})", {});
    std::cout << "POST without a title -> " << wrong.status << " " << wrong.body;
    co_await c.close();
    co_await server.shutdown(1.0);

    bool ok = a.status == 201 && list.status == 200 && json::parse(list.body).size() == 2 && del.status == 204 &&
              gone.status == 404 && bad.status == 400 && wrong.status == 422;
    std::cout << (ok ? "every answer as expected" : "UNEXPECTED ANSWERS") << "; one connection served "
              << "8 requests\n";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::http_rest() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::http_rest(); }
#endif
