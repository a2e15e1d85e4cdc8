// Transport, server and datagram behaviours of asyncio 3.13 ported case by
// case from CPython's test_selector_events.py, test_base_events.py and
// test_events.py (see docs/conformance/*.md): protocol callbacks that throw,
// pause_reading from connection_made, empty writes, a socket of the wrong
// type, datagram socket options, name resolution for a datagram socket.
#include <tulip/net/transport.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <any>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace net_conformance_net_test {

using namespace tulip;
using test::eventually;

namespace {

class NetConformance : public test::IoLoopTest {};

struct Seen {
    std::vector<std::string> events;  // "made", "data", "eof", "lost"
    std::string data;
    Transport* transport = nullptr;
    std::exception_ptr error;
    int lost = 0;
};

struct Watcher : Protocol {
    explicit Watcher(Seen* s) : s(s) {}
    void connection_made(Transport& t) override {
        s->transport = &t;
        s->events.push_back("made");
    }
    void data_received(std::string_view d) override {
        if (s->events.empty() || s->events.back() != "data") s->events.push_back("data");
        s->data.append(d);
    }
    bool eof_received() override {
        s->events.push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr e) override {
        s->events.push_back("lost");
        s->error = e;
        ++s->lost;
    }
    Seen* s;
};

// test_selector_events: SelectorSocketTransportTests.test_pause_reading_connection_made
TEST_F(NetConformance, PauseReadingInConnectionMadeHoldsTheDataUntilResumeReading) {
    struct Pauser : Watcher {
        using Watcher::Watcher;
        void connection_made(Transport& t) override {
            Watcher::connection_made(t);
            t.pause_reading();
        }
    };
    Seen seen;
    auto [a, b] = Socket::pair();
    run_io([&]() -> Coro<void> {
        auto conn = co_await create_connection([&] { return std::make_unique<Pauser>(&seen); }, std::move(a));
        EXPECT_FALSE(conn.first->is_reading());
        co_await sock_sendall(b, std::string("held"));
        co_await sleep(0.02);
        EXPECT_EQ(seen.data, "");
        conn.first->resume_reading();
        EXPECT_TRUE(conn.first->is_reading());
        co_await eventually([&] { return seen.data == "held"; });
        conn.first->close();
        EXPECT_FALSE(conn.first->is_reading());
        co_await eventually([&] { return seen.lost == 1; });
    }());
}

// test_selector_events: SelectorSocketTransportTests.test_read_eof_received_error
TEST_F(NetConformance, EofReceivedThrowingIsReportedAndClosesTheTransport) {
    struct ThrowsOnEof : Watcher {
        using Watcher::Watcher;
        bool eof_received() override {
            Watcher::eof_received();
            throw std::logic_error("eof went wrong");
        }
    };
    expect_handler_calls = true;
    Seen seen;
    auto [a, b] = Socket::pair();
    run_io([&]() -> Coro<void> {
        auto conn = co_await create_connection([&] { return std::make_unique<ThrowsOnEof>(&seen); }, std::move(a));
        ::shutdown(b.fileno(), SHUT_WR);
        co_await eventually([&] { return seen.lost == 1; });
    }());
    EXPECT_EQ(seen.events, (std::vector<std::string>{"made", "eof", "lost"}));
    ASSERT_NE(seen.error, nullptr);
    EXPECT_NE(describe_exception(seen.error).find("eof went wrong"), std::string::npos);
    ASSERT_EQ(handler_calls.size(), 1u);
}

struct BufferedOptions {
    std::size_t size = 16;
    bool keep_open = false;
    bool throw_on_eof = false;
};

struct Buffered : BufferedProtocol {
    using Options = BufferedOptions;
    explicit Buffered(Seen* s, Options o = Options())
        : s(s), buf(o.size), keep_open(o.keep_open), throw_on_eof(o.throw_on_eof) {}
    void connection_made(Transport& t) override {
        s->transport = &t;
        s->events.push_back("made");
    }
    std::span<char> get_buffer(std::size_t) override { return {buf.data(), buf.size()}; }
    void buffer_updated(std::size_t n) override {
        if (s->events.back() != "data") s->events.push_back("data");
        s->data.append(buf.data(), n);
    }
    bool eof_received() override {
        s->events.push_back("eof");
        if (throw_on_eof) throw std::logic_error("eof went wrong");
        return keep_open;
    }
    void connection_lost(std::exception_ptr e) override {
        s->events.push_back("lost");
        s->error = e;
        ++s->lost;
    }
    Seen* s;
    std::vector<char> buf;
    bool keep_open = false;
    bool throw_on_eof = false;
};

// test_selector_events: SelectorSocketTransportBufferedProtocolTests.test_read_ready_eof,
// test_read_ready_eof_keep_open
TEST_F(NetConformance, ABufferedProtocolSeesEofThenTheTransportClosesUnlessItKeepsItOpen) {
    for (bool keep_open : {false, true}) {
        Seen seen;
        auto [a, b] = Socket::pair();
        run_io([&]() -> Coro<void> {
            Buffered::Options o;
            o.keep_open = keep_open;
            auto conn = co_await create_connection([&] { return std::make_unique<Buffered>(&seen, o); }, std::move(a));
            co_await sock_sendall(b, std::string("abc"));
            ::shutdown(b.fileno(), SHUT_WR);
            auto& ev = seen.events;
            co_await eventually([&] { return std::find(ev.begin(), ev.end(), "eof") != ev.end(); });
            co_await sleep(0.01);
            if (keep_open) {
                EXPECT_EQ(seen.lost, 0);
                conn.first->write("still open");
                auto got = co_await sock_recv(b, 64);
                EXPECT_EQ(got, "still open");
                conn.first->close();
            }
            co_await eventually([&] { return seen.lost == 1; });
        }());
        EXPECT_EQ(seen.data, "abc");
        EXPECT_EQ(seen.events, (std::vector<std::string>{"made", "data", "eof", "lost"})) << keep_open;
    }
}

// test_selector_events: SelectorSocketTransportBufferedProtocolTests.test_read_eof_received_error
TEST_F(NetConformance, ABufferedProtocolsEofReceivedThrowingIsReportedAndClosesTheTransport) {
    expect_handler_calls = true;
    Seen seen;
    auto [a, b] = Socket::pair();
    run_io([&]() -> Coro<void> {
        Buffered::Options o;
        o.throw_on_eof = true;
        auto conn = co_await create_connection([&] { return std::make_unique<Buffered>(&seen, o); }, std::move(a));
        ::shutdown(b.fileno(), SHUT_WR);
        co_await eventually([&] { return seen.lost == 1; });
    }());
    ASSERT_NE(seen.error, nullptr);
    EXPECT_NE(describe_exception(seen.error).find("eof went wrong"), std::string::npos);
    EXPECT_EQ(handler_calls.size(), 1u);
}

// test_selector_events: SelectorSocketTransportBufferedProtocolTests.test_get_buffer_zerosized
TEST_F(NetConformance, AnEmptyBufferFromGetBufferIsAFatalError) {
    expect_handler_calls = true;
    Seen seen;
    auto [a, b] = Socket::pair();
    run_io([&]() -> Coro<void> {
        Buffered::Options o;
        o.size = 0;
        auto conn = co_await create_connection([&] { return std::make_unique<Buffered>(&seen, o); }, std::move(a));
        co_await sock_sendall(b, std::string("data"));
        co_await eventually([&] { return seen.lost == 1; });
    }());
    EXPECT_EQ(seen.data, "");
    ASSERT_NE(seen.error, nullptr);
    EXPECT_EQ(handler_calls.size(), 1u);
}

// test_selector_events: test_write_no_data, test_write_eof_after_close
TEST_F(NetConformance, WritingNothingSendsNothingAndWriteEofAfterCloseIsHarmless) {
    Seen seen;
    auto [a, b] = Socket::pair();
    run_io([&]() -> Coro<void> {
        auto conn = co_await create_connection([&] { return std::make_unique<Watcher>(&seen); }, std::move(a));
        conn.first->write("");
        EXPECT_EQ(conn.first->get_write_buffer_size(), 0u);
        conn.first->write("x");
        auto got = co_await sock_recv(b, 16);
        EXPECT_EQ(got, "x");
        conn.first->close();
        co_await sleep(0);
        conn.first->write_eof();  // after close: nothing happens, nothing throws
        co_await eventually([&] { return seen.lost == 1; });
    }());
    EXPECT_EQ(seen.error, nullptr);
}

// test_base_events: test_create_connection_wrong_sock, test_create_server_wrong_sock
TEST_F(NetConformance, CreateConnectionAndCreateServerRefuseADatagramSocket) {
    run_io([&]() -> Coro<void> {
        auto [u1, u2] = Socket::pair(SOCK_DGRAM);
        try {
            auto conn = co_await create_connection([] { return std::make_unique<Protocol>(); }, std::move(u1));
            ADD_FAILURE() << "create_connection accepted a datagram socket";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("Stream Socket was expected"), std::string::npos) << e.what();
        }
        Socket udp = Socket::create(AF_INET, SOCK_DGRAM);
        try {
            Server s = create_server([] { return std::make_unique<Protocol>(); }, std::move(udp));
            ADD_FAILURE() << "create_server accepted a datagram socket";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("Stream Socket was expected"), std::string::npos) << e.what();
        }
    }());
}

