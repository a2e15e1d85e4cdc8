// src/core/sys.hpp — the syscall seam (internal). Every raw syscall that can
// fail on a peer's or the kernel's account goes through here, so tests can
// inject EINTR, EAGAIN, short I/O, ECONNRESET, EMFILE... via a hook.
#pragma once

#include <spawn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
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

// A test knob: when non-zero, the byte-stream calls below (recv, send, writev,
// read, write, sendfile) move at most this many bytes per call, as a slow
// peer or a full buffer makes them do (short I/O). Datagram calls are exempt.
extern unsigned long io_limit;

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
// read(2) and write(2) on pipes and eventfds; write without SIGPIPE (a pipe's
// reader going away is EPIPE, not the end of the process).
long read(int fd, void* buf, unsigned long len);
long write(int fd, const void* buf, unsigned long len);
// The fd-creating calls (the hook's EMFILE reaches them).
int socket(int domain, int type, int protocol);
int socketpair(int domain, int type, int protocol, int sv[2]);
int pipe2(int fds[2], int flags);
int pidfd_open(pid_t pid);
// posix_spawnp: returns 0 or an error number, as posix_spawnp does (an
// injected fault is returned, not put in errno).
int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr,
                 char* const argv[], char* const envp[]);

}  // namespace tulip::detail::sys
