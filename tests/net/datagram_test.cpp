// Tests of create_datagram_endpoint and the UDP transport on 127.0.0.1 / ::1,
// ported from CPython's test_events.py datagram cases
// (test_create_datagram_endpoint, _connect, errors, ICMP refused) and
// test_selector_events.py's SelectorDatagramTransportTests (sendto without
// an address, error_received, close/abort, queued sends).
#include <tulip/net/datagram.hpp>

#include <netinet/in.h>

#include <any>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../src/core/sys.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_datagram_test {

using namespace tulip;
using test::eventually;
using test::ipv6_available;

namespace {

class DatagramTest : public test::IoLoopTest {};

struct Record {
    std::vector<std::string> events;  // "made", "dgram", "error", "lost"
    std::vector<std::pair<std::string, SocketAddress>> got;
    std::vector<std::exception_ptr> errors;
    std::exception_ptr lost_error;
    int lost = 0;
    DatagramTransport* transport = nullptr;
    bool echo = false;
};

struct Recorder : DatagramProtocol {
    explicit Recorder(Record* r) : r(r) {}
    void connection_made(DatagramTransport& t) override {
        r->transport = &t;
        r->events.push_back("made");
    }
    void datagram_received(std::string_view d, const SocketAddress& from) override {
        r->events.push_back("dgram");
        r->got.emplace_back(std::string(d), from);
        if (r->echo) r->transport->sendto(d, &from);
    }
    void error_received(std::exception_ptr e) override {
        r->events.push_back("error");
        r->errors.push_back(e);
    }
    void connection_lost(std::exception_ptr e) override {
        r->events.push_back("lost");
        ++r->lost;
        r->lost_error = e;
    }
    Record* r;
};

auto factory_for(Record& r) {
    return [&r] { return std::make_unique<Recorder>(&r); };
}

using Endpoint = std::pair<Ref<DatagramTransport>, ProtocolRef<Recorder, DatagramTransport>>;

Coro<Endpoint> bound(Record& r, const char* host = "127.0.0.1") {
    DatagramOptions o;
    o.local_addr = SocketAddress::from_ip(host, 0);
    co_return co_await create_datagram_endpoint(factory_for(r), o);
}

Coro<Endpoint> connected(Record& r, SocketAddress peer) {
    DatagramOptions o;
    o.remote_addr = peer;
    co_return co_await create_datagram_endpoint(factory_for(r), o);
}

SocketAddress sockname(const Endpoint& e) { return std::any_cast<SocketAddress>(e.first->get_extra_info("sockname")); }

// A UDP port on 127.0.0.1 where nobody listens.
SocketAddress closed_udp_address() {
    Socket s = Socket::create(AF_INET, SOCK_DGRAM);
    s.bind(SocketAddress::from_ip("127.0.0.1", 0));
    return s.getsockname();
}

// Closes an endpoint and waits for its connection_lost.
Coro<void> closed(Endpoint& e, Record& r) {
    e.first->close();
    co_await eventually([&r] { return r.lost > 0; });
}

TEST_F(DatagramTest, UdpEchoRoundTrip) {
    Record server, client;
    server.echo = true;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        EXPECT_EQ(client.events, std::vector<std::string>{"made"}) << "connection_made runs before the call returns";
        c.first->sendto("hello");
        co_await eventually([&] { return client.got.size() == 1; });
        EXPECT_EQ(client.got[0].first, "hello");
        EXPECT_EQ(client.got[0].second, sockname(s));
        EXPECT_EQ(server.got.at(0).second, sockname(c));
        EXPECT_EQ(c.first->get_write_buffer_size(), 0u);
        co_await closed(s, server);
        co_await closed(c, client);
    })());
    EXPECT_EQ(client.events, (std::vector<std::string>{"made", "dgram", "lost"}));
    EXPECT_EQ(server.events, (std::vector<std::string>{"made", "dgram", "lost"}));
}

TEST_F(DatagramTest, CloseCallsConnectionLostOnceWithoutAnError) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Endpoint e = co_await bound(r);
        EXPECT_FALSE(e.first->is_closing());
        e.first->close();
        e.first->close();
        EXPECT_TRUE(e.first->is_closing());
        co_await eventually([&] { return r.lost > 0; });
        co_await sleep(0.01);
    })());
    EXPECT_EQ(r.events, (std::vector<std::string>{"made", "lost"}));
    EXPECT_EQ(r.lost_error, nullptr);
}