// test_selector_events: BaseSelectorEventLoopTests.test_sock_connect_resolve_using_socket_params
TEST_F(NetConformance, SockConnectByNameResolvesForTheSocketsTypeSoADatagramSocketConnects) {
    run_io([&]() -> Coro<void> {
        Socket server = Socket::create(AF_INET, SOCK_DGRAM);
        server.bind(SocketAddress::from_ip("127.0.0.1", 0));
        Socket client = Socket::create(AF_INET, SOCK_DGRAM);
        co_await sock_connect(client, std::string("localhost"), server.getsockname().port());
        EXPECT_EQ(client.getpeername(), server.getsockname());
        co_await sock_sendall(client, std::string("ping"));
        auto got = co_await sock_recvfrom(server, 16);
        EXPECT_EQ(got.first, "ping");
    }());
}

struct QuietDatagram : DatagramProtocol {};

int sockopt(DatagramTransport& t, int option) {
    int fd = std::any_cast<int>(t.get_extra_info("socket"));
    int v = 0;
    socklen_t len = sizeof v;
    ::getsockopt(fd, SOL_SOCKET, option, &v, &len);
    return v;
}

// test_base_events: test_create_datagram_endpoint_sockopts
TEST_F(NetConformance, DatagramEndpointSocketOptionsAreSetOnlyWhenAskedFor) {
    run_io([&]() -> Coro<void> {
        DatagramOptions plain;
        plain.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto e1 = co_await create_datagram_endpoint([] { return std::make_unique<QuietDatagram>(); }, plain);
        EXPECT_EQ(sockopt(*e1.first, SO_REUSEPORT), 0);
        EXPECT_EQ(sockopt(*e1.first, SO_BROADCAST), 0);
        e1.first->close();

        DatagramOptions asked = plain;
        asked.reuse_port = true;
        asked.allow_broadcast = true;
        auto e2 = co_await create_datagram_endpoint([] { return std::make_unique<QuietDatagram>(); }, asked);
        EXPECT_EQ(sockopt(*e2.first, SO_REUSEADDR), 0);
        EXPECT_NE(sockopt(*e2.first, SO_REUSEPORT), 0);
        EXPECT_NE(sockopt(*e2.first, SO_BROADCAST), 0);
        e2.first->close();
        co_await sleep(0);
    }());
}

