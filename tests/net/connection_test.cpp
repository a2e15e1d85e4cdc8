// Tests of create_connection: trying several addresses in turn, happy
// eyeballs (a staggered race with a delay), interleaving by family,
// local_addr, an existing socket, errors and cancellation — ported from
// CPython's test_base_events.py (create_connection cases, which mock
// getaddrinfo) and test_events.py (create_connection over real sockets).
//
// Several addresses for one name need a resolver that says so, and this
// machine's /etc/hosts may list only 127.0.0.1: like CPython's tests (which
// patch getaddrinfo), this binary interposes getaddrinfo() for names ending
// in ".tulip.test" and passes every other name to the C library.
#include <tulip/net/connection.hpp>

#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>

#include <any>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_connection_test {

using namespace tulip;
using test::closed_address;
using test::eventually;
using test::ipv6_available;
using test::listener;

namespace {

std::mutex fake_mu;
std::map<std::string, std::vector<SocketAddress>> fake_hosts;

void set_fake_host(const std::string& name, std::vector<SocketAddress> answers) {
    std::lock_guard<std::mutex> g(fake_mu);
    fake_hosts[name] = std::move(answers);
}

}  // namespace

// The interposed resolver (see the top of the file). Each answer is one
// calloc'ed block holding the addrinfo and its address, which is the layout
// glibc's freeaddrinfo() frees. With C linkage it is ::getaddrinfo though
// declared in this file's namespace.
extern "C" int getaddrinfo(const char* __restrict node, const char* __restrict service,
                           const struct addrinfo* __restrict hints, struct addrinfo** __restrict res) {
    if (node) {
        std::vector<SocketAddress> answers;
        bool fake = false;
        {
            std::lock_guard<std::mutex> g(fake_mu);
            if (auto it = fake_hosts.find(node); it != fake_hosts.end()) {
                answers = it->second;
                fake = true;
            }
        }
        if (fake) {
            addrinfo* head = nullptr;
            addrinfo** tail = &head;
            for (auto& a : answers) {
                if (hints && hints->ai_family != AF_UNSPEC && hints->ai_family != a.family()) continue;
                void* mem = std::calloc(1, sizeof(addrinfo) + sizeof(sockaddr_storage));
                if (!mem) return EAI_MEMORY;
                auto* ai = static_cast<addrinfo*>(mem);
                auto* sa = reinterpret_cast<sockaddr*>(static_cast<char*>(mem) + sizeof(addrinfo));
                std::memcpy(sa, a.data(), a.size());
                ai->ai_family = a.family();
                ai->ai_socktype = hints && hints->ai_socktype ? hints->ai_socktype : SOCK_STREAM;
                ai->ai_protocol = IPPROTO_TCP;
                ai->ai_addrlen = a.size();
                ai->ai_addr = sa;
                *tail = ai;
                tail = &ai->ai_next;
            }
            if (!head) return EAI_NONAME;
            *res = head;
            return 0;
        }
    }
    using Fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
    static Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "getaddrinfo"));
    if (!real) return EAI_SYSTEM;
    return real(node, service, hints, res);
}