TEST_F(DatagramTest, AbortCallsConnectionLostOnceAndLaterSendsAreDropped) {
    Record r, peer;
    run_io(([&]() -> Coro<void> {
        Endpoint p = co_await bound(peer);
        Endpoint e = co_await connected(r, sockname(p));
        e.first->abort();
        e.first->abort();
        e.first->sendto("dropped");
        co_await eventually([&] { return r.lost > 0; });
        e.first->sendto("dropped too");
        co_await sleep(0.01);
        EXPECT_TRUE(peer.got.empty());
        co_await closed(p, peer);
    })());
    EXPECT_EQ(r.events, (std::vector<std::string>{"made", "lost"}));
}

TEST_F(DatagramTest, SendtoWithoutAnAddressOnAnUnconnectedEndpointIsAnError) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Endpoint e = co_await bound(r);
        EXPECT_THROW(e.first->sendto("nowhere"), std::invalid_argument);
        EXPECT_FALSE(e.first->is_closing()) << "a usage error does not close the endpoint";
        EXPECT_FALSE(e.first->get_extra_info("peername").has_value());
        co_await closed(e, r);
    })());
    EXPECT_TRUE(r.errors.empty());
}

TEST_F(DatagramTest, AConnectedEndpointOnlySendsToItsPeer) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        SocketAddress peer = sockname(s), other = SocketAddress::from_ip("127.0.0.1", 9);
        EXPECT_THROW(c.first->sendto("x", &other), std::invalid_argument);
        c.first->sendto("to the peer, named", &peer);  // naming the peer itself is fine
        co_await eventually([&] { return server.got.size() == 1; });
        EXPECT_EQ(server.got[0].first, "to the peer, named");
        EXPECT_EQ(std::any_cast<SocketAddress>(c.first->get_extra_info("peername")), peer);
        co_await closed(s, server);
        co_await closed(c, client);
    })());
}

TEST_F(DatagramTest, AConnectedEndpointIgnoresOtherSenders) {
    Record server, client, stranger;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        Endpoint x = co_await bound(stranger);
        SocketAddress to_client = sockname(c);
        x.first->sendto("from a stranger", &to_client);
        s.first->sendto("from the peer", &to_client);
        co_await eventually([&] { return !client.got.empty(); });
        co_await sleep(0.01);
        EXPECT_EQ(client.got.size(), 1u);
        EXPECT_EQ(client.got.at(0).first, "from the peer");
        co_await closed(s, server);
        co_await closed(c, client);
        co_await closed(x, stranger);
    })());
}

TEST_F(DatagramTest, IcmpPortUnreachableGoesToErrorReceivedAndTheEndpointStaysOpen) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Endpoint e = co_await connected(r, closed_udp_address());
        e.first->sendto("anyone?");
        co_await eventually([&] { return !r.errors.empty(); });
        try {
            std::rethrow_exception(r.errors.at(0));
        } catch (const ConnectionRefusedError& err) {
            EXPECT_EQ(err.code().value(), ECONNREFUSED);
        } catch (...) {
            ADD_FAILURE() << "not a ConnectionRefusedError: " << describe_exception(r.errors.at(0));
        }
        EXPECT_FALSE(e.first->is_closing());
        EXPECT_EQ(r.lost, 0);
        // Still usable: the next send reports the same way.
        e.first->sendto("still?");
        co_await eventually([&] { return r.errors.size() >= 2; });
        co_await closed(e, r);
    })());
    EXPECT_EQ(r.lost_error, nullptr);
}

TEST_F(DatagramTest, AnEmptyDatagramIsDelivered) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        c.first->sendto("");
        c.first->sendto("after");
        co_await eventually([&] { return server.got.size() == 2; });
        EXPECT_EQ(server.got[0].first, "");
        EXPECT_EQ(server.got[1].first, "after");
        co_await closed(s, server);
        co_await closed(c, client);
    })());
}

