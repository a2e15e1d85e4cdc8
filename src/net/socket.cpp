#include <tulip/net/socket.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <tulip/core/exceptions.hpp>

#include "../core/sys.hpp"

namespace tulip {

Socket::Socket(int fd) : fd_(fd) {
    if (fd < 0) throw std::invalid_argument("Socket: invalid file descriptor " + std::to_string(fd));
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int err = errno;
        fd_ = -1;
        throw_os_error(err, "Socket: fcntl on fd " + std::to_string(fd));
    }
}

Socket Socket::create(int family, int type, int protocol) {
    int fd = detail::sys::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) throw_os_error(errno, "socket()");
    Socket s;
    s.fd_ = fd;
    return s;
}

std::pair<Socket, Socket> Socket::pair(int type) {
    int fds[2];
    if (detail::sys::socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        throw_os_error(errno, "socketpair()");
    Socket a, b;
    a.fd_ = fds[0];
    b.fd_ = fds[1];
    return {std::move(a), std::move(b)};
}

void Socket::close() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void Socket::bind(const SocketAddress& addr) {
    if (::bind(fd_, addr.data(), addr.size()) < 0) throw_os_error(errno, "bind(" + addr.to_string() + ")");
}

void Socket::listen(int backlog) {
    if (::listen(fd_, backlog) < 0) throw_os_error(errno, "listen()");
}

void Socket::shutdown(int how) {
    if (::shutdown(fd_, how) < 0) throw_os_error(errno, "shutdown()");
}

namespace {
// getsockname(2) and getpeername(2) share one signature and one way to fail.
SocketAddress socket_name(int fd, int (*call)(int, sockaddr*, socklen_t*), const char* what) {
    SocketAddress a;
    socklen_t n = SocketAddress::capacity();
    if (call(fd, a.data(), &n) < 0) throw_os_error(errno, what);
    a.set_size(n);
    return a;
}
}  // namespace

SocketAddress Socket::getsockname() const { return socket_name(fd_, ::getsockname, "getsockname()"); }

SocketAddress Socket::getpeername() const { return socket_name(fd_, ::getpeername, "getpeername()"); }

int Socket::family() const { return getsockopt(SOL_SOCKET, SO_DOMAIN); }
int Socket::type() const { return getsockopt(SOL_SOCKET, SO_TYPE); }

void Socket::setsockopt(int level, int option, int value) {
    if (::setsockopt(fd_, level, option, &value, sizeof value) < 0) throw_os_error(errno, "setsockopt()");
}

int Socket::getsockopt(int level, int option) const {
    int v = 0;
    socklen_t n = sizeof v;
    if (::getsockopt(fd_, level, option, &v, &n) < 0) throw_os_error(errno, "getsockopt()");
    return v;
}

void Socket::set_nodelay(bool on) {
    int fam = family();
    if (fam == AF_INET || fam == AF_INET6) setsockopt(IPPROTO_TCP, TCP_NODELAY, on);
}

namespace detail {
void remove_stale_unix_socket(const std::string& path) noexcept {
    if (path.empty() || path[0] == '\0') return;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
}
}  // namespace detail

}  // namespace tulip
