// Cancellation torture of the loop's low-level socket operations
// (reliability program, part 5): sock_recv, sock_recv_into, sock_sendall,
// sock_accept and sock_connect on real sockets (a socket pair, 127.0.0.1),
// each cancelled at every loop iteration it suspends across (the harness is
// tests/support/cancel_torture.hpp). The invariants: a cancelled
// sock_recv/sock_recv_into consumed nothing (what the victim received plus
// what the socket still gives is exactly what was sent); a cancelled
// sock_accept lost no connection (a later accept gets it); a cancelled
// sock_sendall sent a prefix of its data, in order; nothing leaks (tasks,
// fds).
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/cancel_torture.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_cancel_torture_test {

using namespace tulip;
using test::torture::Case;
using test::torture::RunInfo;
using test::torture::settle_task;
using test::torture::torture;

namespace {

class NetCancelTorture : public test::IoLoopTest {};

const std::string& message() {
    static const std::string m = test::pattern(0, 40);
    return m;
}

// The peer sends the message in 8-byte pieces, 0.5 ms apart, then closes its side.
Coro<void> send_slowly(Socket* s) {
    const std::string& m = message();
    for (std::size_t i = 0; i < m.size(); i += 8) {
        co_await sleep(0.0005);
        co_await sock_sendall(*s, m.substr(i, 8));
    }
    s->shutdown(SHUT_WR);
}

// ---- sock_recv / sock_recv_into ------------------------------------------------

template <bool Into>
struct RecvCase : Case {
    Socket mine, peer;
    std::string got, rest;
    Task<void> sender;
    RecvCase() {
        auto [a, b] = Socket::pair();
        mine = std::move(a);
        peer = std::move(b);
    }
    void start() override { sender = create_task(send_slowly(&peer)); }
    Coro<void> victim() override {
        for (;;) {
            std::string s;
            if constexpr (Into) {
                std::array<char, 5> buf{};
                std::size_t n = co_await sock_recv_into(mine, std::span<char>(buf));
                s.assign(buf.data(), n);
            } else {
                s = co_await sock_recv(mine, 5);
            }
            if (s.empty()) break;
            got += s;
        }
    }
    Coro<void> settle() override {
        co_await settle_task(sender);
        rest = co_await test::recv_until_eof(mine);  // what the socket still gives
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(got, message());
        }
        EXPECT_EQ(got + rest, message()) << "a cancelled receive lost or duplicated bytes";
    }
};

TEST_F(NetCancelTorture, SockRecv) { torture<RecvCase<false>>(loop(), "sock_recv", test::torture::real_time()); }
TEST_F(NetCancelTorture, SockRecvInto) {
    torture<RecvCase<true>>(loop(), "sock_recv_into", test::torture::real_time());
}

// ---- sock_sendall ----------------------------------------------------------------

constexpr std::size_t kSendBytes = 256 * 1024;

struct SendallCase : Case {
    Socket mine, peer;
    std::string data = test::pattern(0, kSendBytes);
    std::string received;
    bool sent = false;
    Task<std::string> receiver;
    SendallCase() {
        auto [a, b] = Socket::pair();
        a.setsockopt(SOL_SOCKET, SO_SNDBUF, 16 * 1024);
        b.setsockopt(SOL_SOCKET, SO_RCVBUF, 16 * 1024);
        mine = std::move(a);
        peer = std::move(b);
    }
    void start() override { receiver = create_task(test::recv_until_eof(peer)); }
    Coro<void> victim() override {
        co_await sock_sendall(mine, data);
        sent = true;
    }
    Coro<void> settle() override {
        mine.shutdown(SHUT_WR);
        received = co_await receiver;
    }
    void check(const RunInfo& r) override {
        // Cancelled: a prefix of the data went out, in order, nothing else.
        EXPECT_LE(received.size(), data.size());
        EXPECT_TRUE(received == data.substr(0, received.size())) << "sock_sendall sent bytes out of order";
        if (r.completed()) {
            EXPECT_EQ(received.size(), data.size());
        }
        if (r.k == 0) {
            EXPECT_TRUE(received.empty());
        }
    }
};

TEST_F(NetCancelTorture, SockSendall) { torture<SendallCase>(loop(), "sock_sendall", test::torture::real_time()); }

// ---- sock_accept -----------------------------------------------------------------

struct AcceptCase : Case {
    Socket lsock;
    std::optional<Socket> client;
    int accepted_by_victim = 0, accepted_later = 0;
    Task<void> connector;
    AcceptCase() : lsock(test::listener()) {}
    void start() override {
        connector = create_task([](Socket* l, std::optional<Socket>* c) -> Coro<void> {
            co_await sleep(0.003);
            Socket s = Socket::create(AF_INET);
            co_await sock_connect(s, l->getsockname());
            *c = std::move(s);
        }(&lsock, &client));
    }
    Coro<void> victim() override {
        auto [conn, addr] = co_await sock_accept(lsock);
        ++accepted_by_victim;
        co_await sleep(0);
    }
    Coro<void> settle() override {
        co_await settle_task(connector);
        if (accepted_by_victim == 0) {
            // The connection the cancelled accept did not take waits in the backlog.
            auto accepted = co_await sock_accept(lsock);
            ++accepted_later;
        }
    }
    void check(const RunInfo& r) override {
        EXPECT_TRUE(client.has_value());
        EXPECT_EQ(accepted_by_victim + accepted_later, 1) << "a cancelled sock_accept lost the connection";
        if (r.completed()) {
            EXPECT_EQ(accepted_by_victim, 1);
        }
    }
};

TEST_F(NetCancelTorture, SockAccept) { torture<AcceptCase>(loop(), "sock_accept", test::torture::real_time()); }

// ---- sock_connect ----------------------------------------------------------------

struct ConnectCase : Case {
    Socket lsock;
    Socket s = Socket::create(AF_INET);
    bool connected = false;
    int accepted = 0;
    ConnectCase() : lsock(test::listener()) {}
    Coro<void> victim() override {
        co_await sock_connect(s, lsock.getsockname());
        connected = true;
        co_await sock_sendall(s, "x");
    }
    Coro<void> settle() override {
        s.close();  // a cancelled connect leaves the socket unspecified: close it
        if (connected) {
            auto [conn, addr] = co_await sock_accept(lsock);
            ++accepted;
            std::string got = co_await test::recv_until_eof(conn);
            EXPECT_EQ(got, "x");
        }
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(accepted, 1);
        }
    }
};

