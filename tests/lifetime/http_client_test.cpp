// Lifetime matrix, HTTP client (issue 13): the session and its pool, a
// response and the connection it holds, a request's task, the server, the
// loop. Each case drops or closes one of them before, during or after the
// other's operation and checks: no memory error (asan preset), no leak
// (LeakSanitizer and the fixture's fd count), no hang (run_io's bound), and
// a clear exception where the operation cannot succeed.
#include <tulip/http/client_session.hpp>

#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <tulip/http/fetch.hpp>
#include <tulip/http/form_data.hpp>
#include <tulip/http/server.hpp>
#include <tulip/streams/open_connection.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace lifetime_http_client_test {

using namespace tulip;
using test::close_and_wait;
using test::eventually;

namespace {

std::string big(std::size_t n) { return std::string(n, 'x'); }

class HttpClientLifetimeTest : public test::IoLoopTest {
protected:
    http::Application app() {
        http::Application a;
        a.get("/", [](http::Request&) -> Coro<http::Response> { co_return http::Response::text("hello"); });
        a.get("/big", [](http::Request&) -> Coro<http::Response> { co_return http::Response::text(big(2'000'000)); });
        a.get("/slow", [](http::Request&) -> Coro<http::Response> {
            co_await sleep(0.05);
            co_return http::Response::text("slow");
        });
        return a;
    }
    static Coro<http::Server> serve(http::Application a) {
        http::ServerOptions o;
        co_return co_await http::start_server(std::move(a), "127.0.0.1", 0, std::move(o));
    }
    static std::string url(const http::Server& s, const char* path) {
        return "http://127.0.0.1:" + std::to_string(s.addresses().at(0).port()) + path;
    }
};

// Outlive the loop: destroyed after TearDown closed it (and checked the fds).
class AfterTheLoop : public HttpClientLifetimeTest {
protected:
    std::optional<http::ClientSession> session;
    std::optional<http::ClientResponse> response;
};

TEST_F(HttpClientLifetimeTest, TheSessionDroppedWhileAResponseIsReadLetsItFinishThenClosesTheConnection) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        std::optional<http::ClientSession> session(std::in_place);
        http::ClientResponse r = co_await session->get(url(server, "/big"));
        session.reset();  // not closed: its idle connections go, this one stays with the response
        std::string body = co_await r.read();
        EXPECT_EQ(body.size(), 2'000'000u);
        // The body ended: the connection would go back to the pool, but
        // the session is gone, so it closes.
        co_await eventually([&] { return server.connection_count() == 0; });
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientLifetimeTest, TheSessionDroppedWithARequestInFlight) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        std::optional<http::ClientSession> session(std::in_place);
        auto t = create_task(session->get(url(server, "/slow")));
        co_await sleep(0.01);
        session.reset();
        http::ClientResponse r = co_await t;  // the request holds what it needs
        EXPECT_EQ(co_await r.read(), "slow");
        co_await eventually([&] { return server.connection_count() == 0; });
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientLifetimeTest, CloseWhileARequestWaitsForASlotFailsTheWaiter) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.limit = 1;
        http::ClientSession session(std::move(o));
        http::ClientResponse held = co_await session.get(url(server, "/big"));
        auto waiting = create_task(session.get(url(server, "/")));
        co_await sleep(0.01);
        EXPECT_FALSE(waiting.done());
        co_await session.close();
        bool refused = false;
        try {
            (void)co_await waiting;
        } catch (const http::ClientError&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        held.release();  // half-read: closed, never pooled
        co_await eventually([&] { return session.connection_count() == 0; });
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientLifetimeTest, ARequestCancelledWhileWaitingForASlotLeavesTheQueue) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.limit = 1;
        http::ClientSession session(std::move(o));
        http::ClientResponse held = co_await session.get(url(server, "/big"));
        auto a = create_task(session.get(url(server, "/")));
        auto b = create_task(session.get(url(server, "/")));
        co_await sleep(0.01);
        a.cancel();
        (void)co_await held.read();  // the connection goes back: b gets it, not the cancelled a
        http::ClientResponse rb = co_await b;
        EXPECT_EQ(co_await rb.read(), "hello");
        EXPECT_TRUE(a.cancelled());
        EXPECT_EQ(session.connections_made(), 1u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientLifetimeTest, ARequestCancelledDuringConnectFreesItsSlot) {
    run_io(([&]() -> Coro<void> {
        // A listener that never accepts: the TCP connect completes in the
        // kernel, the TLS handshake never does.
        Socket listener = test::listener();
        std::uint16_t port = listener.getsockname().port();
        http::ClientSessionOptions o;
        o.limit = 1;
        http::ClientSession session(std::move(o));
        auto t = create_task(session.get("https://127.0.0.1:" + std::to_string(port) + "/"));
        co_await sleep(0.05);
        EXPECT_EQ(session.connection_count(), 1u);
        t.cancel();
        bool cancelled = false;
        try {
            (void)co_await t;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        co_await eventually([&] { return session.connection_count() == 0; });
        co_await session.close();
        listener.close();
    })());
}

TEST_F(HttpClientLifetimeTest, TheServerGoneMidBodyFailsTheReaderAndTheGeneratorDroppedHalfWay) {
    run_io(([&]() -> Coro<void> {
        auto cb = [](StreamReader r, StreamWriter w) -> Coro<void> {
            (void)co_await r.readuntil("\r\n\r\n");
            w.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + big(1000));
            co_await w.drain();
            co_await sleep(0.02);
            w.transport().abort();
        };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        http::ClientSession session;
        http::ClientResponse r =
            co_await session.get("http://127.0.0.1:" + std::to_string(test::port_of(server)) + "/");
        {
            auto parts = r.iter_chunked(100);
            auto first = co_await parts.next();
            EXPECT_TRUE(first && first->size() == 100);
        }  // dropped half-way
        bool failed = false;
        try {
            (void)co_await r.read();
        } catch (const http::ClientPayloadError&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        co_await eventually([&] { return session.connection_count() == 0; });
        co_await session.close();
        co_await close_and_wait(server);
    })());
}

TEST_F(HttpClientLifetimeTest, AnAsyncHttpClientDroppedWhileItsFetchesRun) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        std::optional<http::AsyncHTTPClient> client(std::in_place);
        Task<http::FetchResponse> f = client->fetch(url(server, "/slow"));
        bool called = false;
        client->fetch(url(server, "/slow"),
                      [&](http::FetchResponse r, std::exception_ptr e) { called = !e && r.body == "slow"; });
        client.reset();  // the fetches hold the session's state
        http::FetchResponse r = co_await f;
        EXPECT_EQ(r.body, "slow");
        co_await eventually([&] { return called; });
        co_await eventually([&] { return server.connection_count() == 0; });
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientLifetimeTest, AFormDataAndItsFileGoneBeforeTheBodyIsSent) {
    char name[] = "/tmp/tulip_form_life_XXXXXX";
    int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "file body", 9), 9);
    ::close(fd);
    const std::string path = name;
    run_io(([&]() -> Coro<void> {
        http::Application a;
        a.post("/len", [](http::Request& r) -> Coro<http::Response> {
            co_return http::Response::text(std::to_string((co_await r.read()).size()));
        });
        http::Server server = co_await serve(std::move(a));
        http::ClientSession session;
        http::RequestOptions o;
        {
            http::FormData form;  // dropped: the request keeps its own parts
            form.add_field("a", "1");
            form.add_file("f", path);
            o.multipart = std::move(form);
        }
        Coro<http::ClientResponse> req = session.post(url(server, "/len"), std::move(o));
        ::unlink(path.c_str());  // the file goes before the body is read: the open fails clearly
        bool failed = false;
        try {
            (void)co_await std::move(req);
        } catch (const std::system_error&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        co_await eventually([&] { return session.connection_count() == 0; });
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
    ::unlink(path.c_str());
}

TEST_F(AfterTheLoop, ASessionWithIdleConnectionsAndAResponseOutliveTheLoop) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        session.emplace();
        response = co_await session->get(url(server, "/big"));  // held, body unread
        http::ClientResponse r = co_await session->get(url(server, "/"));
        EXPECT_EQ(co_await r.read(), "hello");  // its connection is idle in the pool now
        EXPECT_EQ(session->connection_count(), 2u);
        EXPECT_EQ(session->idle_count(), 1u);
        co_await server.shutdown(0.01);
    })());
    // TearDown closes the loop with both connections open; the session and
    // the response are destroyed after it.
}

TEST_F(HttpClientLifetimeTest, ASessionIsBoundToTheLoopOfItsFirstRequest) {
    http::ClientSession session;
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientResponse r = co_await session.get(url(server, "/"));
        EXPECT_EQ(co_await r.read(), "hello");  // an idle connection of this loop stays in the pool
        co_await server.shutdown(0.01);
    })());
    EventLoop other;
    bool refused = false;
    other.run_until_complete(([&]() -> Coro<void> {
        try {
            (void)co_await session.get("http://127.0.0.1:1/");
        } catch (const std::logic_error&) {
            refused = true;
        }
    })());
    other.close();
    EXPECT_TRUE(refused);
}

}  // namespace
}  // namespace lifetime_http_client_test
