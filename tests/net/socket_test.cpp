// Tests of Socket: RAII ownership of the fd, non-blocking close-on-exec
// creation, adoption of foreign fds, bind/listen/names and options (Python's
// socket.socket as asyncio uses it: setblocking(False), setsockopt, ...).
#include <tulip/net/socket.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "support/loop_test.hpp"

namespace net_socket_test {

using namespace tulip;

namespace {

class SocketTest : public test::LoopTest {};

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }
bool is_nonblocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }
bool is_cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

TEST_F(SocketTest, CreatedSocketIsNonBlockingAndCloseOnExec) {
    Socket s = Socket::create(AF_INET);
    ASSERT_TRUE(s.is_open());
    EXPECT_TRUE(static_cast<bool>(s));
    EXPECT_TRUE(is_nonblocking(s.fileno()));
    EXPECT_TRUE(is_cloexec(s.fileno()));
    EXPECT_EQ(s.family(), AF_INET);
    EXPECT_EQ(s.type(), SOCK_STREAM);
}

TEST_F(SocketTest, DatagramAndUnixSocketsReportTheirFamilyAndType) {
    Socket u = Socket::create(AF_INET, SOCK_DGRAM);
    EXPECT_EQ(u.type(), SOCK_DGRAM);
    Socket x = Socket::create(AF_UNIX, SOCK_STREAM);
    EXPECT_EQ(x.family(), AF_UNIX);
}

TEST_F(SocketTest, DestructorClosesTheFd) {
    int fd;
    {
        Socket s = Socket::create(AF_INET);
        fd = s.fileno();
        EXPECT_TRUE(fd_is_open(fd));
    }
    EXPECT_FALSE(fd_is_open(fd));
}

TEST_F(SocketTest, CloseIsIdempotentAndLeavesAnEmptySocket) {
    Socket s = Socket::create(AF_INET);
    int fd = s.fileno();
    s.close();
    EXPECT_FALSE(s.is_open());
    EXPECT_EQ(s.fileno(), -1);
    EXPECT_FALSE(fd_is_open(fd));
    s.close();  // no-op
    EXPECT_FALSE(s.is_open());
}

TEST_F(SocketTest, MoveTransfersOwnershipAndMoveAssignmentClosesThePreviousFd) {
    Socket a = Socket::create(AF_INET);
    int fa = a.fileno();
    Socket b(std::move(a));
    EXPECT_FALSE(a.is_open());  // moved-from is empty by contract
    EXPECT_EQ(b.fileno(), fa);

    Socket c = Socket::create(AF_INET);
    int fc = c.fileno();
    c = std::move(b);
    EXPECT_EQ(c.fileno(), fa);
    EXPECT_FALSE(fd_is_open(fc)) << "move assignment must close the fd it replaces";
    EXPECT_TRUE(fd_is_open(fa));
}

TEST_F(SocketTest, DetachGivesUpOwnership) {
    int fd;
    {
        Socket s = Socket::create(AF_INET);
        fd = s.detach();
        EXPECT_FALSE(s.is_open());
    }
    EXPECT_TRUE(fd_is_open(fd));
    ::close(fd);
}

TEST_F(SocketTest, AdoptedFdIsMadeNonBlockingAndCloseOnExec) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // blocking, inheritable
    ASSERT_GE(fd, 0);
    ASSERT_FALSE(is_nonblocking(fd));
    Socket s(fd);
    EXPECT_EQ(s.fileno(), fd);
    EXPECT_TRUE(is_nonblocking(fd));
    EXPECT_TRUE(is_cloexec(fd));
}

TEST_F(SocketTest, AdoptingAnInvalidFdThrows) {
    EXPECT_THROW(Socket(-1), std::invalid_argument);
    // A closed fd number fails in fcntl: std::system_error with EBADF.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    ::close(fd);
    try {
        Socket s(fd);
        ADD_FAILURE() << "adopted a closed fd";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EBADF);
    }
}

