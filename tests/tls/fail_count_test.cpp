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

// A TLS close arms the shutdown timer (call_later) after marking the
// transport closed: when that allocation failed, the close_notify was never
// sent and nothing would ever end the connection (wait_closed hung; the
// sweep's TLS echo found it). Now such a close cuts the connection. Each of
// the first allocations of close() fails in turn: a bad_alloc may escape
// close(), but a second close() and wait_closed() always end it.
TEST(FailCountFindings, ATlsCloseThatRunsOutOfMemoryStillEndsTheConnection) {
    using test::fail_count::alloc_fault;
    using test::fail_count::AllocFault;
    (void)test::test_pki();
    int failed_allocations = 0;
    for (long k = 1; k <= 6; ++k) {
        auto loop = new_event_loop();
        bool ended = false;
        loop->run_until_complete([](long k, bool& ended, int& failed_allocations) -> Coro<void> {
            StreamOptions so;
            ssl::SSLContext sc(ssl::PROTOCOL_TLS_SERVER);
            sc.load_cert_chain(test::test_pki().server.cert, test::test_pki().server.key);
            so.server.ssl = sc;
            Server server = co_await start_server(test::echo_lines, "127.0.0.1", 0, so);
            StreamOptions o;
            ssl::SSLContext c(ssl::PROTOCOL_TLS_CLIENT);
            c.load_verify_locations(test::test_pki().ca.cert);
            o.connect.ssl = c;
            o.connect.server_hostname = "localhost";
            auto [reader, writer] = co_await open_connection("127.0.0.1", test::port_of(server), o);
            writer.write("ping\n");
            std::string back = co_await reader.readline();
            EXPECT_EQ(back, "ping\n");
            alloc_fault = AllocFault{true, 0, k, false};
            try {
                writer.close();
            } catch (const std::bad_alloc&) {}
            if (alloc_fault.failed) ++failed_allocations;
            alloc_fault = AllocFault{};
            writer.close();
            try {
                co_await wait_for(writer.wait_closed(), test::kLoopbackTimeout);
                ended = true;
            } catch (const TimeoutError&) {
            } catch (const std::exception&) {
                ended = true;  // cut: wait_closed raises the reason
            }
            if (!ended) writer.transport().abort();  // so that the server can close
            server.close();
            co_await wait_for(server.wait_closed(), test::kLoopbackTimeout);
        }(k, ended, failed_allocations));
        alloc_fault = AllocFault{};
        EXPECT_TRUE(ended) << "k=" << k << ": the connection never ended";
        cancel_all_tasks(*loop);
        loop->close();
    }
#if defined(__SANITIZE_ADDRESS__)
    EXPECT_GE(failed_allocations, 1) << "no allocation of close() was reached";
#endif
}

}  // namespace

}  // namespace tls_fail_count_test

// The enomem mode's allocator hook, for the whole tls_tests binary (it
// counts only while a sweep runs a scenario).
TULIP_FAIL_COUNT_ALLOC_HOOK();
