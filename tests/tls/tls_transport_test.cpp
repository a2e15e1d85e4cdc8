// The TLS transport between tulip's own client and server over loopback
// (asyncio's test_sslproto.py and the ssl parts of test_streams.py):
// handshake, data both ways, extra info, flow control, close_notify, EOF,
// timeouts, errors that cost one connection only, start_tls, lifetimes.
// The peers nobody here wrote (openssl, Python) are in tls_peers_test.cpp.
#include <tulip/tls/start_tls.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include <tulip/tulip.hpp>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"

namespace tls_tls_transport_test {

using namespace tulip;
using test::close_and_wait;
using test::port_of;

namespace {

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

StreamOptions server_opts(ssl::SSLContext c = server_ctx()) {
    StreamOptions o;
    o.server.ssl = c;
    return o;
}

StreamOptions client_opts(ssl::SSLContext c = client_ctx(), std::string host = "localhost") {
    StreamOptions o;
    o.connect.ssl = c;
    o.connect.server_hostname = host;
    return o;
}

template <class A>
auto bounded(A a) {
    return wait_for(std::move(a), test::kLoopbackTimeout);
}

Coro<void> echo_until_eof(StreamReader r, StreamWriter w) {
    for (;;) {
        std::string chunk = co_await r.read(65536);
        if (chunk.empty()) break;
        w.write(chunk);
        co_await w.drain();
    }
    co_await close_and_wait(w);
}

}  // namespace

class TlsTransportTest : public test::RealTimeLoopTest {};

TEST_F(TlsTransportTest, StreamsEchoOverTlsWithExtraInfo) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_until_eof, "127.0.0.1", 0, server_opts());
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts());
        w.write("hello over tls\n");
        std::string line = co_await r.readline();
        EXPECT_EQ(line, "hello over tls\n");
        EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("tls_version")), "TLSv1.3");
        auto cipher = std::any_cast<ssl::Cipher>(w.get_extra_info("cipher"));
        EXPECT_FALSE(cipher.name.empty());
        EXPECT_GT(cipher.secret_bits, 0);
        auto cert = std::any_cast<ssl::PeerCert>(w.get_extra_info("peercert"));
        bool has_cn = false;
        for (auto& [k, v] : cert.subject) has_cn = has_cn || (k == "commonName" && v == "localhost");
        EXPECT_TRUE(has_cn);
        bool has_ip = false;
        for (auto& [k, v] : cert.subject_alt_name) has_ip = has_ip || (k == "IP Address" && v == "127.0.0.1");
        EXPECT_TRUE(has_ip);
        EXPECT_TRUE(w.get_extra_info("sslcontext").has_value());
        EXPECT_TRUE(std::any_cast<ssl::SSLObject>(w.get_extra_info("ssl_object")));
        EXPECT_FALSE(std::any_cast<std::optional<std::string>>(w.get_extra_info("compression")).has_value());
        EXPECT_TRUE(w.get_extra_info("peername").has_value());  // from the socket transport below
        EXPECT_FALSE(w.can_write_eof());
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, FourMegabytesEachWayWithFlowControl) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_until_eof, "127.0.0.1", 0, server_opts());
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts());
        const std::size_t total = 4 << 20;
        std::string data = test::pattern(0, total);
        auto writer = [](StreamWriter w, std::string data) -> Coro<void> {
            for (std::size_t off = 0; off < data.size(); off += 100000) {
                w.write(std::string_view(data).substr(off, 100000));
                co_await w.drain();
            }
        };
        Task<void> wt = create_task(writer(w, data));
        std::string got = co_await r.readexactly(total);
        co_await wt;
        EXPECT_TRUE(got == data);
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, CloseSendsCloseNotifyAndThePeerSeesEof) {
    auto body = []() -> Coro<void> {
        Event got_eof;
        bool eof = false;
        auto handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
            std::string all = co_await r.read();  // until EOF
            eof = r.at_eof();
            w.write("bye:" + all);
            co_await close_and_wait(w);
            got_eof.set();
        };
        Server server = co_await start_server(handler, "127.0.0.1", 0, server_opts());
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts());
        w.write("abc");
        co_await w.drain();
        // No half-close in TLS: close() sends close_notify; the reply that
        // was already on its way is still read... only if it came first, so
        // here the server replies after our close and we only check the EOF.
        w.close();
        co_await got_eof.wait();
        EXPECT_TRUE(eof);
        co_await w.wait_closed();
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, TheServerClosingGivesTheClientEofAfterTheData) {
    auto body = []() -> Coro<void> {
        auto handler = [](StreamReader, StreamWriter w) -> Coro<void> {
            w.write(std::string(100000, 'x'));
            co_await close_and_wait(w);
        };
        Server server = co_await start_server(handler, "127.0.0.1", 0, server_opts());
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts());
        std::string all = co_await r.read();
        EXPECT_EQ(all.size(), 100000u);
        EXPECT_TRUE(r.at_eof());
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, AnUnknownCertificateFailsTheClientWithAVerifyError) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_until_eof, "127.0.0.1", 0, server_opts());
        ssl::SSLContext no_ca(ssl::PROTOCOL_TLS_CLIENT);  // trusts nothing
        bool failed = false;
        try {
            auto conn = co_await open_connection("127.0.0.1", port_of(server), client_opts(no_ca));
        } catch (const ssl::SSLCertVerificationError& e) {
            failed = true;
            EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("localhost"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(failed);
        // The server still serves a client that trusts it.
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts());
        w.write("ok\n");
        EXPECT_EQ(co_await r.readline(), "ok\n");
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, AHostnameMismatchNamesTheHost) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_until_eof, "127.0.0.1", 0, server_opts());
        bool failed = false;
        try {
            auto conn =
                co_await open_connection("127.0.0.1", port_of(server), client_opts(client_ctx(), "wrong.example"));
        } catch (const ssl::SSLCertVerificationError& e) {
            failed = true;
            EXPECT_NE(std::string(e.what()).find("wrong.example"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(failed);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, APlainTextClientCostsOnlyItsOwnConnection) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_until_eof, "127.0.0.1", 0, server_opts());
        auto [pr, pw] = co_await open_connection("127.0.0.1", port_of(server));
        pw.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        std::string reply = co_await pr.read();  // the server closes (after an alert)
        EXPECT_TRUE(pr.at_eof());
        co_await close_and_wait(pw);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts());
        w.write("still fine\n");
        EXPECT_EQ(co_await r.readline(), "still fine\n");
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, ASilentServerTimesOutTheHandshake) {
    auto body = []() -> Coro<void> {
        Socket l = test::listener();  // accepts (backlog) and never speaks
        std::uint16_t port = l.getsockname().port();
        StreamOptions o = client_opts();
        o.connect.ssl_handshake_timeout = 0.2;
        bool aborted = false;
        try {
            auto conn = co_await open_connection("127.0.0.1", port, o);
        } catch (const std::system_error& e) {
            aborted = e.code() == std::errc::connection_aborted;
            EXPECT_NE(std::string(e.what()).find("SSL handshake is taking longer than 0.2 seconds"), std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(aborted);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, TimeoutsWithoutSslAreRefused) {
    auto body = []() -> Coro<void> {
        StreamOptions o;
        o.connect.ssl_handshake_timeout = 1.0;
        bool refused = false;
        try {
            auto conn = co_await open_connection("127.0.0.1", 1, o);
        } catch (const std::invalid_argument& e) {
            refused = std::string(e.what()).find("only meaningful with ssl") != std::string::npos;
        }
        EXPECT_TRUE(refused);
        StreamOptions h;
        h.connect.server_hostname = "x";
        refused = false;
        try {
            auto conn = co_await open_connection("127.0.0.1", 1, h);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        StreamOptions neg = client_opts();
        neg.connect.ssl_handshake_timeout = -1.0;
        refused = false;
        try {
            auto conn = co_await open_connection("127.0.0.1", 1, neg);
        } catch (const std::invalid_argument& e) {
            refused = std::string(e.what()).find("positive") != std::string::npos;
        }
        EXPECT_TRUE(refused);
    };
    run(bounded(body()));
}

namespace {
struct Counter : Protocol {
    explicit Counter(test::Record* r) : r(r) {}
    void connection_made(Transport& t) override {
        r->events.push_back("made");
        r->transport = &t;
    }
    void data_received(std::string_view d) override { r->data.append(d); }
    bool eof_received() override {
        r->events.push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr e) override {
        r->events.push_back("lost");
        r->error = e;
        ++r->lost;
    }
    test::Record* r;
};
}  // namespace

TEST_F(TlsTransportTest, ProtocolsGetMadeAfterTheHandshakeAndLostOnce) {
    auto body = []() -> Coro<void> {
        test::ServerRecord srv;
        srv.echo = true;
        ServerOptions so;
        so.ssl = server_ctx();
        Server server = co_await create_server(test::server_factory(srv), "127.0.0.1", 0, so);
        test::Record rec;
        ConnectOptions co;
        co.ssl = client_ctx();
        auto [t, p] = co_await create_connection([&rec] { return std::make_unique<Counter>(&rec); }, "localhost",
                                                 port_of(server), co);
        EXPECT_EQ(rec.events, test::Events{"made"});
        EXPECT_EQ(rec.transport, t.get());
        // Written before anything was read: goes out once wrapped.
        t->write("ping");
        co_await test::eventually([&] { return rec.data == "ping"; });
        EXPECT_EQ(srv.made, 1);
        t->close();
        EXPECT_TRUE(t->is_closing());
        co_await test::eventually([&] { return rec.lost == 1; });
        EXPECT_EQ(rec.events, (test::Events{"made", "eof", "lost"}));
        EXPECT_FALSE(rec.error);
        co_await test::eventually([&] { return srv.lost == 1; });
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, AbortDropsTheConnectionAtOnce) {
    auto body = []() -> Coro<void> {
        test::ServerRecord srv;
        ServerOptions so;
        so.ssl = server_ctx();
        Server server = co_await create_server(test::server_factory(srv), "127.0.0.1", 0, so);
        test::Record rec;
        ConnectOptions co;
        co.ssl = client_ctx();
        co.server_hostname = "localhost";
        auto [t, p] = co_await create_connection([&rec] { return std::make_unique<Counter>(&rec); }, "127.0.0.1",
                                                 port_of(server), co);
        t->abort();
        co_await test::eventually([&] { return rec.lost == 1; });
        co_await test::eventually([&] { return srv.lost == 1; });
        EXPECT_EQ(rec.events, (test::Events{"made", "lost"}));
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, StartTlsUpgradesAPlainStream) {
    auto body = []() -> Coro<void> {
        auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
            std::string cmd = co_await r.readline();
            if (cmd != "STARTTLS\n") co_return;
            w.write("GO\n");
            co_await w.start_tls(server_ctx());
            std::string secret = co_await r.readline();
            w.write("secure:" + secret);
            co_await close_and_wait(w);
        };
        Server server = co_await start_server(handler, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        w.write("STARTTLS\n");
        EXPECT_EQ(co_await r.readline(), "GO\n");
        StartTLSOptions o;
        o.server_hostname = "localhost";
        co_await w.start_tls(client_ctx(), o);
        EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("tls_version")), "TLSv1.3");
        w.write("hunter2\n");
        EXPECT_EQ(co_await r.readline(), "secure:hunter2\n");
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, TheClientResumesItsSession) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_until_eof, "127.0.0.1", 0, server_opts());
        ssl::SSLContext c = client_ctx();
        for (int i = 0; i < 2; ++i) {
            auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts(c));
            w.write("x\n");
            EXPECT_EQ(co_await r.readline(), "x\n");  // the ticket came with the reply
            auto obj = std::any_cast<ssl::SSLObject>(w.get_extra_info("ssl_object"));
            EXPECT_EQ(obj.session_reused(), i == 1) << "connection " << i;
            co_await close_and_wait(w);
        }
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, ALoopClosedWithOpenTlsConnectionsLeaksNothing) {
    test::ServerRecord srv;
    srv.echo = true;
    test::Record rec;
    Ref<Transport> kept;
    auto body = [&]() -> Coro<void> {
        ServerOptions so;
        so.ssl = server_ctx();
        Server server = co_await create_server(test::server_factory(srv), "127.0.0.1", 0, so);
        ConnectOptions co;
        co.ssl = client_ctx();
        auto [t, p] = co_await create_connection([&rec] { return std::make_unique<Counter>(&rec); }, "localhost",
                                                 port_of(server), co);
        t->write("x");
        co_await test::eventually([&] { return rec.data == "x"; });
        kept = t;  // outlives the loop
        // Returns with the server and both ends open; TearDown closes the loop.
    };
    run(bounded(body()));
    loop_->close();
    EXPECT_EQ(rec.lost, 1);
    EXPECT_TRUE(kept->is_closing());
    EXPECT_THROW(kept->write("after the loop closed"), std::runtime_error);  // as the socket transport
}

// ---- asyncio's argument checks and TLS over Unix sockets (test_events,
// test_base_events, test_unix_events, test_streams) -----------------------------

TEST_F(TlsTransportTest, TlsOverAUnixSocketNeedsAServerHostnameAndThenWorks) {
    auto body = []() -> Coro<void> {
        std::string path = test::test_pki().dir + "/tls.sock";
        Server server = co_await start_unix_server(echo_until_eof, path, server_opts());
        // No host to default to (asyncio's "You must set server_hostname
        // when using ssl without a host").
        StreamOptions no_host;
        no_host.connect.ssl = client_ctx();
        bool refused = false;
        try {
            auto conn = co_await open_unix_connection(path, no_host);
        } catch (const std::invalid_argument& e) {
            refused = std::string(e.what()).find("server_hostname") != std::string::npos;
        }
        EXPECT_TRUE(refused);
        auto [r, w] = co_await open_unix_connection(path, client_opts());
        w.write("over a unix socket\n");
        EXPECT_EQ(co_await r.readline(), "over a unix socket\n");
        EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("tls_version")), "TLSv1.3");
        co_await close_and_wait(w);
        // A client that trusts nobody fails there too, and the server goes on.
        bool verify_failed = false;
        try {
            auto conn = co_await open_unix_connection(path, client_opts(ssl::SSLContext(ssl::PROTOCOL_TLS_CLIENT)));
        } catch (const ssl::SSLCertVerificationError&) {
            verify_failed = true;
        }
        EXPECT_TRUE(verify_failed);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(TlsTransportTest, TlsArgumentsAreCheckedAsAsyncioChecksThem) {
    auto body = []() -> Coro<void> {
        // create_connection over a caller's socket: ssl needs server_hostname.
        auto [a, b] = Socket::pair();
        ConnectOptions co;
        co.ssl = client_ctx();
        bool refused = false;
        try {
            auto conn = co_await create_connection([] { return std::make_unique<Protocol>(); }, std::move(a), co);
        } catch (const std::invalid_argument& e) {
            refused = std::string(e.what()) == "You must set server_hostname when using ssl without a host";
        }
        EXPECT_TRUE(refused);
        // A handshake timeout without ssl, on a server.
        ServerOptions so;
        so.ssl_handshake_timeout = 1.0;
        refused = false;
        try {
            Server s = co_await create_server([] { return std::make_unique<Protocol>(); }, "127.0.0.1", 0, so);
        } catch (const std::invalid_argument& e) {
            refused = std::string(e.what()) == "ssl_handshake_timeout is only meaningful with ssl";
        }
        EXPECT_TRUE(refused);
        ServerOptions sd;
        sd.ssl_shutdown_timeout = 1.0;
        refused = false;
        try {
            Server s = co_await create_server([] { return std::make_unique<Protocol>(); }, "127.0.0.1", 0, sd);
        } catch (const std::invalid_argument& e) {
            refused = std::string(e.what()) == "ssl_shutdown_timeout is only meaningful with ssl";
        }
        EXPECT_TRUE(refused);
        // A client context cannot serve, a server context cannot connect.
        ServerOptions wrong;
        wrong.ssl = client_ctx();
        Server s = co_await create_server([] { return std::make_unique<Protocol>(); }, "127.0.0.1", 0, wrong);
        (void)s;
        StreamOptions wrong_client = client_opts(server_ctx());
        refused = false;
        try {
            auto conn = co_await open_connection("127.0.0.1", port_of(s), wrong_client);
        } catch (const std::invalid_argument& e) {
            refused = std::string(e.what()).find("PROTOCOL_TLS_SERVER") != std::string::npos;
        }
        EXPECT_TRUE(refused);
        co_await close_and_wait(s);
    };
    expect_handler_calls = true;  // the wrong server context fails each accepted connection
    run(bounded(body()));
}

// asyncio's test_sendfile_ssl*: sendfile() through TLS falls back to reads
// and writes, with flow control, and the bytes arrive intact.
TEST_F(TlsTransportTest, SendfileThroughTlsTakesTheFallbackAndArrivesIntact) {
    auto body = []() -> Coro<void> {
        constexpr std::size_t size = 3 * 1024 * 1024 + 17;
        std::string path = test::test_pki().dir + "/sendfile.bin";
        std::string data = test::pattern(0, size);
        {
            FILE* f = std::fopen(path.c_str(), "wb");
            CO_ASSERT(f != nullptr);
            std::fwrite(data.data(), 1, data.size(), f);
            std::fclose(f);
        }
        auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {  // size: a constant, not captured
            std::string got = co_await r.readexactly(3 + size + 4);
            w.write(got == "pre" + test::pattern(0, size) + "post" ? "intact\n" : "corrupt\n");
            co_await close_and_wait(w);
        };
        Server server = co_await start_server(handler, "127.0.0.1", 0, server_opts());
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), client_opts());
        // Without the fallback, TLS has no sendfile(2) to offer.
        int fd2 = ::open(path.c_str(), O_RDONLY);
        bool refused = false;
        try {
            (void)co_await sendfile(Ref<BaseTransport>(&w.transport()), fd2, 0, std::nullopt, false);
        } catch (const SendfileNotAvailableError&) {
            refused = true;
        }
        ::close(fd2);
        EXPECT_TRUE(refused);
        w.write("pre");  // data written before and after the file keeps its place
        int fd = ::open(path.c_str(), O_RDONLY);
        CO_ASSERT(fd >= 0);
        std::size_t sent = 0;
        try {
            sent = co_await sendfile(Ref<BaseTransport>(&w.transport()), fd, 0);
        } catch (...) {
            ::close(fd);
            throw;
        }
        ::close(fd);
        EXPECT_EQ(sent, size);
        w.write("post");
        EXPECT_EQ(co_await r.readline(), "intact\n");
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

}  // namespace tls_tls_transport_test