TEST_F(DatagramTest, DatagramsKeepTheirBoundaries) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        for (int i = 1; i <= 40; ++i)
            c.first->sendto(std::string(static_cast<std::size_t>(i * 37), char('a' + i % 26)));
        co_await eventually([&] { return server.got.size() == 40; });
        for (int i = 1; i <= 40; ++i) {
            const std::string& d = server.got[static_cast<std::size_t>(i - 1)].first;
            EXPECT_EQ(d, std::string(static_cast<std::size_t>(i * 37), char('a' + i % 26))) << "datagram " << i;
        }
        co_await closed(s, server);
        co_await closed(c, client);
    })());
}

TEST_F(DatagramTest, ALargeDatagramArrivesWhole) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        std::string big(60000, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
        c.first->sendto(big);
        co_await eventually([&] { return server.got.size() == 1; });
        EXPECT_TRUE(server.got[0].first == big);
        co_await closed(s, server);
        co_await closed(c, client);
    })());
}

TEST_F(DatagramTest, GetExtraInfoGivesTheAddressesAndTheSocket) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        SocketAddress local = sockname(c);
        EXPECT_EQ(local.host(), "127.0.0.1");
        EXPECT_NE(local.port(), 0) << "connecting picks an ephemeral port";
        int fd = std::any_cast<int>(c.first->get_extra_info("socket"));
        EXPECT_GE(fd, 0);
        EXPECT_FALSE(c.first->get_extra_info("bogus").has_value());
        EXPECT_EQ(&c.first->get_loop(), &get_running_loop());
        EXPECT_EQ(&c.first->get_protocol(), static_cast<BaseProtocol*>(c.second.get()));
        co_await closed(s, server);
        co_await closed(c, client);
    })());
}

TEST_F(DatagramTest, AnEndpointNeedsAnAddress) {
    Record r;
    EXPECT_THROW((void)create_datagram_endpoint(factory_for(r), DatagramOptions{}), std::invalid_argument);
}

TEST_F(DatagramTest, MismatchedAddressFamiliesAreRejected) {
    Record r;
    DatagramOptions o;
    o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
    o.remote_addr = SocketAddress::from_ip("::1", 9);
    EXPECT_THROW(run_io(create_datagram_endpoint(factory_for(r), o)), std::invalid_argument);
    EXPECT_TRUE(r.events.empty());
}

TEST_F(DatagramTest, BindingAnAddressInUseFails) {
    Record a, b;
    run_io(([&]() -> Coro<void> {
        Endpoint first = co_await bound(a);
        DatagramOptions o;
        o.local_addr = sockname(first);
        try {
            Endpoint second = co_await create_datagram_endpoint(factory_for(b), o);
            ADD_FAILURE() << "two endpoints on one port without reuse_port";
            co_await closed(second, b);
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EADDRINUSE);
        }
        co_await closed(first, a);
    })());
}

TEST_F(DatagramTest, ReusePortLetsTwoEndpointsShareAPort) {
    Record a, b;
    run_io(([&]() -> Coro<void> {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        o.reuse_port = true;
        Endpoint first = co_await create_datagram_endpoint(factory_for(a), o);
        o.local_addr = sockname(first);
        Endpoint second = co_await create_datagram_endpoint(factory_for(b), o);
        EXPECT_EQ(sockname(second), sockname(first));
        co_await closed(first, a);
        co_await closed(second, b);
    })());
}

TEST_F(DatagramTest, Ipv6EchoRoundTrip) {
    if (!ipv6_available()) GTEST_SKIP() << "IPv6 is not available on ::1";
    Record server, client;
    server.echo = true;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server, "::1");
        Endpoint c = co_await connected(client, sockname(s));
        c.first->sendto("v6");
        co_await eventually([&] { return client.got.size() == 1; });
        EXPECT_EQ(client.got[0].first, "v6");
        EXPECT_EQ(client.got[0].second.to_string(), sockname(s).to_string());
        co_await closed(s, server);
        co_await closed(c, client);
    })());
}

struct ThrowingRecorder : Recorder {
    using Recorder::Recorder;
    void datagram_received(std::string_view, const SocketAddress&) override { throw std::logic_error("bad datagram"); }
};

