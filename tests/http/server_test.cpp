// tests/http/server_test.cpp — http::Server over real loopback sockets:
// routing, keep-alive, pipelining, bodies, streaming, errors, limits,
// timeouts and graceful shutdown, seen from a raw client.
#include <sys/socket.h>

#include <tulip/http/server.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <tulip/http/exceptions.hpp>

#include "http/http_client.hpp"
#include "support/loop_test.hpp"

namespace http_server_test {

using namespace tulip;
using tulip::test::RawClient;
using tulip::test::Reply;

namespace {

class HttpServerTest : public test::IoLoopTest {
protected:
    // Counts handler calls, so a test can say "the handler never ran".
    int calls = 0;

    http::Application hello_app() {
        http::Application app;
        app.get("/", [this](http::Request&) -> Coro<http::Response> {
            ++calls;
            co_return http::Response::text("hello");
        });
        app.post("/echo", [this](http::Request& r) -> Coro<http::Response> {
            ++calls;
            std::string body = co_await r.read();
            co_return http::Response::text(std::move(body));
        });
        return app;
    }

    static Coro<http::Server> serve(http::Application app, http::ServerOptions o) {
        co_return co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(o));
    }
    static Coro<http::Server> serve(http::Application app) {
        http::ServerOptions o;
        co_return co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(o));
    }
    static Coro<RawClient> client(const http::Server& s) { return RawClient::connect(s.addresses().at(0)); }
};

TEST_F(HttpServerTest, GetAnswersWithLengthDateServerAndKeepsTheConnection) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.reason, "OK");
        EXPECT_EQ(r.body, "hello");
        EXPECT_EQ(r.header("content-length"), "5");
        EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
        EXPECT_EQ(r.header("server"), "tulip");
        EXPECT_TRUE(r.header("date").has_value());
        EXPECT_FALSE(r.header("connection").has_value());
        // Same connection, second request.
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply r2 = co_await c.reply();
        EXPECT_EQ(r2.body, "hello");
        EXPECT_EQ(calls, 2);
        EXPECT_EQ(server.connection_count(), 1u);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
    http::Application app;
    app.get("/slow", [](http::Request&) -> Coro<http::Response> {
        co_await sleep(0.02);
        co_return http::Response::text("slow");
    });
    app.get("/fast", [](http::Request&) -> Coro<http::Response> { co_return http::Response::text("fast"); });
    app.post("/echo", [](http::Request& r) -> Coro<http::Response> {
        std::string body = co_await r.read();
        co_return http::Response::text(std::move(body));
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send(
            "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply a = co_await c.reply();
        Reply b = co_await c.reply();
        Reply d = co_await c.reply();
        EXPECT_EQ(a.body, "slow");
        EXPECT_EQ(b.body, "abc");
        EXPECT_EQ(d.body, "fast");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, RouteParametersAndTail) {
    http::Application app;
    app.get("/users/{id}", [](http::Request& r) -> Coro<http::Response> {
        co_return http::Response::text("user " + r.match_info("id"));
    });
    app.get("/users/{id}/posts/{post}", [](http::Request& r) -> Coro<http::Response> {
        co_return http::Response::text(r.match_info("id") + "/" + r.match_info("post"));
    });
    app.get("/static/{path:.*}", [](http::Request& r) -> Coro<http::Response> {
        co_return http::Response::text("file " + r.match_info("path"));
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /users/42 HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "user 42");
        co_await c.send("GET /users/7/posts/9 HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "7/9");
        co_await c.send("GET /static/css/site.css HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "file css/site.css");
        co_await c.send("GET /users/ HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).status, 404);
        co_await c.send("GET /users/a%20b HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "user a b");  // matched on the decoded path
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowedWithAllow) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 404);
        EXPECT_EQ(r.body, "404 Not Found\n");
        co_await c.send("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply m = co_await c.reply();
        EXPECT_EQ(m.status, 405);
        EXPECT_EQ(m.header("allow"), "GET");
        // Errors from the router keep the connection.
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).status, 200);
        EXPECT_EQ(calls, 1);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, HeadUsesTheGetRouteAndSendsNoBody) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply h = co_await c.reply(/*head=*/true);
        EXPECT_EQ(h.status, 200);
        EXPECT_EQ(h.header("content-length"), "5");
        // The next bytes are the GET's response: nothing of a body came between.
        Reply g = co_await c.reply();
        EXPECT_EQ(g.body, "hello");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, ChunkedRequestBodyIsReadDechunked) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "hello world");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, UnreadBodyIsSkippedAndTheNextRequestServed) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        // GET / never reads its body.
        co_await c.send(
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "hello");
        EXPECT_EQ((co_await c.reply()).body, "hello");
        EXPECT_EQ(calls, 2);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveAsked) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient a = co_await client(server);
        co_await a.send("GET / HTTP/1.0\r\n\r\n");
        Reply r = co_await a.reply();
        EXPECT_EQ(r.body, "hello");
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_TRUE(co_await a.closed());
        RawClient b = co_await client(server);
        co_await b.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Reply k = co_await b.reply();
        EXPECT_EQ(k.header("connection"), "keep-alive");
        co_await b.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        EXPECT_EQ((co_await b.reply()).body, "hello");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, ConnectionCloseFromTheClientClosesAfterTheResponse) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.body, "hello");
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_TRUE(co_await c.closed());
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, HandlerExceptionGives500AndIsReportedNotSent) {
    expect_handler_calls = true;
    http::Application app;
    app.get("/boom", [](http::Request&) -> Coro<http::Response> {
        throw std::runtime_error("secret detail");
        co_return http::Response(200);
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 500);
        EXPECT_EQ(r.body.find("secret"), std::string::npos);
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_TRUE(co_await c.closed());
        co_await server.shutdown(1.0);
    })());
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("HTTP"), std::string::npos);
}

