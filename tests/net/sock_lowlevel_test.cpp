// More of CPython's test_sock_lowlevel.py on 127.0.0.1 (the rest is in
// sock_ops_test.cpp): a cancelled sock_connect racing the listener,
// sock_recv_into on huge content, sock_recvfrom_into, sock_sendto that meets
// EAGAIN, and a sock_accept cancelled by wait_for.
#include <tulip/net/sock_ops.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../../src/core/sys.hpp"
#include "support/loop_test.hpp"

namespace net_sock_lowlevel_test {

using namespace tulip;

namespace {

class SockLowlevelTest : public test::IoLoopTest {};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('0' + i % 10);
    return s;
}

Socket udp_socket() {
    Socket s = Socket::create(AF_INET, SOCK_DGRAM);
    s.bind(SocketAddress::from_ip("127.0.0.1", 0));
    return s;
}

TEST_F(SockLowlevelTest, CancelledSockConnectBeforeListenLeavesTheSocketReconnectable) {
    run_io(([&]() -> Coro<void> {
        Socket l = Socket::create(AF_INET);
        l.bind(SocketAddress::from_ip("127.0.0.1", 0));
        SocketAddress addr = l.getsockname();
        Socket c = Socket::create(AF_INET);
        auto t = create_task(sock_connect(c, addr));
        co_await sleep(0);
        t.cancel();
        try {
            co_await t;
        } catch (const CancelledError&) {
        } catch (const std::system_error&) {
            // refused before the cancel landed: as good for this test
        }
        l.listen();
        // asyncio retries: the first attempt may still report the refusal.
        bool connected = false;
        for (int i = 0; i < 128 && !connected; ++i) {
            try {
                co_await sock_connect(c, addr);
                connected = true;
            } catch (const std::system_error&) {}
        }
        EXPECT_TRUE(connected);
    })());
}

TEST_F(SockLowlevelTest, HugeContentArrivesIntactThroughSockRecvInto) {
    run_io(([&]() -> Coro<void> {
        Socket l = Socket::create(AF_INET);
        l.bind(SocketAddress::from_ip("127.0.0.1", 0));
        l.listen();
        Socket c = Socket::create(AF_INET);
        co_await sock_connect(c, l.getsockname());
        auto accepted = co_await sock_accept(l);
        const std::string data = pattern(1'000'000);
        auto sender = create_task(sock_sendall(accepted.first, data));
        std::vector<char> buf(data.size());
        std::string got;
        while (got.size() < data.size()) {
            std::size_t n = co_await sock_recv_into(c, std::span<char>(buf));
            if (n == 0) break;
            got.append(buf.data(), n);
        }
        co_await sender;
        EXPECT_EQ(got.size(), data.size());
        EXPECT_TRUE(got == data);
    })());
}

TEST_F(SockLowlevelTest, SockRecvfromIntoFillsTheBufferAndGivesTheSender) {
    run_io(([&]() -> Coro<void> {
        Socket rx = udp_socket();
        Socket tx = udp_socket();
        std::string data(4096, '\x01');
        std::vector<char> buf(4096);
        co_await sock_sendto(tx, data, rx.getsockname());
        auto got = co_await sock_recvfrom_into(rx, std::span<char>(buf));
        EXPECT_EQ(got.first, 4096u);
        EXPECT_EQ(std::string(buf.data(), 4096), data);
        EXPECT_EQ(got.second, tx.getsockname());

        // nbytes limits the read to part of a larger buffer.
        std::vector<char> big(8192, '\0');
        co_await sock_sendto(tx, data, rx.getsockname());
        auto part = co_await sock_recvfrom_into(rx, std::span<char>(big), 100);
        EXPECT_EQ(part.first, 100u);
        EXPECT_EQ(std::string(big.data(), 100), data.substr(0, 100));
        EXPECT_EQ(big[100], '\0');
        EXPECT_EQ(part.second, tx.getsockname());

        EXPECT_THROW(co_await sock_recvfrom_into(rx, std::span<char>(buf), 5000), std::invalid_argument);
    })());
}

TEST_F(SockLowlevelTest, SockRecvfromIntoWaitsForADatagram) {
    run_io(([&]() -> Coro<void> {
        Socket rx = udp_socket();
        Socket tx = udp_socket();
        std::array<char, 64> buf{};
        auto t = create_task(sock_recvfrom_into(rx, std::span<char>(buf)));
        co_await sleep(0);
        EXPECT_FALSE(t.done());
        co_await sock_sendto(tx, "late", rx.getsockname());
        auto got = co_await t;
        EXPECT_EQ(std::string(buf.data(), got.first), "late");
    })());
}

int g_sendto_eagain = 0;
int sendto_hook(const char* name) {
    if (std::strcmp(name, "sendto") != 0 || g_sendto_eagain == 0) return 0;
    --g_sendto_eagain;
    return EAGAIN;
}

TEST_F(SockLowlevelTest, SockSendtoThatMeetsEagainWaitsAndSends) {
    run_io(([&]() -> Coro<void> {
        Socket rx = udp_socket();
        Socket tx = udp_socket();
        std::string data(4096, '\x01');
        g_sendto_eagain = 1;
        detail::sys::fault_hook = &sendto_hook;
        std::size_t n = 0;
        try {
            n = co_await sock_sendto(tx, data, rx.getsockname());
        } catch (...) {
            detail::sys::fault_hook = nullptr;
            throw;
        }
        detail::sys::fault_hook = nullptr;
        EXPECT_EQ(g_sendto_eagain, 0) << "the first sendto met EAGAIN";
        EXPECT_EQ(n, data.size());
        auto got = co_await sock_recvfrom(rx, 4096);
        EXPECT_EQ(got.first, data);
        EXPECT_EQ(got.second, tx.getsockname());
    })());
}

TEST_F(SockLowlevelTest, SockAcceptCancelledByWaitForThenTheClosedListenerRefuses) {
    run_io(([&]() -> Coro<void> {
        Socket l = Socket::create(AF_INET);
        l.bind(SocketAddress::from_ip("127.0.0.1", 0));
        l.listen(1);
        SocketAddress addr = l.getsockname();
        EXPECT_THROW(co_await wait_for(sock_accept(l), 0.1), TimeoutError);
        l.close();
        Socket c = Socket::create(AF_INET);
        EXPECT_THROW(co_await sock_connect(c, addr), ConnectionRefusedError);
    })());
}

}  // namespace

}  // namespace net_sock_lowlevel_test