namespace {

class ConnectionTest : public test::IoLoopTest {
protected:
    void TearDown() override {
        {
            std::lock_guard<std::mutex> g(fake_mu);
            fake_hosts.clear();
        }
        RealTimeLoopTest::TearDown();
    }
};

struct Record {
    std::vector<std::string> events;
    std::string data;
    int lost = 0;
};

struct Recorder : Protocol {
    explicit Recorder(Record* r) : r(r) {}
    void connection_made(Transport&) override { r->events.push_back("made"); }
    void data_received(std::string_view d) override { r->data.append(d); }
    void connection_lost(std::exception_ptr) override {
        r->events.push_back("lost");
        ++r->lost;
    }
    Record* r;
};

// A listener whose accept queue is full (backlog 0, one connection never
// accepted): Linux drops further SYNs, so a connect there hangs — the
// loopback stand-in for an address that never answers.
struct Blackhole {
    Socket l = Socket::create(AF_INET);
    Socket filler = Socket::create(AF_INET);
    SocketAddress address;
    Blackhole() {
        l.bind(SocketAddress::from_ip("127.0.0.1", 0));
        l.listen(0);
        address = l.getsockname();
        ::connect(filler.fileno(), address.data(), address.size());
        pollfd p{filler.fileno(), POLLOUT, 0};
        ::poll(&p, 1, 5000);  // the filler's handshake completes; the queue is then full
    }
};

Coro<Record*> connect_and_close(Record* rec, std::string host, std::uint16_t port, ConnectOptions o,
                                SocketAddress* peer_out) {
    auto factory = [rec] { return std::make_unique<Recorder>(rec); };
    auto conn = co_await create_connection(factory, std::move(host), port, std::move(o));
    if (peer_out) *peer_out = std::any_cast<SocketAddress>(conn.first->get_extra_info("peername"));
    conn.first->close();
    co_await eventually([rec] { return rec->lost > 0; });
    co_return rec;
}

TEST_F(ConnectionTest, CreateConnectionToAServerGivesTheTransportAndTheProtocol) {
    Record client, server_rec;
    run_io(([&]() -> Coro<void> {
        auto server_factory = [&server_rec] { return std::make_unique<Recorder>(&server_rec); };
        Server server = co_await create_server(server_factory, "127.0.0.1", 0);
        auto factory = [&client] { return std::make_unique<Recorder>(&client); };
        auto conn = co_await create_connection(factory, "127.0.0.1", server.addresses().at(0).port());
        EXPECT_EQ(client.events, std::vector<std::string>{"made"});
        EXPECT_EQ(&conn.second->r->data, &client.data) << "the pair holds the factory's protocol";
        conn.first->write("ping");
        co_await eventually([&] { return server_rec.data == "ping"; });
        conn.first->close();
        co_await eventually([&] { return client.lost > 0 && server_rec.lost > 0; });
        server.close();
        co_await server.wait_closed();
    })());
}

TEST_F(ConnectionTest, TheNextAddressIsTriedWhenTheFirstIsRefused) {
    Socket good = listener();
    set_fake_host("two.tulip.test", {closed_address(), good.getsockname()});
    Record rec;
    SocketAddress peer;
    run_io(connect_and_close(&rec, "two.tulip.test", 0, {}, &peer));
    EXPECT_EQ(peer, good.getsockname());
    EXPECT_EQ(rec.events, (std::vector<std::string>{"made", "lost"}));
}

TEST_F(ConnectionTest, WhenEveryAddressFailsTheErrorNamesThemAll) {
    SocketAddress a = closed_address(), b = closed_address();
    set_fake_host("dead.tulip.test", {a, b});
    Record rec;
    try {
        run_io(connect_and_close(&rec, "dead.tulip.test", 0, {}, nullptr));
        ADD_FAILURE() << "connected to closed ports";
    } catch (const std::system_error& e) {
        std::string what = e.what();
        EXPECT_EQ(what.rfind("Multiple exceptions: ", 0), 0u) << what;
        EXPECT_NE(what.find(a.to_string()), std::string::npos) << what;
        EXPECT_NE(what.find(b.to_string()), std::string::npos) << what;
    }
    EXPECT_TRUE(rec.events.empty());
}

TEST_F(ConnectionTest, IdenticalErrorsAreRaisedAsTheFirstOne) {
    SocketAddress a = closed_address();
    set_fake_host("same.tulip.test", {a, a});
    Record rec;
    EXPECT_THROW(run_io(connect_and_close(&rec, "same.tulip.test", 0, {}, nullptr)), ConnectionRefusedError);
}

TEST_F(ConnectionTest, ASingleRefusedAddressRaisesConnectionRefusedError) {
    Record rec;
    SocketAddress a = closed_address();
    try {
        run_io(connect_and_close(&rec, "127.0.0.1", a.port(), {}, nullptr));
        ADD_FAILURE() << "connected to a closed port";
    } catch (const ConnectionRefusedError& e) {
        EXPECT_EQ(e.code().value(), ECONNREFUSED);
        EXPECT_NE(std::string(e.what()).find(a.to_string()), std::string::npos) << e.what();
    }
}

TEST_F(ConnectionTest, AHostThatResolvesToNothingRaisesAResolverError) {
    set_fake_host("nowhere.tulip.test", {});
    Record rec;
    try {
        run_io(connect_and_close(&rec, "nowhere.tulip.test", 80, {}, nullptr));
        ADD_FAILURE() << "connected to nowhere";
    } catch (const std::system_error& e) {
        EXPECT_TRUE(e.code().category() == gai_category()) << e.what();
    }
}

TEST_F(ConnectionTest, HappyEyeballsStartsTheNextAttemptWhenTheFirstHangs) {
    Blackhole hole;
    Socket good = listener();
    set_fake_host("slow.tulip.test", {hole.address, good.getsockname()});
    Record rec;
    SocketAddress peer;
    ConnectOptions o;
    o.happy_eyeballs_delay = 0.05;
    // Without the race this would hang on the first address until the test's bound.
    run_io(connect_and_close(&rec, "slow.tulip.test", 0, o, &peer));
    EXPECT_EQ(peer, good.getsockname());
    // The losing attempt was cancelled and its socket closed (the fixture counts fds).
}

TEST_F(ConnectionTest, HappyEyeballsMovesOnAtOnceWhenAnAttemptFails) {
    Socket good = listener();
    set_fake_host("refused-first.tulip.test", {closed_address(), good.getsockname()});
    Record rec;
    SocketAddress peer;
    ConnectOptions o;
    o.happy_eyeballs_delay = 3600;  // waiting for this delay would exceed the test's bound
    run_io(connect_and_close(&rec, "refused-first.tulip.test", 0, o, &peer));
    EXPECT_EQ(peer, good.getsockname());
}

TEST_F(ConnectionTest, HappyEyeballsRaisesEveryErrorWhenAllAttemptsFail) {
    SocketAddress a = closed_address(), b = closed_address();
    set_fake_host("all-dead.tulip.test", {a, b});
    Record rec;
    ConnectOptions o;
    o.happy_eyeballs_delay = 0.01;
    try {
        run_io(connect_and_close(&rec, "all-dead.tulip.test", 0, o, nullptr));
        ADD_FAILURE() << "connected to closed ports";
    } catch (const std::system_error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find(a.to_string()), std::string::npos) << what;
        EXPECT_NE(what.find(b.to_string()), std::string::npos) << what;
    }
}

