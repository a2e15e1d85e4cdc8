// https_request.cpp — one HTTP/1.1 request over TLS, the way an HTTP client
// opens its connections: SNI and certificate check for the host, ALPN
// offering "http/1.1", then the request and a response read by its
// Content-Length.
//
// In Python:
//
//     ctx = ssl.create_default_context(cafile='cert.pem')
//     ctx.set_alpn_protocols(['http/1.1'])
//     reader, writer = await asyncio.open_connection('localhost', port, ssl=ctx)
//     assert writer.get_extra_info('ssl_object').selected_alpn_protocol() == 'http/1.1'
//     writer.write(b'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n')
//     head = await reader.readuntil(b'\r\n\r\n')
//
// There is no internet here: the example starts its own HTTPS responder
// (a start_server handler with a server context that also speaks ALPN), and
// makes its certificate with Debian's `openssl`, as tls_echo does.
#include <any>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"
#include "self_signed.hpp"

namespace {

// A minimal HTTPS responder: reads one request head, answers it, closes.
tulip::Coro<void> respond(tulip::StreamReader reader, tulip::StreamWriter writer) {
    std::string head = co_await reader.readuntil("\r\n\r\n");
    std::string target = head.substr(4, head.find(' ', 4) - 4);  // "GET /path HTTP/1.1"
    std::string body =
        "hello from " + target + " over " + std::any_cast<std::string>(writer.get_extra_info("alpn_protocol")) + "\n";
    writer.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\nConnection: close\r\n\r\n" + body);
    writer.close();
    co_await writer.wait_closed();
}

// What the HTTP client does for an https:// URL: a verified TLS connection
// to host:port that has agreed on HTTP/1.1.
tulip::Coro<tulip::StreamPair> open_https(std::string host, std::uint16_t port, std::string cafile) {
    tulip::ssl::SSLContext ctx = tulip::ssl::create_default_context(tulip::ssl::Purpose::SERVER_AUTH, cafile);
    ctx.set_alpn_protocols({"http/1.1"});
    tulip::StreamOptions o;
    o.connect.ssl = ctx;  // server_hostname defaults to host: SNI and the name checked
    tulip::StreamPair conn = co_await tulip::open_connection(host, port, o);
    auto alpn = std::any_cast<std::string>(conn.second.get_extra_info("alpn_protocol"));
    if (alpn != "http/1.1") throw std::runtime_error("the server did not agree on http/1.1 (ALPN: '" + alpn + "')");
    co_return conn;
}

tulip::Coro<int> amain() {
    examples::TempDir tmp;
    const std::string& dir = tmp.path;
    bool made = co_await examples::make_certificate(dir);
    if (!made) {
        std::cout << "could not run `openssl req` (is Debian's openssl installed?)\n";
        co_return 1;
    }
    tulip::ssl::SSLContext server_ctx(tulip::ssl::PROTOCOL_TLS_SERVER);
    server_ctx.load_cert_chain(dir + "/cert.pem", dir + "/key.pem");
    server_ctx.set_alpn_protocols({"h2", "http/1.1"});
    tulip::StreamOptions so;
    so.server.ssl = server_ctx;
    tulip::Server server = co_await tulip::start_server(respond, "127.0.0.1", 0, so);
    std::uint16_t port = server.addresses().at(0).port();

    auto [reader, writer] = co_await open_https("localhost", port, dir + "/cert.pem");
    std::cout << "client: connected to https://localhost (verified, ALPN http/1.1)\n";
    writer.write("GET /hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: tulip-example\r\n\r\n");
    std::string head = co_await reader.readuntil("\r\n\r\n");
    std::size_t at = head.find("Content-Length: ");
    std::size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
    std::string body = co_await reader.readexactly(length);
    std::cout << "client: " << head.substr(0, head.find("\r\n")) << "\n";
    std::cout << "client: body: " << body;
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    bool ok = head.rfind("HTTP/1.1 200 OK", 0) == 0 && body == "hello from /hello over http/1.1\n";
    std::cout << "response " << (ok ? "as expected" : "NOT as expected") << "\n";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::https_request() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::https_request(); }
#endif