TEST_F(HttpServerTest, HttpExceptionGivesItsStatusAndKeepsTheConnection) {
    http::Application app;
    app.get("/private", [](http::Request&) -> Coro<http::Response> {
        http::HTTPException e(401, "who are you?\n");
        e.headers().add("WWW-Authenticate", "Basic realm=\"x\"");
        throw e;
        co_return http::Response(200);
    });
    app.get("/", [](http::Request&) -> Coro<http::Response> { co_return http::Response::text("ok"); });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /private HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(r.body, "who are you?\n");
        EXPECT_EQ(r.header("www-authenticate"), "Basic realm=\"x\"");
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "ok");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, ExpectContinueSends100WhenTheHandlerReads) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        Reply cont = co_await c.reply();
        EXPECT_EQ(cont.status, 100);
        co_await c.send("body");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "body");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, ExpectContinueNotReadMeansNo100AndClose) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 200);  // no 100 first
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_TRUE(co_await c.closed());
        c.socket().close();  // the server lingers until our FIN
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, StreamingResponseChunkedAndWithLength) {
    http::Application app;
    app.get("/chunked", [](http::Request& r) -> Coro<http::Response> {
        http::Response resp(200);
        resp.set_content_type("text/plain");
        co_await resp.prepare(r);
        co_await resp.write("one ");
        co_await resp.write("two ");
        co_await resp.write("three");
        co_await resp.write_eof();
        co_return resp;
    });
    app.get("/length", [](http::Request& r) -> Coro<http::Response> {
        http::Response resp(200);
        resp.set_content_length(6);
        co_await resp.prepare(r);
        co_await resp.write("abc");
        co_await resp.write("def");
        co_return resp;  // returning ends it
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply a = co_await c.reply();
        EXPECT_TRUE(a.chunked);
        EXPECT_EQ(a.body, "one two three");
        co_await c.send("GET /length HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply b = co_await c.reply();
        EXPECT_FALSE(b.chunked);
        EXPECT_EQ(b.header("content-length"), "6");
        EXPECT_EQ(b.body, "abcdef");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, StreamingToAnHttp10ClientEndsAtClose) {
    http::Application app;
    app.get("/s", [](http::Request& r) -> Coro<http::Response> {
        http::Response resp(200);
        co_await resp.prepare(r);
        co_await resp.write("part1 ");
        co_await resp.write("part2");
        co_return resp;
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_EQ(r.body, "part1 part2");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, MiddlewareWrapsOutermostFirstAndSubappsGetTheirOwn) {
    std::vector<std::string> order;
    http::Application api;
    api.middleware([&](http::Request& r, const http::Handler& next) -> Coro<http::Response> {
        order.push_back("api-in");
        http::Response resp = co_await next(r);
        order.push_back("api-out");
        co_return resp;
    });
    api.get("/items/{id}", [&](http::Request& r) -> Coro<http::Response> {
        order.push_back("handler");
        co_return http::Response::text("item " + r.match_info("id"));
    });
    http::Application app;
    app.middleware([&](http::Request& r, const http::Handler& next) -> Coro<http::Response> {
        order.push_back("outer-in");
        http::Response resp = co_await next(r);
        resp.headers().add("X-Outer", "1");
        order.push_back("outer-out");
        co_return resp;
    });
    app.get("/", [&](http::Request&) -> Coro<http::Response> {
        order.push_back("root");
        co_return http::Response::text("root");
    });
    app.add_subapp("/api", std::move(api));
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /api/items/3 HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.body, "item 3");
        EXPECT_EQ(r.header("x-outer"), "1");
        EXPECT_EQ(order, (std::vector<std::string>{"outer-in", "api-in", "handler", "api-out", "outer-out"}));
        order.clear();
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "root");
        EXPECT_EQ(order, (std::vector<std::string>{"outer-in", "root", "outer-out"}));
        order.clear();
        // 404 passes the application's middleware too.
        co_await c.send("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply nf = co_await c.reply();
        EXPECT_EQ(nf.status, 404);
        EXPECT_EQ(order, (std::vector<std::string>{"outer-in"}));
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, QueryAndFormBodies) {
    http::Application app;
    app.get("/q", [](http::Request& r) -> Coro<http::Response> {
        std::string out;
        for (auto v : r.query().get_all("a")) {
            out += v;
            out += ',';
        }
        out += r.query().get("b").value_or("-");
        co_return http::Response::text(out);
    });
    app.post("/form", [](http::Request& r) -> Coro<http::Response> {
        http::Query form = co_await r.post();
        co_return http::Response::text(std::string(form.get("name").value_or("?")));
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /q?a=1&a=2&b=x%20y HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "1,2,x y");
        std::string form = "name=J%C3%BCrgen+K";
        co_await c.send(
            "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: " +
            std::to_string(form.size()) + "\r\n\r\n" + form);
        EXPECT_EQ((co_await c.reply()).body, "J\xC3\xBCrgen K");
        co_await c.send("POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx");
        EXPECT_EQ((co_await c.reply()).status, 415);
        co_await server.shutdown(1.0);
    })());
}

// ---- limits, one by one -----------------------------------------------------------

TEST_F(HttpServerTest, RequestTargetOverTheLimitIs414AndCloses) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.limits.max_request_line = 100;
        http::Server server = co_await serve(hello_app(), o);
        RawClient ok = co_await client(server);
        co_await ok.send("GET /" + std::string(99, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await ok.reply()).status, 404);  // at the limit: parsed, routed
        RawClient c = co_await client(server);
        co_await c.send("GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 414);
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_TRUE(co_await c.closed());
        EXPECT_EQ(calls, 0);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, TooManyOrTooLargeHeadersAre431) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.limits.max_headers = 5;
        o.limits.max_header_bytes = 200;
        http::Server server = co_await serve(hello_app(), o);
        std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
        for (int i = 0; i < 5; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
        RawClient a = co_await client(server);
        co_await a.send(many + "\r\n");
        EXPECT_EQ((co_await a.reply()).status, 431);
        EXPECT_TRUE(co_await a.closed());
        RawClient b = co_await client(server);
        co_await b.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(300, 'v') + "\r\n\r\n");
        EXPECT_EQ((co_await b.reply()).status, 431);
        EXPECT_TRUE(co_await b.closed());
        EXPECT_EQ(calls, 0);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.limits.max_body = 10;
        http::Server server = co_await serve(hello_app(), o);
        RawClient a = co_await client(server);
        co_await a.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
        EXPECT_EQ((co_await a.reply()).body, "0123456789");  // at the limit
        co_await a.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890");
        Reply r = co_await a.reply();
        EXPECT_EQ(r.status, 413);
        EXPECT_TRUE(co_await a.closed());
        RawClient b = co_await client(server);
        co_await b.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "6\r\n012345\r\n6\r\n678901\r\n0\r\n\r\n");
        EXPECT_EQ((co_await b.reply()).status, 413);
        EXPECT_TRUE(co_await b.closed());
        a.socket().close();  // the server lingers until our FIN
        b.socket().close();  // the server lingers until our FIN
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, MaxRequestsPerConnection) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.limits.max_requests_per_connection = 2;
        http::Server server = co_await serve(hello_app(), o);
        RawClient c = co_await client(server);
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_FALSE((co_await c.reply()).header("connection").has_value());
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).header("connection"), "close");
        EXPECT_TRUE(co_await c.closed());
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, MissingOrDuplicateHostIs400) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient a = co_await client(server);
        co_await a.send("GET / HTTP/1.1\r\n\r\n");
        EXPECT_EQ((co_await a.reply()).status, 400);
        EXPECT_TRUE(co_await a.closed());
        RawClient b = co_await client(server);
        co_await b.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        EXPECT_EQ((co_await b.reply()).status, 400);
        EXPECT_TRUE(co_await b.closed());
        EXPECT_EQ(calls, 0);
        co_await server.shutdown(1.0);
    })());
}

