#include "sys.hpp"

#include <signal.h>
#include <sys/sendfile.h>
#include <time.h>

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

int injected(const char* name) { return fault_hook ? fault_hook(name) : 0; }

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

long sendfile(int out_fd, int in_fd, long* offset, unsigned long count) {
    if (inject("sendfile")) return -1;
    // A peer that closed makes sendfile raise SIGPIPE, which kills a C++
    // program (Python ignores it). Where the program ignores it too (nginx,
    // Python and Rust programs do) the kernel discards it: one query instead
    // of the three calls below. (A disposition changed by another thread
    // between the query and the call is not guarded against.)
    struct sigaction sa {};
    if (::sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) {
        off_t off = *offset;
        long r = ::sendfile(out_fd, in_fd, &off, count);
        *offset = off;
        return r;
    }
    // Otherwise block it on this thread for the call and consume one it
    // raised, unless it was already pending before.
    sigset_t pipe, old, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    off_t off = *offset;
    long r = ::sendfile(out_fd, in_fd, &off, count);
    int err = errno;
    *offset = off;
    if (r < 0 && err == EPIPE && !was_pending) {
        timespec zero{};
        while (sigtimedwait(&pipe, nullptr, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return r;
}

}  // namespace tulip::detail::sys