TEST_F(SocketTest, PairIsConnectedBothWays) {
    auto [a, b] = Socket::pair();
    EXPECT_TRUE(is_nonblocking(a.fileno()));
    EXPECT_TRUE(is_cloexec(b.fileno()));
    ASSERT_EQ(::send(a.fileno(), "ping", 4, 0), 4);
    char buf[8] = {};
    ASSERT_EQ(::recv(b.fileno(), buf, sizeof buf, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "ping");
    ASSERT_EQ(::send(b.fileno(), "pong", 4, 0), 4);
    ASSERT_EQ(::recv(a.fileno(), buf, sizeof buf, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "pong");
    // Non-blocking: nothing more to read is EAGAIN, not a hang.
    EXPECT_EQ(::recv(a.fileno(), buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
}

TEST_F(SocketTest, DatagramPairKeepsMessageBoundaries) {
    auto [a, b] = Socket::pair(SOCK_DGRAM);
    ASSERT_EQ(::send(a.fileno(), "one", 3, 0), 3);
    ASSERT_EQ(::send(a.fileno(), "three", 5, 0), 5);
    char buf[16];
    EXPECT_EQ(::recv(b.fileno(), buf, sizeof buf, 0), 3);
    EXPECT_EQ(::recv(b.fileno(), buf, sizeof buf, 0), 5);
}

TEST_F(SocketTest, BindToPortZeroGetsAPortAndListenAcceptsConnections) {
    Socket l = Socket::create(AF_INET);
    l.bind(SocketAddress::from_ip("127.0.0.1", 0));
    l.listen(4);
    SocketAddress addr = l.getsockname();
    EXPECT_NE(addr.port(), 0);
    EXPECT_EQ(l.getsockopt(SOL_SOCKET, SO_ACCEPTCONN), 1);

    Socket c = Socket::create(AF_INET);
    int r = ::connect(c.fileno(), addr.data(), addr.size());
    EXPECT_TRUE(r == 0 || errno == EINPROGRESS) << std::strerror(errno);
}

TEST_F(SocketTest, BindingAnAddressInUseThrowsNamingTheAddress) {
    Socket a = Socket::create(AF_INET);
    a.bind(SocketAddress::from_ip("127.0.0.1", 0));
    a.listen();
    SocketAddress taken = a.getsockname();
    Socket b = Socket::create(AF_INET);
    try {
        b.bind(taken);
        ADD_FAILURE() << "bound an address in use";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EADDRINUSE);
        EXPECT_NE(std::string(e.what()).find(taken.to_string()), std::string::npos) << e.what();
    }
}

TEST_F(SocketTest, GetpeernameOfAnUnconnectedSocketThrowsENOTCONN) {
    Socket s = Socket::create(AF_INET);
    try {
        s.getpeername();
        ADD_FAILURE() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOTCONN);
    }
}

TEST_F(SocketTest, ShutdownOfAnUnconnectedSocketThrows) {
    Socket s = Socket::create(AF_INET);
    EXPECT_THROW(s.shutdown(SHUT_RDWR), std::system_error);
}

TEST_F(SocketTest, OptionsRoundTripThroughTheKernel) {
    Socket s = Socket::create(AF_INET);
    s.set_reuse_address(true);
    EXPECT_NE(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
    s.set_reuse_address(false);
    EXPECT_EQ(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
    s.set_reuse_port(true);
    EXPECT_NE(s.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
    s.set_keepalive(true);
    EXPECT_NE(s.getsockopt(SOL_SOCKET, SO_KEEPALIVE), 0);
    s.set_nodelay(true);
    EXPECT_NE(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
    s.set_nodelay(false);
    EXPECT_EQ(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
    EXPECT_EQ(s.pending_error(), 0);
}

TEST_F(SocketTest, NodelayOnAUnixSocketIsQuietlyIgnored) {
    auto [a, b] = Socket::pair();
    EXPECT_NO_THROW(a.set_nodelay(true));
}

TEST_F(SocketTest, InvalidOptionThrowsSystemError) {
    Socket s = Socket::create(AF_INET);
    EXPECT_THROW(s.setsockopt(SOL_SOCKET, 123456, 1), std::system_error);
    EXPECT_THROW(s.getsockopt(SOL_SOCKET, 123456), std::system_error);
}

TEST_F(SocketTest, UnsupportedFamilyThrowsSystemError) {
    try {
        Socket::create(12345);
        ADD_FAILURE() << "created a socket of a bogus family";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EAFNOSUPPORT);
    }
}

}  // namespace

}  // namespace net_socket_test
