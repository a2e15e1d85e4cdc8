// tls_echo.cpp — the streams echo server and client, over TLS.
//
// The asyncio original differs from the plain one by one argument each side:
//
//     ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
//     ctx.load_cert_chain('cert.pem', 'key.pem')
//     server = await asyncio.start_server(handle_echo, '127.0.0.1', 8443, ssl=ctx)
//
//     client = ssl.create_default_context(cafile='cert.pem')
//     reader, writer = await asyncio.open_connection('127.0.0.1', 8443,
//                                                    ssl=client, server_hostname='localhost')
//
// Here `ssl=` is StreamOptions::server.ssl and ::connect.ssl. The client
// verifies the server's certificate and its name (on by default, as
// Python's); the handler and the client code are the plain echo's. The
// certificate is made first by Debian's `openssl` command, run through
// create_subprocess_exec (a self-signed certificate for localhost and
// 127.0.0.1, in a temporary directory removed at the end).
#include <any>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"
#include "self_signed.hpp"

namespace {

std::string_view chomp(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    return line;
}

tulip::Coro<void> handle_echo(tulip::StreamReader reader, tulip::StreamWriter writer) {
    auto cipher = std::any_cast<tulip::ssl::Cipher>(writer.get_extra_info("cipher"));
    std::cout << "server: TLS connection, " << cipher.protocol << " with " << cipher.name << "\n";
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;  // the client closed (close_notify, then EOF)
        std::cout << "server: received \"" << chomp(line) << "\", sending it back\n";
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();  // sends our close_notify
    co_await writer.wait_closed();
}

tulip::Coro<bool> tls_echo_client(std::uint16_t port, std::string cafile) {
    tulip::StreamOptions o;
    o.connect.ssl = tulip::ssl::create_default_context(tulip::ssl::Purpose::SERVER_AUTH, cafile);
    o.connect.server_hostname = "localhost";  // the name the certificate must carry
    auto [reader, writer] = co_await tulip::open_connection("127.0.0.1", port, o);
    auto cert = std::any_cast<tulip::ssl::PeerCert>(writer.get_extra_info("peercert"));
    std::cout << "client: the server is " << cert.subject.at(0).second << ", verified; "
              << std::any_cast<std::string>(writer.get_extra_info("tls_version")) << "\n";
    bool all_match = true;
    for (std::string_view message : {std::string_view("Hello World!"), std::string_view("nobody else can read this")}) {
        std::string line(message);
        line += '\n';
        writer.write(line);
        co_await writer.drain();
        std::string echo = co_await reader.readline();
        std::cout << "client: received \"" << chomp(echo) << "\"\n";
        all_match = all_match && echo == line;
    }
    writer.close();
    co_await writer.wait_closed();
    co_return all_match;
}

// A client that does not trust the certificate is refused, and says why.
tulip::Coro<bool> untrusting_client(std::uint16_t port) {
    tulip::StreamOptions o;
    o.connect.ssl = tulip::ssl::SSLContext(tulip::ssl::PROTOCOL_TLS_CLIENT);  // trusts no CA at all
    o.connect.server_hostname = "localhost";
    try {
        auto conn = co_await tulip::open_connection("127.0.0.1", port, o);
    } catch (const tulip::ssl::SSLCertVerificationError& e) {
        std::cout << "untrusting client: refused: " << e.what() << "\n";
        co_return true;
    }
    co_return false;
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
    tulip::StreamOptions so;
    so.server.ssl = server_ctx;
    tulip::Server server = co_await tulip::start_server(handle_echo, "127.0.0.1", 0, so);
    std::uint16_t port = server.addresses().at(0).port();
    std::cout << "serving TLS on 127.0.0.1\n";

    bool ok = co_await tls_echo_client(port, dir + "/cert.pem");
    bool refused = co_await untrusting_client(port);

    server.close();
    co_await server.wait_closed();
    std::cout << "server closed; every echo " << (ok ? "matched" : "DID NOT match") << "; the untrusting client was "
              << (refused ? "refused" : "NOT refused") << "\n";
    co_return ok&& refused ? 0 : 1;
}

}  // namespace

int examples::tls_echo() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::tls_echo(); }
#endif