TEST_F(DatagramTest, DatagramReceivedThrowingIsReportedAndClosesTheEndpoint) {
    expect_handler_calls = true;
    Record server, client;
    run_io(([&]() -> Coro<void> {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        Endpoint s =
            co_await create_datagram_endpoint([&server] { return std::make_unique<ThrowingRecorder>(&server); }, o);
        Endpoint c = co_await connected(client, sockname(s));
        c.first->sendto("boom");
        co_await eventually([&] { return server.lost > 0; });
        co_await closed(c, client);
    })());
    EXPECT_EQ(server.events, (std::vector<std::string>{"made", "lost"}));
    ASSERT_NE(server.lost_error, nullptr);
    EXPECT_THROW(std::rethrow_exception(server.lost_error), std::logic_error);
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("datagram_received"), std::string::npos) << handler_calls[0].message;
}

// ---- sends the kernel refuses for now (EAGAIN) wait in a queue ---------------

// The errors the next send()/sendto() calls fail with, in order (0: no fault).
std::vector<int> planned_send_errors;
int planned_send_hook(const char* name) {
    if ((std::strcmp(name, "send") == 0 || std::strcmp(name, "sendto") == 0) && !planned_send_errors.empty()) {
        int err = planned_send_errors.front();
        planned_send_errors.erase(planned_send_errors.begin());
        return err;
    }
    return 0;
}

struct HookGuard {
    explicit HookGuard(detail::sys::FaultHook h) { detail::sys::fault_hook = h; }
    ~HookGuard() {
        detail::sys::fault_hook = nullptr;
        planned_send_errors.clear();
    }
};

TEST_F(DatagramTest, DatagramsRefusedWithEagainAreQueuedAndSentInOrder) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        {
            HookGuard hook(&planned_send_hook);
            planned_send_errors = {EAGAIN};  // the first send is refused; it and the next wait in the queue
            c.first->sendto("first");
            c.first->sendto("second");
            EXPECT_EQ(c.first->get_write_buffer_size(), 11u + 2 * 8);  // payloads + 8 each (asyncio 3.13)
            co_await eventually([&] { return server.got.size() == 2; });
        }
        EXPECT_EQ(server.got[0].first, "first");
        EXPECT_EQ(server.got[1].first, "second");
        EXPECT_EQ(c.first->get_write_buffer_size(), 0u);
        co_await closed(s, server);
        co_await closed(c, client);
    })());
}

TEST_F(DatagramTest, CloseWaitsForQueuedDatagrams) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        Endpoint c = co_await connected(client, sockname(s));
        {
            HookGuard hook(&planned_send_hook);
            planned_send_errors = {EAGAIN};
            c.first->sendto("queued");
            EXPECT_EQ(c.first->get_write_buffer_size(), 6u + 8);
            c.first->close();
            co_await eventually([&] { return client.lost > 0; });
        }
        co_await eventually([&] { return server.got.size() == 1; });
        EXPECT_EQ(server.got[0].first, "queued");
        co_await closed(s, server);
    })());
}

struct AbortOnError : Recorder {
    using Recorder::Recorder;
    void error_received(std::exception_ptr e) override {
        Recorder::error_received(e);
        r->transport->abort();
    }
};

// A queued send fails while the queue is being flushed, and the protocol
// aborts the endpoint from error_received: the flush must stop there (the
// queue it was walking is gone) and connection_lost must run once.
TEST_F(DatagramTest, AbortFromErrorReceivedWhileFlushingTheQueueIsSafe) {
    Record server, client;
    run_io(([&]() -> Coro<void> {
        Endpoint s = co_await bound(server);
        DatagramOptions o;
        o.remote_addr = sockname(s);
        Endpoint c =
            co_await create_datagram_endpoint([&client] { return std::make_unique<AbortOnError>(&client); }, o);
        {
            HookGuard hook(&planned_send_hook);
            planned_send_errors = {EAGAIN, ECONNREFUSED};
            c.first->sendto("one");  // EAGAIN: queued
            c.first->sendto("two");
            c.first->sendto("three");
            co_await eventually([&] { return client.lost > 0; });
        }
        co_await sleep(0.01);
        EXPECT_TRUE(server.got.empty()) << "datagrams were sent after the abort";
        co_await closed(s, server);
    })());
    EXPECT_EQ(client.events, (std::vector<std::string>{"made", "error", "lost"}));
    EXPECT_EQ(client.lost, 1);
}

}  // namespace

}  // namespace net_datagram_test