TEST_F(NetCancelTorture, SockConnect) { torture<ConnectCase>(loop(), "sock_connect", test::torture::real_time()); }

// ---- create_connection / create_datagram_endpoint ----------------------------------
// Cancelled after the transport was made but before the caller got it (the
// one-iteration yield that lets connection_made run), the transport must be
// closed, not left open on the loop (asyncio closes it there too). Before the
// fix its socket stayed open for the loop's life: the harness's fd check.

// Accepts, without waiting, every connection already queued on l; their fds
// go to *out (kept open: a peer that closes would end the client by EOF).
void drain_backlog(Socket& l, std::vector<int>* out) {
    for (;;) {
        int fd = ::accept4(l.fileno(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        out->push_back(fd);
    }
}

// Keeps its transport until connection_lost, as asyncio protocols do
// (self.transport = transport): an orphaned transport then stays open.
struct KeepingProtocol : Protocol {
    explicit KeepingProtocol(int* made, int* lost) : made(made), lost(lost) {}
    void connection_made(Transport& t) override {
        ++*made;
        transport = Ref<Transport>(&t);
    }
    void connection_lost(std::exception_ptr) override {
        ++*lost;
        transport = Ref<Transport>();
    }
    int* made;
    int* lost;
    Ref<Transport> transport;
};

struct CreateConnectionCase : Case {
    Socket lsock;
    int made = 0, lost = 0;
    bool connected = false;
    std::vector<int> peers;
    CreateConnectionCase() : lsock(test::listener()) {}
    ~CreateConnectionCase() override {
        for (int fd : peers) ::close(fd);
    }
    Coro<void> victim() override {
        auto port = lsock.getsockname().port();
        auto [t, p] = co_await create_connection([this] { return std::make_unique<KeepingProtocol>(&made, &lost); },
                                                 "127.0.0.1", port);
        connected = true;
        EXPECT_EQ(made, 1);  // connection_made ran before the caller got the transport
        t->close();
    }
    Coro<void> settle() override {
        co_await sleep(0.002);  // the connection reaches the listener's backlog
        drain_backlog(lsock, &peers);
        co_await sleep(0);  // connection_lost of a closed transport
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(connected);
        }
        EXPECT_EQ(lost, made);  // closed, whether the caller got the transport or not
    }
};

TEST_F(NetCancelTorture, CreateConnection) {
    torture<CreateConnectionCase>(loop(), "create_connection", test::torture::real_time());
}

// Keeps its transport, as asyncio protocols do (self.transport = transport),
// until connection_lost: an orphaned transport then stays open.
struct DatagramProtocolStub : DatagramProtocol {
    explicit DatagramProtocolStub(int* lost) : lost(lost) {}
    void connection_made(DatagramTransport& t) override { transport = Ref<DatagramTransport>(&t); }
    void connection_lost(std::exception_ptr) override {
        ++*lost;
        transport = Ref<DatagramTransport>();
    }
    int* lost;
    Ref<DatagramTransport> transport;
};

struct DatagramEndpointCase : Case {
    int lost = 0;
    bool made = false;
    Coro<void> victim() override {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto [t, p] =
            co_await create_datagram_endpoint([this] { return std::make_unique<DatagramProtocolStub>(&lost); }, o);
        made = true;
        t->close();
    }
    Coro<void> settle() override { co_await sleep(0); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(made);
        }
    }
};

TEST_F(NetCancelTorture, CreateDatagramEndpoint) {
    torture<DatagramEndpointCase>(loop(), "create_datagram_endpoint", test::torture::real_time());
}

}  // namespace

}  // namespace net_cancel_torture_test