// ---- timeouts ---------------------------------------------------------------------------

TEST_F(HttpServerTest, SlowHeadersGet408AndClose) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.timeouts.header = 0.1;
        http::Server server = co_await serve(hello_app(), o);
        RawClient c = co_await client(server);
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n");  // never ends its headers
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 408);
        EXPECT_TRUE(co_await c.closed());
        EXPECT_EQ(calls, 0);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.timeouts.keep_alive = 0.1;
        http::Server server = co_await serve(hello_app(), o);
        RawClient c = co_await client(server);
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).status, 200);
        EXPECT_TRUE(co_await c.closed());  // nothing sent: just closed
        co_await test::eventually([&] { return server.connection_count() == 0; });
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpServerTest, BodyThatStopsComingGets408) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.timeouts.body_idle = 0.1;
        http::Server server = co_await serve(hello_app(), o);
        RawClient c = co_await client(server);
        co_await c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 408);
        EXPECT_TRUE(co_await c.closed());
        c.socket().close();  // the server lingers until our FIN
        co_await server.shutdown(1.0);
    })());
}

// ---- shutdown -------------------------------------------------------------------------------

TEST_F(HttpServerTest, GracefulShutdownFinishesInFlightAndClosesIdle) {
    http::Application app;
    app.get("/slow", [](http::Request&) -> Coro<http::Response> {
        co_await sleep(0.1);
        co_return http::Response::text("done");
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        SocketAddress addr = server.addresses().at(0);
        RawClient idle = co_await client(server);
        RawClient busy = co_await client(server);
        co_await busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        co_await test::eventually([&] { return server.connection_count() == 2; });
        co_await sleep(0.01);
        Task<void> sd = create_task(server.shutdown(5.0));
        EXPECT_TRUE(co_await idle.closed());
        Reply r = co_await busy.reply();
        EXPECT_EQ(r.body, "done");
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_TRUE(co_await busy.closed());
        co_await sd;
        EXPECT_EQ(server.connection_count(), 0u);
        // Not listening any more.
        bool refused = false;
        try {
            RawClient late = co_await RawClient::connect(addr);
        } catch (const ConnectionRefusedError&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    })());
}

