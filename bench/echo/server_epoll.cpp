// bench/echo/server_epoll.cpp — the practical limit: an echo server on a bare
// epoll loop, one thread, non-blocking sockets, written as one would in C.
//
// Level-triggered epoll. Per readiness event: one recv() into a shared
// 64 KiB buffer and one send() of what came. Only when the kernel does not
// take it all is the rest copied into a per-connection buffer; the connection
// then stops reading (EPOLLOUT only) until that is sent. So the steady state
// is one epoll_wait, one recv and one send per message, and an idle
// connection costs 24 bytes of heap.
// Usage: echo_epoll [port]; prints "PORT <n>" (see echo_common.hpp).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "echo_common.hpp"

namespace {

struct Conn {
    int fd;
    char* pending;  // bytes the kernel did not take, or null
    unsigned len, off;
};

char g_buf[echo::kReadSize];
int g_ep;

void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

void close_conn(Conn* c) {
    ::close(c->fd);  // also removes it from the epoll set
    std::free(c->pending);
    std::free(c);
}

void set_events(Conn* c, unsigned events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    if (::epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
}

// Sends buf[0, n); keeps what the kernel refuses. False: the connection is gone.
bool send_or_keep(Conn* c, const char* buf, unsigned n) {
    ssize_t w = ::send(c->fd, buf, n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
        w = 0;
    }
    if (static_cast<unsigned>(w) == n) return true;
    c->len = n - static_cast<unsigned>(w);
    c->off = 0;
    c->pending = static_cast<char*>(std::malloc(c->len));
    if (!c->pending) die("malloc");
    std::memcpy(c->pending, buf + w, c->len);
    set_events(c, EPOLLOUT);
    return true;
}

void on_readable(Conn* c) {
    ssize_t n = ::recv(c->fd, g_buf, sizeof g_buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0 || !send_or_keep(c, g_buf, static_cast<unsigned>(n))) close_conn(c);
}

void on_writable(Conn* c) {
    ssize_t w = ::send(c->fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        close_conn(c);
        return;
    }
    c->off += static_cast<unsigned>(w);
    if (c->off < c->len) return;
    std::free(c->pending);
    c->pending = nullptr;
    set_events(c, EPOLLIN);
}

void on_accept(int lfd) {
    for (;;) {
        int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return;
            die("accept4");
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Conn* c = static_cast<Conn*>(std::calloc(1, sizeof(Conn)));
        if (!c) die("calloc");
        c->fd = fd;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (::epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    }
}

}  // namespace

int main(int argc, char** argv) {
    int port = echo::port_arg(argc, argv);
    echo::raise_nofile();
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind");
    if (::listen(lfd, echo::kBacklog) < 0) die("listen");
    socklen_t len = sizeof a;
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);

    g_ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) die("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the listening socket
    if (::epoll_ctl(g_ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
    echo::announce(ntohs(a.sin_port));

    epoll_event evs[256];
    for (;;) {
        int n = ::epoll_wait(g_ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            Conn* c = static_cast<Conn*>(evs[i].data.ptr);
            if (!c)
                on_accept(lfd);
            else if (c->pending)
                on_writable(c);
            else
                on_readable(c);  // EPOLLIN, EPOLLHUP or EPOLLERR: recv() tells which
        }
    }
}
