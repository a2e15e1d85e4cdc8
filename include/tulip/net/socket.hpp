// tulip/net/socket.hpp — Socket: a non-blocking socket that owns its fd
// (Python's socket.socket with setblocking(False)).
//
// RAII: the fd is closed with the object; it is created close-on-exec and
// non-blocking. Errors throw std::system_error (the ConnectionError family
// where it applies) naming the call and, where known, the address.
#pragma once

#include <sys/socket.h>

#include <string>
#include <utility>

#include <tulip/net/address.hpp>

namespace tulip {

class Socket {
public:
    Socket() noexcept = default;
    // Adopts fd (made non-blocking and close-on-exec).
    explicit Socket(int fd);
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Socket& operator=(Socket&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { close(); }

    // socket(family, type, proto), non-blocking and close-on-exec.
    static Socket create(int family, int type = SOCK_STREAM, int protocol = 0);
    // A connected pair of AF_UNIX stream sockets (socket.socketpair()).
    static std::pair<Socket, Socket> pair(int type = SOCK_STREAM);

    int fileno() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void close() noexcept;
    // Gives up ownership of the fd.
    int detach() noexcept { return std::exchange(fd_, -1); }

    void bind(const SocketAddress& addr);
    void listen(int backlog = 100);
    void shutdown(int how);
    SocketAddress getsockname() const;
    SocketAddress getpeername() const;
    int family() const;
    int type() const;

    void setsockopt(int level, int option, int value);
    int getsockopt(int level, int option) const;
    void set_reuse_address(bool on = true) { setsockopt(SOL_SOCKET, SO_REUSEADDR, on); }
    void set_reuse_port(bool on = true) { setsockopt(SOL_SOCKET, SO_REUSEPORT, on); }
    void set_nodelay(bool on = true);
    void set_keepalive(bool on = true) { setsockopt(SOL_SOCKET, SO_KEEPALIVE, on); }
    // The pending error (SO_ERROR), cleared by reading it.
    int pending_error() const { return getsockopt(SOL_SOCKET, SO_ERROR); }

private:
    int fd_ = -1;
};

namespace detail {
// Before binding a Unix socket to path: removes a socket file left there by a
// process that is gone (asyncio does this for servers and datagram
// endpoints), never a file of another kind; nothing for abstract names.
void remove_stale_unix_socket(const std::string& path) noexcept;
}  // namespace detail

}  // namespace tulip