// A handler whose client left is still in flight: shutdown waits for it
// (within the deadline), or cancels it at the deadline; it never returns
// with the handler still running.
TEST_F(HttpServerTest, ShutdownWaitsForOrCancelsHandlersWhoseClientLeft) {
    for (double deadline : {5.0, 0.05}) {
        bool finished = false, cancelled = false;
        http::Application app;
        app.get("/slow", [&](http::Request&) -> Coro<http::Response> {
            try {
                co_await sleep(0.3);
            } catch (const CancelledError&) {
                cancelled = true;
                throw;
            }
            finished = true;
            co_return http::Response::text("done");
        });
        run_io(([&]() -> Coro<void> {
            http::Server server = co_await serve(std::move(app));
            {
                RawClient c = co_await client(server);
                co_await c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
                co_await test::eventually([&] { return server.connection_count() == 1; });
                co_await sleep(0.02);
                // The client resets the connection while the handler sleeps.
                linger lg{1, 0};
                ::setsockopt(c.socket().fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            }
            co_await sleep(0.05);                      // the server sees the reset
            EXPECT_EQ(server.connection_count(), 1u);  // still served: its handler runs
            co_await server.shutdown(deadline);
            EXPECT_EQ(server.connection_count(), 0u);
            EXPECT_TRUE(finished || cancelled) << "deadline " << deadline;
            EXPECT_EQ(finished, deadline > 1) << "deadline " << deadline;
        })());
    }
}

TEST_F(HttpServerTest, ShutdownDeadlineAbortsWhatIsLeft) {
    http::Application app;
    app.get("/forever", [](http::Request&) -> Coro<http::Response> {
        co_await sleep(30);
        co_return http::Response::text("never");
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
        co_await test::eventually([&] { return server.connection_count() == 1; });
        co_await sleep(0.01);
        co_await server.shutdown(0.1);
        EXPECT_TRUE(co_await c.closed());
        EXPECT_EQ(server.connection_count(), 0u);
    })());
}

}  // namespace

