// The fail-count sweep and the other fault modes of tests/support/fail_count.hpp
// over TLS: a streams echo through start_server/open_connection with ssl
// (handshake, three lines each way, close_notify), every socket call under
// the TLS layer faulted in turn.
#include <string>

#include <tulip/tulip.hpp>

#include "support/fail_count.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"

namespace tls_fail_count_test {

using namespace tulip;

namespace {

class FailCount : public test::fail_count::FailCountTest {};

Coro<void> talk_over_tls(std::uint16_t port, bool& corrupt) {
    StreamOptions o;
    ssl::SSLContext c(ssl::PROTOCOL_TLS_CLIENT);
    c.load_verify_locations(test::test_pki().ca.cert);
    o.connect.ssl = c;
    o.connect.server_hostname = "localhost";
    auto [reader, writer] = co_await open_connection("127.0.0.1", port, o);
    for (int i = 0; i < 3; ++i) {
        std::string m = "message " + std::to_string(i) + "\n";
        writer.write(m);
        co_await writer.drain();
        std::string back = co_await reader.readline();
        if (back != m) {
            if (!reader.at_eof()) corrupt = true;
            throw std::runtime_error("connection ended early");
        }
    }
    writer.close();
    co_await writer.wait_closed();
}

TEST_F(FailCount, TlsStreamsEcho) {
    (void)test::test_pki();  // made once, outside the runs
    sweep({[](bool& corrupt) -> Coro<void> {
        StreamOptions so;
        ssl::SSLContext c(ssl::PROTOCOL_TLS_SERVER);
        c.load_cert_chain(test::test_pki().server.cert, test::test_pki().server.key);
        so.server.ssl = c;
        Server server = co_await start_server(test::echo_lines, "127.0.0.1", 0, so);
        std::exception_ptr failed;
        try {
            co_await talk_over_tls(test::port_of(server), corrupt);
        } catch (...) {
            failed = std::current_exception();
        }
        server.close();
        co_await server.wait_closed();
        if (failed) std::rethrow_exception(failed);
    }});
}

}  // namespace

}  // namespace tls_fail_count_test

// The enomem mode's allocator hook, for the whole tls_tests binary (it
// counts only while a sweep runs a scenario).
TULIP_FAIL_COUNT_ALLOC_HOOK();
