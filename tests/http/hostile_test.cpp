// tests/http/hostile_test.cpp — clients that try to hurt the server: slowloris
// (many connections that send half a head and stall), abrupt resets in the
// middle of a request and of a response, a client that never reads a large
// streamed response, and more clients than limits.max_connections. Each
// costs only its own connection, and a well-behaved client is still served.
#include <sys/resource.h>
#include <sys/socket.h>

#include <tulip/http/server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <tulip/http/exceptions.hpp>

#include "http/http_client.hpp"
#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace http_hostile_test {

using namespace tulip;
using tulip::test::RawClient;
using tulip::test::Reply;

namespace {

// Resets the connection (RST, not FIN): SO_LINGER with a zero timeout, then close.
void reset(RawClient& c) {
    struct linger lg {
        1, 0
    };
    ::setsockopt(c.socket().fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    c.socket().close();
}

// How many slowloris connections this process can afford: each costs two
// fds here (the client's and the server's).
std::size_t slowloris_count() {
    struct rlimit rl {};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    std::size_t budget = rl.rlim_cur == RLIM_INFINITY ? 100000 : static_cast<std::size_t>(rl.rlim_cur);
    budget = budget > 200 ? (budget - 200) / 3 : 0;
    return std::min<std::size_t>(1000, budget);
}

class HttpHostileTest : public test::IoLoopTest {
protected:
    int calls = 0;

    http::Application app() {
        http::Application a;
        a.get("/", [this](http::Request&) -> Coro<http::Response> {
            ++calls;
            co_return http::Response::text("hello");
        });
        a.post("/echo", [this](http::Request& r) -> Coro<http::Response> {
            ++calls;
            std::string body = co_await r.read();
            co_return http::Response::text(std::move(body));
        });
        return a;
    }

    static Coro<http::Server> serve(http::Application a, http::ServerOptions o) {
        co_return co_await http::start_server(std::move(a), "127.0.0.1", 0, std::move(o));
    }

    static Coro<Reply> get(const http::Server& s) {
        RawClient c = co_await RawClient::connect(s.addresses().at(0));
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        co_return co_await c.reply();
    }
};

TEST_F(HttpHostileTest, SlowlorisConnectionsAreTimedOutAndOthersServed) {
    const std::size_t n = slowloris_count();
    if (n < 10) GTEST_SKIP() << "RLIMIT_NOFILE too low for a slowloris test";
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.timeouts.header = 0.5;
        o.limits.max_connections = n + 10;
        http::Server server = co_await serve(app(), o);
        std::vector<RawClient> slow;
        slow.reserve(n);
        // Connect all first (an idle connection waits for keep_alive, not
        // header), so that on a loaded machine the slow connecting does not
        // eat into the header timeout; then all stall inside a head at once.
        for (std::size_t i = 0; i < n; ++i) {
            RawClient c = co_await RawClient::connect(server.addresses().at(0));
            slow.push_back(std::move(c));
        }
        co_await test::eventually([&] { return server.connection_count() == n; });
        for (auto& c : slow) co_await c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");  // and nothing more
        // A normal client is answered while they are still held open (its
        // own connection and at least the last stalled one).
        Reply ok = co_await get(server);
        EXPECT_EQ(ok.status, 200);
        EXPECT_EQ(ok.body, "hello");
        EXPECT_GE(server.connection_count(), 2u);
        // Then every stalled one gets its 408 (or is just closed), none
        // reaching the handler.
        std::size_t answered = 0, closed = 0;
        for (auto& c : slow) {
            try {
                Reply r = co_await c.reply();
                EXPECT_EQ(r.status, 408);
                ++answered;
            } catch (const ConnectionResetError&) {
                // Reset without a response.
            } catch (const std::runtime_error&) {
                // EOF before any response: closed without one.
            }
            bool is_closed = co_await c.closed();
            if (is_closed) ++closed;
        }
        EXPECT_EQ(closed, n);
        EXPECT_GT(answered, 0u);
        EXPECT_EQ(calls, 1);
        co_await test::eventually([&] { return server.connection_count() == 0; });
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpHostileTest, ResetMidRequestCostsOnlyThatConnection) {
    bool handler_saw_reset = false;
    http::Application a = app();
    a.post("/upload", [&](http::Request& r) -> Coro<http::Response> {
        try {
            std::string body = co_await r.read();
        } catch (const ConnectionResetError&) {
            handler_saw_reset = true;
            throw;
        }
        co_return http::Response::text("got it");
    });
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        http::Server server = co_await serve(std::move(a), o);
        RawClient keep = co_await RawClient::connect(server.addresses().at(0));
        co_await keep.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await keep.reply()).status, 200);
        // Reset in the middle of a head.
        {
            RawClient c = co_await RawClient::connect(server.addresses().at(0));
            co_await c.send("GET / HTTP/1.1\r\nHo");
            co_await test::eventually([&] { return server.connection_count() == 2; });
            co_await sleep(0.01);
            reset(c);
        }
        co_await test::eventually([&] { return server.connection_count() == 1; });
        // Reset in the middle of a body the handler is reading.
        {
            RawClient c = co_await RawClient::connect(server.addresses().at(0));
            co_await c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
            co_await sleep(0.02);
            reset(c);
        }
        co_await test::eventually([&] { return server.connection_count() == 1 && handler_saw_reset; });
        // The first connection is still served.
        co_await keep.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await keep.reply()).body, "hello");
        co_await server.shutdown(1.0);
    })());
    EXPECT_TRUE(handler_saw_reset);
}