TEST_F(ConnectionTest, InterleaveAlternatesAddressFamilies) {
    if (!ipv6_available()) GTEST_SKIP() << "IPv6 is not available on ::1";
    Socket good6 = listener("::1");
    Socket good4 = listener("127.0.0.1");
    // In resolver order the second IPv6 address wins; interleaved, the IPv4 one comes second.
    set_fake_host("mixed.tulip.test", {closed_address("::1"), good6.getsockname(), good4.getsockname()});
    Record plain, interleaved;
    SocketAddress peer_plain, peer_interleaved;
    run_io(connect_and_close(&plain, "mixed.tulip.test", 0, {}, &peer_plain));
    EXPECT_EQ(peer_plain, good6.getsockname());
    ConnectOptions o;
    o.interleave = 1;
    run_io(connect_and_close(&interleaved, "mixed.tulip.test", 0, o, &peer_interleaved));
    EXPECT_EQ(peer_interleaved, good4.getsockname());
}

TEST_F(ConnectionTest, FamilyOptionLimitsTheAddressesTried) {
    SocketAddress v4 = closed_address();
    set_fake_host("dual.tulip.test", {SocketAddress::from_ip("::1", 9), v4});
    Record rec;
    ConnectOptions o;
    o.family = AF_INET;
    try {
        run_io(connect_and_close(&rec, "dual.tulip.test", 0, o, nullptr));
        ADD_FAILURE() << "connected to a closed port";
    } catch (const ConnectionRefusedError& e) {
        // Only the IPv4 address was tried: a single error, not "Multiple exceptions".
        EXPECT_NE(std::string(e.what()).find(v4.to_string()), std::string::npos) << e.what();
    }
}

