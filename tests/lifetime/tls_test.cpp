// Lifetime matrix, TLS (issue 11): the TLS transport and the transport
// below it, the application's protocol and its handle, the SSLContext, the
// server, the loop. Each case closes or drops one object before, during or
// after the other's operation and checks: no memory error (asan preset), no
// leak (LeakSanitizer and the fixture's fd count), no hang (run_io's bound),
// and a clear exception where the operation cannot succeed.
#include <tulip/tulip.hpp>

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/loop_test.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"

namespace lifetime_tls_test {

using namespace tulip;
using test::close_and_wait;
using test::eventually;

namespace {

class TlsLifetimeTest : public test::IoLoopTest {};

ssl::SSLContext server_ctx() {
    ssl::SSLContext c(ssl::PROTOCOL_TLS_SERVER);
    c.load_cert_chain(test::test_pki().server.cert, test::test_pki().server.key);
    return c;
}

ssl::SSLContext client_ctx() {
    ssl::SSLContext c(ssl::PROTOCOL_TLS_CLIENT);
    c.load_verify_locations(test::test_pki().ca.cert);
    return c;
}

// What a protocol saw; outlives the protocol. `act` runs at each event.
struct Events {
    std::vector<std::string> seen;
    std::string data;
    int lost = 0;
    std::exception_ptr lost_exc;
    bool destroyed = false;
    Transport* t = nullptr;
    std::function<void(Transport&, const std::string&)> act;
    void note(const std::string& ev) {
        seen.push_back(ev);
        if (act && t) act(*t, ev);
    }
};

struct Rec : Protocol {
    explicit Rec(Events* e) : e(e) {}
    ~Rec() override { e->destroyed = true; }
    void connection_made(Transport& t) override {
        e->t = &t;
        e->note("made");
    }
    void data_received(std::string_view d) override {
        e->data.append(d);
        e->note("data");
    }
    bool eof_received() override {
        e->note("eof");
        return false;
    }
    void connection_lost(std::exception_ptr x) override {
        ++e->lost;
        e->lost_exc = x;
        e->note("lost");
        e->t = nullptr;
    }
    int value = 42;
    Events* e;
    std::shared_ptr<Events> keep;  // a server's protocols keep their Events alive
};

// A TLS server of Rec protocols. Its connections may outlive it (the
// transports go after connection_lost), so they share its Events.
struct EchoServer {
    std::shared_ptr<Events> shared = std::make_shared<Events>();
    Events& events = *shared;
    Server server;
    std::uint16_t port = 0;
};

Coro<void> start_echo(EchoServer& s, ServerOptions so = {}) {
    s.events.act = [](Transport& t, const std::string& ev) {
        (void)t;
        (void)ev;
    };
    auto factory = [ev = s.shared] {
        auto p = std::make_unique<Rec>(ev.get());
        p->keep = ev;
        return p;
    };
    so.ssl = server_ctx();
    s.server = co_await create_server(factory, "127.0.0.1", 0, so);
    s.port = s.server.addresses().at(0).port();
}

Coro<ConnectionPair<Rec>> connect_rec(Events& e, std::uint16_t port, ConnectOptions co = {}) {
    co.ssl = client_ctx();
    co.server_hostname = "localhost";
    auto factory = [&e] { return std::make_unique<Rec>(&e); };
    co_return co_await create_connection(factory, "127.0.0.1", port, co);
}

}  // namespace

TEST_F(TlsLifetimeTest, TheSecureTransportHandleDroppedWhileOpenKeepsTheConnectionUntilItCloses) {
    run_io(([]() -> Coro<void> {
        EchoServer s;
        co_await start_echo(s);
        Events e;
        {
            auto [t, p] = co_await connect_rec(e, s.port);
            t->write("x");
        }  // every handle gone: the loop keeps the connection
        co_await eventually([&] { return s.events.data == "x"; });
        EXPECT_EQ(e.lost, 0);
        s.server.close_clients();  // the peer goes: connection_lost runs, then everything is freed
        co_await eventually([&] { return e.lost == 1 && e.destroyed; });
        co_await close_and_wait(s.server);
    })());
}

TEST_F(TlsLifetimeTest, TheProtocolHandleOutlivesTheConnectionAndTheSecureTransport) {
    run_io(([]() -> Coro<void> {
        EchoServer s;
        co_await start_echo(s);
        Events e;
        ProtocolRef<Rec, Transport> kept;
        {
            auto [t, p] = co_await connect_rec(e, s.port);
            kept = p;
            t->close();
        }
        co_await eventually([&] { return e.lost == 1; });
        EXPECT_FALSE(e.destroyed);
        EXPECT_EQ(kept->value, 42);  // still valid: the handle keeps the transports
        EXPECT_TRUE(kept.transport()->is_closing());
        kept = {};
        EXPECT_TRUE(e.destroyed);
        co_await close_and_wait(s.server);
    })());
}

TEST_F(TlsLifetimeTest, CloseFromInsideConnectionMade) {
    run_io(([]() -> Coro<void> {
        EchoServer s;
        co_await start_echo(s);
        Events e;
        e.act = [](Transport& t, const std::string& ev) {
            if (ev == "made") t.close();
        };
        auto [t, p] = co_await connect_rec(e, s.port);
        EXPECT_TRUE(t->is_closing());
        co_await eventually([&] { return e.lost == 1; });
        EXPECT_FALSE(e.lost_exc);
        co_await close_and_wait(s.server);
    })());
}

TEST_F(TlsLifetimeTest, AbortAndDropEverythingFromInsideDataReceived) {
    run_io(([]() -> Coro<void> {
        EchoServer s;
        co_await start_echo(s);
        s.events.act = [](Transport& t, const std::string& ev) {
            if (ev == "data") t.write("reply");
        };
        Events e;
        std::unique_ptr<ConnectionPair<Rec>> conn;
        e.act = [&conn](Transport& t, const std::string& ev) {
            if (ev == "data") {
                t.abort();
                conn.reset();  // the last handles go while data_received runs
            }
        };
        conn = std::make_unique<ConnectionPair<Rec>>(co_await connect_rec(e, s.port));
        conn->first->write("ping");
        co_await eventually([&] { return e.lost == 1 && e.destroyed; });
        co_await close_and_wait(s.server);
    })());
}

TEST_F(TlsLifetimeTest, OpenConnectionCancelledMidHandshakeClosesItsSocket) {
    run_io(([]() -> Coro<void> {
        Socket l = test::listener();  // never answers the ClientHello
        StreamOptions o;
        o.connect.ssl = client_ctx();
        o.connect.server_hostname = "localhost";
        Task<StreamPair> t = create_task(open_connection("127.0.0.1", l.getsockname().port(), o));
        co_await sleep(0.05);
        t.cancel();
        bool cancelled = false;
        try {
            (void)co_await t;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        co_await sleep(0);  // the transport's connection_lost runs; the fixture counts fds
    })());
}

TEST_F(TlsLifetimeTest, TheServerClosedAndDroppedWhileAHandshakeIsHalfDone) {
    run_io(([]() -> Coro<void> {
        auto s = std::make_unique<EchoServer>();
        co_await start_echo(*s);
        // A client that sends half a ClientHello and waits.
        Socket c = Socket::create(AF_INET);
        co_await sock_connect(c, SocketAddress::from_ip("127.0.0.1", s->port));
        co_await sock_sendall(c, std::string("\x16\x03\x01\x00\xff\x01", 6));
        co_await sleep(0.05);
        s->server.close();
        s->server.abort_clients();
        s.reset();
        std::string rest = co_await test::recv_until_eof(c);
        EXPECT_TRUE(rest.empty());
    })());
}

TEST_F(TlsLifetimeTest, TheContextHandleDroppedWhileConnectionsUseIt) {
    run_io(([]() -> Coro<void> {
        EchoServer s;
        co_await start_echo(s);
        Events e;
        ConnectionPair<Rec> conn;
        {
            ConnectOptions co;
            ssl::SSLContext ctx = client_ctx();
            co.ssl = ctx;
            co.server_hostname = "localhost";
            auto factory = [&e] { return std::make_unique<Rec>(&e); };
            conn = co_await create_connection(factory, "127.0.0.1", s.port, co);
        }  // the user's context handles are gone; the connection keeps its own
        conn.first->write("still");
        co_await eventually([&] { return s.events.data == "still"; });
        auto ctx = std::any_cast<ssl::SSLContext>(conn.first->get_extra_info("sslcontext"));
        EXPECT_EQ(ctx.mode(), ssl::PROTOCOL_TLS_CLIENT);
        conn.first->close();
        co_await eventually([&] { return e.lost == 1; });
        co_await close_and_wait(s.server);
    })());
}

TEST_F(TlsLifetimeTest, APeerThatNeverAnswersCloseNotifyIsCutAtTheShutdownTimeout) {
    run_io(([]() -> Coro<void> {
        EchoServer s;
        co_await start_echo(s);
        // The server side stops reading: our close_notify is never answered.
        s.events.act = [](Transport& t, const std::string& ev) {
            if (ev == "made") t.pause_reading();
        };
        Events e;
        ConnectOptions co;
        co.ssl_shutdown_timeout = 0.2;
        auto [t, p] = co_await connect_rec(e, s.port, co);
        co_await eventually([&] { return s.events.seen.size() >= 1; });
        t->close();
        co_await eventually([&] { return e.lost == 1; });
        bool timed_out = false;
        try {
            if (e.lost_exc) std::rethrow_exception(e.lost_exc);
        } catch (const TimeoutError& x) {
            timed_out = std::string(x.what()).find("SSL shutdown timed out") != std::string::npos;
        }
        EXPECT_TRUE(timed_out);
        s.server.close_clients();
        co_await close_and_wait(s.server);
    })());
}

TEST_F(TlsLifetimeTest, SetProtocolFromInsideDataReceivedKeepsTheOldProtocolAlive) {
    run_io(([]() -> Coro<void> {
        EchoServer s;
        co_await start_echo(s);
        s.events.act = [](Transport& t, const std::string& ev) {
            if (ev == "data") t.write("one");
        };
        Events e1, e2;
        e1.act = [&e2](Transport& t, const std::string& ev) {
            if (ev == "data") t.set_protocol(std::make_unique<Rec>(&e2));
        };
        auto [t, p] = co_await connect_rec(e1, s.port);
        t->write("go");
        co_await eventually([&] { return e1.data == "one"; });
        EXPECT_FALSE(e1.destroyed);
        EXPECT_EQ(p->value, 42);  // the replaced protocol lives as long as the transport
        s.events.act = [](Transport& tt, const std::string& ev) {
            if (ev == "data") tt.write("two");
        };
        t->write("again");
        co_await eventually([&] { return e2.data == "two"; });
        t->close();
        co_await eventually([&] { return e1.lost == 0 && e2.lost == 1; });
        co_await close_and_wait(s.server);
    })());
}

TEST_F(TlsLifetimeTest, StartTlsOnATransportAbortedDuringTheHandshakeRaises) {
    run_io(([]() -> Coro<void> {
        Socket l = test::listener();  // a plain peer that never speaks TLS
        Events e;
        auto factory = [&e] { return std::make_unique<Rec>(&e); };
        auto [t, p] = co_await create_connection(factory, "127.0.0.1", l.getsockname().port());
        StartTLSOptions o;
        o.server_hostname = "localhost";
        Task<Ref<Transport>> up = create_task(start_tls(t, client_ctx(), o));
        co_await sleep(0.05);
        t->abort();
        bool failed = false;
        try {
            (void)co_await up;
        } catch (const std::system_error&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        co_await eventually([&] { return e.lost == 1; });  // the plain protocol hears of it once
    })());
}

}  // namespace lifetime_tls_test