// test_selector_events: BaseSelectorEventLoopTests.test_accept_connection_multiple
TEST_F(NetConformance, AServerAcceptsEveryWaitingConnectionInOneReadiness) {
    int made = 0;
    struct Counting : Protocol {
        int* n;
        explicit Counting(int* n) : n(n) {}
        void connection_made(Transport&) override { ++*n; }
    };
    run_io([&]() -> Coro<void> {
        // Five connections wait in the listening socket's backlog before the
        // server starts: one readiness report accepts them all (up to backlog).
        Socket l = Socket::create(AF_INET);
        l.bind(SocketAddress::from_ip("127.0.0.1", 0));
        l.listen();
        SocketAddress addr = l.getsockname();
        std::vector<Socket> clients;
        for (int i = 0; i < 5; ++i) {
            clients.push_back(Socket::create(AF_INET));
            co_await sock_connect(clients.back(), addr);
        }
        Server server = create_server([&] { return std::make_unique<Counting>(&made); }, std::move(l));
        co_await eventually([&] { return made == 5; });
        server.close();
        server.close_clients();  // wait_closed waits for the connections too (3.12)
        co_await server.wait_closed();
    }());
    EXPECT_EQ(made, 5);
}

struct DatagramSeen : DatagramProtocol {
    explicit DatagramSeen(std::vector<std::string>* got, int* lost) : got(got), lost(lost) {}
    void datagram_received(std::string_view d, const SocketAddress&) override { got->emplace_back(d); }
    void connection_lost(std::exception_ptr) override { ++*lost; }
    std::vector<std::string>* got;
    int* lost;
};

// test_base_events: test_create_datagram_endpoint_allow_broadcast
TEST_F(NetConformance, AllowBroadcastLeavesTheRemoteAddressUnconnectedAndSendtoUsesIt) {
    run_io([&]() -> Coro<void> {
        Socket peer = Socket::create(AF_INET, SOCK_DGRAM);
        peer.bind(SocketAddress::from_ip("127.0.0.1", 0));
        DatagramOptions o;
        o.remote_addr = peer.getsockname();
        o.allow_broadcast = true;
        auto e = co_await create_datagram_endpoint([] { return std::make_unique<QuietDatagram>(); }, o);
        EXPECT_FALSE(e.first->get_extra_info("peername").has_value()) << "the socket was connected";
        e.first->sendto("to the default address");
        auto got = co_await sock_recvfrom(peer, 64);
        EXPECT_EQ(got.first, "to the default address");
        e.first->close();
        co_await sleep(0);
    }());
}

