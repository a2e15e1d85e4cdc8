// src/core/sys.hpp — the syscall seam (internal). Every raw syscall that can
// fail on a peer's or the kernel's account goes through here, so tests can
// inject EINTR, EAGAIN, short I/O, ECONNRESET, EMFILE... via a hook.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace tulip::detail::sys {

// A test hook: when set, called before each syscall with its name; a non-zero
// return is taken as that errno and the syscall is not made.
using FaultHook = int (*)(const char* syscall_name);
extern FaultHook fault_hook;

// The errno the hook injects for a call named `name`, or 0: for I/O done
// without a syscall of ours (io_uring's receives), so that injected faults
// reach the same code.
int injected(const char* name);

int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout_ms);
long recv(int fd, void* buf, unsigned long len, int flags);
long send(int fd, const void* buf, unsigned long len, int flags);
long writev(int fd, const struct iovec* iov, int iovcnt);
long recvfrom(int fd, void* buf, unsigned long len, int flags, struct sockaddr* addr, unsigned* addrlen);
long sendto(int fd, const void* buf, unsigned long len, int flags, const struct sockaddr* addr, unsigned addrlen);
int accept4(int fd, struct sockaddr* addr, unsigned* addrlen, int flags);
int connect(int fd, const struct sockaddr* addr, unsigned addrlen);
// sendfile(2) to a socket, without SIGPIPE (sendfile has no MSG_NOSIGNAL).
long sendfile(int out_fd, int in_fd, long* offset, unsigned long count);

}  // namespace tulip::detail::sys
