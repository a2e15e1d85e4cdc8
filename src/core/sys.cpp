#include "sys.hpp"

#include <cerrno>
#include <cstddef>

namespace tulip::detail::sys {

FaultHook fault_hook = nullptr;

namespace {
inline bool inject(const char* name) {
    if (!fault_hook) return false;
    if (int err = fault_hook(name)) {
        errno = err;
        return true;
    }
    return false;
}
}  // namespace

int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout_ms) {
    if (inject("epoll_wait")) return -1;
    return ::epoll_wait(epfd, events, maxevents, timeout_ms);
}

long recv(int fd, void* buf, unsigned long len, int flags) {
    if (inject("recv")) return -1;
    return ::recv(fd, buf, len, flags);
}

long send(int fd, const void* buf, unsigned long len, int flags) {
    if (inject("send")) return -1;
    return ::send(fd, buf, len, flags | MSG_NOSIGNAL);
}

long writev(int fd, const struct iovec* iov, int iovcnt) {
    if (inject("writev")) return -1;
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov);
    m.msg_iovlen = static_cast<std::size_t>(iovcnt);
    return ::sendmsg(fd, &m, MSG_NOSIGNAL);  // sendmsg: no SIGPIPE, unlike writev
}

long recvfrom(int fd, void* buf, unsigned long len, int flags, struct sockaddr* addr, unsigned* addrlen) {
    if (inject("recvfrom")) return -1;
    return ::recvfrom(fd, buf, len, flags, addr, addrlen);
}

long sendto(int fd, const void* buf, unsigned long len, int flags, const struct sockaddr* addr, unsigned addrlen) {
    if (inject("sendto")) return -1;
    return ::sendto(fd, buf, len, flags | MSG_NOSIGNAL, addr, addrlen);
}

int accept4(int fd, struct sockaddr* addr, unsigned* addrlen, int flags) {
    if (inject("accept4")) return -1;
    return ::accept4(fd, addr, addrlen, flags);
}

int connect(int fd, const struct sockaddr* addr, unsigned addrlen) {
    if (inject("connect")) return -1;
    return ::connect(fd, addr, addrlen);
}

}  // namespace tulip::detail::sys