TEST_F(ConnectionTest, LocalAddrBindsTheClientSocket) {
    Socket good = listener();
    Record rec;
    run_io(([&]() -> Coro<void> {
        ConnectOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto factory = [&rec] { return std::make_unique<Recorder>(&rec); };
        auto conn = co_await create_connection(factory, "127.0.0.1", good.getsockname().port(), o);
        auto local = std::any_cast<SocketAddress>(conn.first->get_extra_info("sockname"));
        EXPECT_EQ(local.host(), "127.0.0.1");
        // The listener's side sees the same address as the peer.
        auto accepted = co_await sock_accept(good);
        EXPECT_EQ(accepted.second, local);
        conn.first->close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
}

TEST_F(ConnectionTest, LocalAddrOnASpecificPortIsUsed) {
    Socket good = listener();
    Record rec;
    run_io(([&]() -> Coro<void> {
        // Find a free port, then ask for it (retry if someone takes it meanwhile).
        for (int attempt = 0; attempt < 5; ++attempt) {
            SocketAddress want = closed_address();
            ConnectOptions o;
            o.local_addr = want;
            auto factory = [&rec] { return std::make_unique<Recorder>(&rec); };
            try {
                auto conn = co_await create_connection(factory, "127.0.0.1", good.getsockname().port(), o);
                EXPECT_EQ(std::any_cast<SocketAddress>(conn.first->get_extra_info("sockname")), want);
                conn.first->close();
                co_await eventually([&] { return rec.lost > 0; });
                co_return;
            } catch (const std::system_error& e) {
                if (e.code().value() != EADDRINUSE) throw;
            }
        }
        ADD_FAILURE() << "no free local port in 5 attempts";
    })());
}

TEST_F(ConnectionTest, LocalAddrInUseFailsTheConnection) {
    Socket good = listener();
    Socket taken = listener();
    Record rec;
    try {
        ConnectOptions o;
        o.local_addr = taken.getsockname();
        run_io(connect_and_close(&rec, "127.0.0.1", good.getsockname().port(), o, nullptr));
        ADD_FAILURE() << "bound to an address in use";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EADDRINUSE) << e.what();
    }
}

TEST_F(ConnectionTest, AnExistingConnectedSocketIsWrapped) {
    Socket good = listener();
    Record rec;
    run_io(([&]() -> Coro<void> {
        Socket s = Socket::create(AF_INET);
        co_await sock_connect(s, good.getsockname());
        auto factory = [&rec] { return std::make_unique<Recorder>(&rec); };
        auto conn = co_await create_connection(factory, std::move(s));
        EXPECT_FALSE(s.is_open()) << "the transport owns the socket now";
        EXPECT_EQ(std::any_cast<SocketAddress>(conn.first->get_extra_info("peername")), good.getsockname());
        auto accepted = co_await sock_accept(good);
        conn.first->write("hi");
        EXPECT_EQ(co_await sock_recv(accepted.first, 2), "hi");
        conn.first->close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (std::vector<std::string>{"made", "lost"}));
}

TEST_F(ConnectionTest, AFactoryThatReturnsNoProtocolIsAnError) {
    Socket good = listener();
    EXPECT_THROW(run_io(([&]() -> Coro<void> {
                     auto none = [] { return std::unique_ptr<Recorder>(); };
                     co_await create_connection(none, "127.0.0.1", good.getsockname().port());
                 })()),
                 std::runtime_error);
    // The connected socket was closed (the fixture counts fds).
}

TEST_F(ConnectionTest, CancellingCreateConnectionClosesThePendingSockets) {
    Blackhole hole1, hole2;
    set_fake_host("black.tulip.test", {hole1.address, hole2.address});
    Record rec;
    for (bool race : {false, true}) {
        run_io(([&]() -> Coro<void> {
            ConnectOptions o;
            if (race) o.happy_eyeballs_delay = 0.01;
            auto t = create_task(connect_and_close(&rec, "black.tulip.test", 0, o, nullptr));
            co_await sleep(0.05);
            EXPECT_FALSE(t.done()) << "connected to a full accept queue";
            t.cancel();
            try {
                co_await t;
            } catch (const CancelledError&) {}
            EXPECT_TRUE(t.cancelled());
        })());
    }
    EXPECT_TRUE(rec.events.empty());
}

TEST_F(ConnectionTest, LocalhostIsResolvedAndConnected) {
    Socket good = listener();
    Record rec;
    SocketAddress peer;
    ConnectOptions o;
    o.family = AF_INET;
    run_io(connect_and_close(&rec, "localhost", good.getsockname().port(), o, &peer));
    EXPECT_EQ(peer, good.getsockname());
}

}  // namespace

}  // namespace net_connection_test
