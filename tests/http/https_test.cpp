// tests/http/https_test.cpp — the HTTP server over TLS: ALPN http/1.1,
// request.secure(), keep-alive across requests, and a plain-text client on
// the TLS port costing only its own connection.
#include <gtest/gtest.h>

#include <any>
#include <string>

#include <tulip/http/server.hpp>
#include <tulip/tls.hpp>

#include "support/loop_test.hpp"
#include "support/tls_certs.hpp"

namespace http_https_test {

using namespace tulip;

namespace {

class HttpsTest : public test::IoLoopTest {};

ssl::SSLContext server_ctx() {
    ssl::SSLContext c(ssl::PROTOCOL_TLS_SERVER);
    c.load_cert_chain(test::test_pki().server.cert, test::test_pki().server.key);
    c.set_alpn_protocols({"http/1.1"});
    return c;
}

// One response read by its Content-Length.
Coro<std::string> read_reply(StreamReader& r) {
    std::string head = co_await r.readuntil("\r\n\r\n");
    std::size_t p = head.find("Content-Length: ");
    std::size_t n = std::stoul(head.substr(p + 16));
    std::string body = co_await r.readexactly(static_cast<std::ptrdiff_t>(n));
    co_return head.substr(0, head.find("\r\n")) + " | " + body;
}

TEST_F(HttpsTest, ServesOverTlsWithAlpnAndKeepAlive) {
    http::Application app;
    app.get("/who", [](http::Request& r) -> Coro<http::Response> {
        co_return http::Response::text(std::string(r.secure() ? "secure" : "plain") + " " + std::string(r.host()));
    });
    run_io(([&]() -> Coro<void> {
        http::ServerOptions o;
        o.net.ssl = server_ctx();
        http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(o));
        std::uint16_t port = server.addresses().at(0).port();

        ssl::SSLContext client(ssl::PROTOCOL_TLS_CLIENT);
        client.load_verify_locations(test::test_pki().ca.cert);
        client.set_alpn_protocols({"http/1.1"});
        StreamOptions so;
        so.connect.ssl = client;
        so.connect.server_hostname = "localhost";
        auto [r, w] = co_await open_connection("127.0.0.1", port, so);
        EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("alpn_protocol")), "http/1.1");
        w.write("GET /who HTTP/1.1\r\nHost: localhost\r\n\r\n");
        EXPECT_EQ(co_await read_reply(r), "HTTP/1.1 200 OK | secure localhost");
        w.write("GET /who HTTP/1.1\r\nHost: again\r\n\r\n");
        EXPECT_EQ(co_await read_reply(r), "HTTP/1.1 200 OK | secure again");

        // Plain HTTP on the TLS port: that connection fails, the server goes on.
        auto [pr, pw] = co_await open_connection("127.0.0.1", port);
        pw.write("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");
        std::string got;
        try {
            got = co_await pr.read(-1);
        } catch (const ConnectionResetError&) {}
        EXPECT_EQ(got.find("HTTP/1.1 200"), std::string::npos);
        pw.close();
        w.write("GET /who HTTP/1.1\r\nHost: still\r\n\r\n");
        EXPECT_EQ(co_await read_reply(r), "HTTP/1.1 200 OK | secure still");
        w.close();
        co_await w.wait_closed();
        co_await server.shutdown(1.0);
    })());
}

}  // namespace

}  // namespace http_https_test