TEST_F(HttpHostileTest, ResetMidResponseCostsOnlyThatConnection) {
    bool write_raised = false;
    http::Application a = app();
    a.get("/big", [&](http::Request& r) -> Coro<http::Response> {
        http::Response resp(200);
        co_await resp.prepare(r);
        try {
            for (int i = 0; i < 2000; ++i) {
                co_await resp.write(std::string(64 * 1024, 'x'));
                co_await sleep(0.001);
            }
        } catch (const ConnectionResetError&) {
            write_raised = true;
            throw;
        }
        co_return resp;
    });
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        http::Server server = co_await serve(std::move(a), o);
        RawClient keep = co_await RawClient::connect(server.addresses().at(0));
        co_await keep.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await keep.reply()).status, 200);
        {
            RawClient c = co_await RawClient::connect(server.addresses().at(0));
            co_await c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
            std::string got = co_await sock_recv(c.socket(), 65536);
            EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
            reset(c);
        }
        co_await test::eventually([&] { return write_raised && server.connection_count() == 1; });
        co_await keep.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await keep.reply()).body, "hello");
        co_await server.shutdown(1.0);
    })());
    EXPECT_TRUE(write_raised);
}

TEST_F(HttpHostileTest, ClientThatNeverReadsIsAbortedAfterSendIdle) {
    std::optional<std::string> write_error;
    int writes = 0;
    http::Application a = app();
    a.get("/flood", [&](http::Request& r) -> Coro<http::Response> {
        http::Response resp(200);
        co_await resp.prepare(r);
        try {
            // Bounded: far more than any socket buffer holds.
            for (; writes < 4096; ++writes) co_await resp.write(std::string(64 * 1024, 'x'));
        } catch (const std::exception& e) {
            write_error = e.what();
            throw;
        }
        co_return resp;
    });
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.timeouts.send_idle = 0.2;
        http::Server server = co_await serve(std::move(a), o);
        RawClient c = co_await RawClient::connect(server.addresses().at(0));
        co_await c.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n");  // and never reads
        co_await test::eventually([&] { return write_error.has_value(); });
        EXPECT_LT(writes, 4096);
        co_await test::eventually([&] { return server.connection_count() == 0; });
        // A client that does read is still served.
        Reply ok = co_await get(server);
        EXPECT_EQ(ok.body, "hello");
        co_await server.shutdown(1.0);
    })());
    EXPECT_TRUE(write_error.has_value());
}

TEST_F(HttpHostileTest, MaxConnectionsMakesTheThirdClientWait) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.limits.max_connections = 2;
        http::Server server = co_await serve(app(), o);
        SocketAddress addr = server.addresses().at(0);
        RawClient first = co_await RawClient::connect(addr);
        std::optional<RawClient> a(std::move(first));
        RawClient b = co_await RawClient::connect(addr);
        co_await a->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        co_await b.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await a->reply()).status, 200);
        EXPECT_EQ((co_await b.reply()).status, 200);
        // The kernel completes the third connect (backlog), but the server
        // does not take it while two are open.
        RawClient c = co_await RawClient::connect(addr);
        co_await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        bool waited = co_await test::times_out(wait_for(c.reply(), 0.2));
        EXPECT_TRUE(waited);
        EXPECT_EQ(server.connection_count(), 2u);
        EXPECT_EQ(calls, 2);
        a.reset();  // one closes: the third is taken and answered
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "hello");
        EXPECT_LE(server.connection_count(), 2u);
        co_await server.shutdown(1.0);
    })());
}

}  // namespace

}  // namespace http_hostile_test