namespace {

TEST_F(HttpServerTest, ConnectIsNotImplemented) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(hello_app());
        RawClient c = co_await client(server);
        co_await c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 501);
        EXPECT_TRUE(co_await c.closed());
        EXPECT_EQ(calls, 0);
        co_await server.shutdown(1.0);
    })());
}

// An error answered while the client is still sending: the server sends FIN
// and drops what still arrives (a lingering close), so the client reads the
// whole 413 instead of losing it to a reset.
TEST_F(HttpServerTest, ErrorWhileTheClientStillSendsIsReadableLingeringClose) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.limits.max_body = 1000;
        http::Server server = co_await serve(hello_app(), o);
        RawClient c = co_await client(server);
        co_await c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 413);
        // Keep sending after the answer: no reset comes back, and the server's
        // FIN is seen once what we sent has been dropped.
        co_await c.send(std::string(200000, 'x'));
        EXPECT_TRUE(co_await c.closed());
        co_await server.shutdown(1.0);
    })());
}

}  // namespace

namespace {

TEST_F(HttpServerTest, BodyChunksAsAnAsyncGenerator) {
    http::Application app;
    app.post("/count", [](http::Request& r) -> Coro<http::Response> {
        auto gen = r.chunks();
        std::size_t parts = 0, bytes = 0;
        while (auto part = co_await gen.next()) {
            ++parts;
            bytes += part->size();
        }
        co_return http::Response::text(std::to_string(bytes) + " bytes in " + (parts > 0 ? "parts" : "none"));
    });
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(std::move(app));
        RawClient c = co_await client(server);
        co_await c.send("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        co_await sleep(0.01);
        co_await c.send("4\r\ndefg\r\n0\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "7 bytes in parts");
        co_await c.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        EXPECT_EQ((co_await c.reply()).body, "0 bytes in none");
        co_await server.shutdown(1.0);
    })());
}

}  // namespace

}  // namespace http_server_test