// test_events: test_create_datagram_endpoint_sock; test_base_events:
// test_create_datagram_endpoint_sock, test_create_datagram_endpoint_wrong_sock
TEST_F(NetConformance, ADatagramEndpointWrapsAnExistingDatagramSocketAndRefusesAStreamOne) {
    std::vector<std::string> got;
    int lost = 0;
    run_io([&]() -> Coro<void> {
        Socket s = Socket::create(AF_INET, SOCK_DGRAM);
        s.bind(SocketAddress::from_ip("127.0.0.1", 0));
        SocketAddress addr = s.getsockname();
        auto e = co_await create_datagram_endpoint([&] { return std::make_unique<DatagramSeen>(&got, &lost); },
                                                   std::move(s));
        EXPECT_EQ(std::any_cast<SocketAddress>(e.first->get_extra_info("sockname")), addr);
        Socket sender = Socket::create(AF_INET, SOCK_DGRAM);
        co_await sock_sendto(sender, std::string("hello"), addr);
        co_await eventually([&] { return got.size() == 1; });
        e.first->close();
        co_await eventually([&] { return lost == 1; });

        Socket stream = Socket::create(AF_INET, SOCK_STREAM);
        try {
            auto bad =
                co_await create_datagram_endpoint([] { return std::make_unique<QuietDatagram>(); }, std::move(stream));
            ADD_FAILURE() << "a stream socket was accepted";
        } catch (const std::invalid_argument& err) {
            EXPECT_NE(std::string(err.what()).find("datagram socket was expected"), std::string::npos) << err.what();
        }
    }());
    EXPECT_EQ(got, (std::vector<std::string>{"hello"}));
}

// test_base_events: test_create_connection_connect_err (all_errors=True: an
// ExceptionGroup even for one address; without it the error itself)
TEST_F(NetConformance, AllErrorsRaisesAnExceptionGroupOfEveryFailedAttempt) {
    std::uint16_t closed_port;
    {
        Socket probe = Socket::create(AF_INET);
        probe.bind(SocketAddress::from_ip("127.0.0.1", 0));
        closed_port = probe.getsockname().port();
    }  // closed: nobody listens there
    run_io([&]() -> Coro<void> {
        ConnectOptions o;
        o.all_errors = true;
        try {
            auto conn =
                co_await create_connection([] { return std::make_unique<Protocol>(); }, "127.0.0.1", closed_port, o);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(g.exceptions().size(), 1u);
            if (!g.exceptions().empty()) {
                EXPECT_THROW(std::rethrow_exception(g.exceptions()[0]), ConnectionRefusedError);
            }
        }
        try {
            auto conn =
                co_await create_connection([] { return std::make_unique<Protocol>(); }, "127.0.0.1", closed_port);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const ConnectionRefusedError&) {}
    }());
}

// test_base_events: test_create_datagram_endpoint_existing_sock_unix
TEST_F(NetConformance, AUnixDatagramEndpointReplacesAStaleSocketFileAtItsPath) {
    char dir[] = "/tmp/tulip-conf-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/dgram.sock";
    {
        Socket old = Socket::create(AF_UNIX, SOCK_DGRAM);
        old.bind(SocketAddress::from_unix(path));
    }  // closed: the socket file stays behind
    run_io([&]() -> Coro<void> {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_unix(path);
        auto e = co_await create_datagram_endpoint([] { return std::make_unique<QuietDatagram>(); }, o);
        e.first->close();
        co_await sleep(0);
    }());
    ::unlink(path.c_str());
    ::rmdir(dir);
}

// test_selector_events: SelectorSocketTransportBufferedProtocolTests.test_buffer_updated_error
TEST_F(NetConformance, BufferUpdatedThrowingIsReportedAndClosesTheTransport) {
    struct ThrowsOnUpdate : Buffered {
        using Buffered::Buffered;
        void buffer_updated(std::size_t) override { throw std::logic_error("update went wrong"); }
    };
    expect_handler_calls = true;
    Seen seen;
    auto [a, b] = Socket::pair();
    run_io([&]() -> Coro<void> {
        auto conn = co_await create_connection([&] { return std::make_unique<ThrowsOnUpdate>(&seen); }, std::move(a));
        co_await sock_sendall(b, std::string("data"));
        co_await eventually([&] { return seen.lost == 1; });
    }());
    ASSERT_NE(seen.error, nullptr);
    EXPECT_NE(describe_exception(seen.error).find("update went wrong"), std::string::npos);
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("buffer_updated"), std::string::npos) << handler_calls[0].message;
}

// test_events: TestServer.test_get_loop
TEST_F(NetConformance, AServerKnowsItsLoop) {
    run_io([&]() -> Coro<void> {
        Server server = co_await create_server([] { return std::make_unique<Protocol>(); }, "127.0.0.1", 0);
        EXPECT_EQ(&server.get_loop(), &loop());
        server.close();
        co_await server.wait_closed();
    }());
}

}  // namespace

}  // namespace net_conformance_net_test
