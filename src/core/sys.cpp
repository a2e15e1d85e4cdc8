#include "sys.hpp"

#include <signal.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace tulip::detail::sys {

FaultHook fault_hook = nullptr;
unsigned long io_limit = 0;

namespace {
inline bool inject(const char* name) {
    if (!fault_hook) return false;
    if (int err = fault_hook(name)) {
        errno = err;
        return true;
    }
    return false;
}

inline unsigned long limited(unsigned long len) { return io_limit != 0 && len > io_limit ? io_limit : len; }

// For recv and send, which datagram sockets use too: a datagram is never cut.
inline unsigned long limited_on(int fd, unsigned long len) {
    if (io_limit == 0 || len <= io_limit) return len;
    int type = 0;
    socklen_t tl = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type != SOCK_STREAM) return len;
    return io_limit;
}

// Runs call() (a write to a pipe or a socket that may raise SIGPIPE) so that
// a reader that went away gives EPIPE and no signal: a C++ program dies of
// SIGPIPE (Python ignores it). Where the program ignores it too (nginx,
// Python and Rust programs do) the kernel discards it: one query instead of
// the three calls below. (A disposition changed by another thread between the
// query and the call is not guarded against.) Otherwise SIGPIPE is blocked on
// this thread for the call and one it raised consumed, unless it was already
// pending before (whatever the call returned).
template <class F>
long without_sigpipe(F call) {
    struct sigaction sa {};
    if (::sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) return call();
    sigset_t pipe, old, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    long r = call();
    int err = errno;
    // Not only on EPIPE: a sendfile that sent part of its block before the
    // peer went away returns that count and raises SIGPIPE all the same.
    if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        timespec zero{};
        while (sigtimedwait(&pipe, nullptr, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return r;
}
}  // namespace

int injected(const char* name) { return fault_hook ? fault_hook(name) : 0; }

int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout_ms) {
    if (inject("epoll_wait")) return -1;
    return ::epoll_wait(epfd, events, maxevents, timeout_ms);
}

long recv(int fd, void* buf, unsigned long len, int flags) {
    if (inject("recv")) return -1;
    return ::recv(fd, buf, limited_on(fd, len), flags);
}

long send(int fd, const void* buf, unsigned long len, int flags) {
    if (inject("send")) return -1;
    return ::send(fd, buf, limited_on(fd, len), flags | MSG_NOSIGNAL);
}

long writev(int fd, const struct iovec* iov, int iovcnt) {
    if (inject("writev")) return -1;
    if (io_limit != 0) {  // short I/O: part of the first non-empty buffer
        for (int i = 0; i < iovcnt; ++i)
            if (iov[i].iov_len != 0) return ::send(fd, iov[i].iov_base, limited(iov[i].iov_len), MSG_NOSIGNAL);
    }
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
    // sendfile has no MSG_NOSIGNAL.
    return without_sigpipe([&]() -> long {
        off_t off = *offset;
        long r = ::sendfile(out_fd, in_fd, &off, limited(count));
        *offset = off;
        return r;
    });
}

long read(int fd, void* buf, unsigned long len) {
    if (inject("read")) return -1;
    return ::read(fd, buf, limited(len));
}

long write(int fd, const void* buf, unsigned long len) {
    if (inject("write")) return -1;
    return without_sigpipe([&]() -> long { return ::write(fd, buf, limited(len)); });
}

int socket(int domain, int type, int protocol) {
    if (inject("socket")) return -1;
    return ::socket(domain, type, protocol);
}

int socketpair(int domain, int type, int protocol, int sv[2]) {
    if (inject("socketpair")) return -1;
    return ::socketpair(domain, type, protocol, sv);
}

int pipe2(int fds[2], int flags) {
    if (inject("pipe2")) return -1;
    return ::pipe2(fds, flags);
}

int pidfd_open(pid_t pid) {
    if (inject("pidfd_open")) return -1;
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr,
                 char* const argv[], char* const envp[]) {
    if (fault_hook) {
        if (int err = fault_hook("posix_spawn")) return err;
    }
    return ::posix_spawnp(pid, file, actions, attr, argv, envp);
}

}  // namespace tulip::detail::sys
